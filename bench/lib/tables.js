// 7. Tables (issue 16): what a topper costs per map fetch, and a snapshotter's whole run.
//  - top_file: `ig run top_file -o json --pid W --map-fetch-interval 500ms` against bpftrace
//    counting the same process's reads per (tid, fd) into a map it prints and clears every
//    500 ms. W is `files DIR 2000` (bench/baseline/files.c): 2,000 open files read in turn, so
//    every fetch has 2,000 rows. CPU of the tool (all its threads, /proc/PID/task/*/schedstat)
//    from its 3rd fetch to its 11th, divided by the 8 fetches; rounds alternate tool by tool.
//  - snapshot_process: `ig run snapshot_process -o json` from fork to exit, against `ps -e`,
//    alternating, after one warm-up run of each; timed by bench/baseline/timerun.c (a fork of the
//    bench's node process added ~9 ms to either).
import { readdirSync, readFileSync } from 'node:fs';
import { igCommand } from './setup.js';
import { lineReader, median, run, start, stop, tempDir } from './procs.js';

const ROWS = 2000;
const INTERVAL_MS = 500;
const WARM_FETCHES = 3;
const FETCHES = 8;

/** CPU ns the process used so far, over all its live threads. */
function cpuNs(pid) {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns;
}

const bpftraceProgram = (pid) =>
  `tracepoint:syscalls:sys_enter_pread64 /pid == ${pid}/ { @reads[tid, args->fd] = count(); }\n` +
  `interval:ms:${INTERVAL_MS} { print(@reads); clear(@reads); printf("igbench-fetch\\n"); }`;

const TOOLS = {
  'ig top_file': (ctx, pid) => igCommand('run', 'top_file', '-o', 'json', '--pid', String(pid), '--map-fetch-interval', `${INTERVAL_MS}ms`),
  bpftrace: (ctx, pid) => ['bpftrace', ['-e', bpftraceProgram(pid)]],
};
/** a line that ends one fetch's output */
const isFetch = { 'ig top_file': (l) => l.startsWith('['), bpftrace: (l) => l === 'igbench-fetch' };

async function cpuPerFetch(ctx, tool, files) {
  const [cmd, args] = TOOLS[tool](ctx, files.pid);
  const p = start(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: ctx.env, cwd: ctx.root });
  let fetches = 0;
  let rows = 0;
  let from, to;
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${tool}: ${fetches} fetches in 60 s: ${p.stderrText?.slice(-500)}`)), 60_000);
      let buf = '';
      p.stdout.setEncoding('utf8');
      p.stdout.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (tool === 'bpftrace' && line.startsWith('@reads[')) rows++;
          if (!isFetch[tool](line)) continue;
          if (tool !== 'bpftrace') rows += line.split('"pid":').length - 1;
          fetches++;
          if (fetches === WARM_FETCHES) from = { ns: cpuNs(p.pid), rows };
          if (fetches === WARM_FETCHES + FETCHES) {
            to = { ns: cpuNs(p.pid), rows };
            clearTimeout(timer);
            resolve();
          }
        }
      });
      p.exited.then((r) => {
        clearTimeout(timer);
        reject(new Error(`${tool} exited (${r.code ?? r.signal}) after ${fetches} fetches: ${p.stderrText?.slice(-500)}`));
      });
    });
  } finally {
    await stop(p, 'SIGINT');
  }
  return { tool, cpuMsPerFetch: (to.ns - from.ns) / 1e6 / FETCHES, rowsPerFetch: (to.rows - from.rows) / FETCHES };
}

async function wholeRun(timerun, cmd, args, env, root) {
  return Number(await run(timerun, [cmd, ...args], { env, cwd: root }));
}

export async function tables(ctx, opts, log) {
  const rounds = opts.quick ? 1 : 3;
  const out = { rows: ROWS, intervalMs: INTERVAL_MS, topFile: [], snapshot: { ig: [], ps: [] } };
  const dir = tempDir('ig-bench-files-');
  const files = start(ctx.files, [dir, String(ROWS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    if (!(await lineReader(files.stdout).waitFor('ready', 30_000))) throw new Error('the files workload did not start');
    for (let round = 0; round < rounds; round++) {
      for (const tool of Object.keys(TOOLS)) {
        const r = await cpuPerFetch(ctx, tool, files);
        log(`tables: ${tool} (round ${round + 1}): ${r.cpuMsPerFetch.toFixed(1)} ms CPU per fetch of ${Math.round(r.rowsPerFetch)} rows`);
        out.topFile.push({ round, ...r });
      }
    }
  } finally {
    await stop(files, 'SIGTERM');
  }
  const trials = opts.quick ? 3 : 7;
  const ig = () => wholeRun(ctx.timerun, ...igCommand('run', 'snapshot_process', '-o', 'json'), ctx.env, ctx.root);
  const ps = () => wholeRun(ctx.timerun, 'ps', ['-e'], ctx.env, ctx.root);
  await ig();
  await ps();
  for (let i = 0; i < trials; i++) {
    out.snapshot.ig.push(await ig());
    out.snapshot.ps.push(await ps());
  }
  log(`tables: snapshot_process whole run ${out.snapshot.ig.map((x) => x.toFixed(0)).join(', ')} ms; ps -e ${out.snapshot.ps.map((x) => x.toFixed(0)).join(', ')} ms`);
  return out;
}

/** The table's rows: top_file CPU per fetch vs bpftrace, snapshot_process whole run vs ps -e. */
export function tablesFigures(t, add) {
  if (!t) return;
  if (t.error) {
    add('tables (top_file, snapshot_process)', 'ERROR', t.error, NaN, '', false);
    return;
  }
  const mmm = (xs, f) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length ? `${f(v[0])}/${f(median(v))}/${f(v[v.length - 1])}` : 'n/a';
  };
  const per = (tool) => t.topFile.filter((r) => r.tool === tool).map((r) => r.cpuMsPerFetch);
  const ig = per('ig top_file');
  const bt = per('bpftrace');
  if (ig.length) {
    const r = bt.length ? median(ig) / median(bt) : NaN;
    add(`top_file CPU per fetch of ${t.rows} rows (min/median/max)`, `${mmm(ig, (v) => v.toFixed(1))} ms`,
      bt.length ? `bpftrace ${mmm(bt, (v) => v.toFixed(1))} ms` : 'bpftrace not run', r, '<= bpftrace', bt.length ? median(ig) <= median(bt) : undefined,
      { igValue: median(ig), baselineValue: bt.length ? median(bt) : undefined });
  }
  const s = t.snapshot;
  if (s?.ig.length) {
    add('snapshot_process whole run (min/median/max)', `${mmm(s.ig, (v) => v.toFixed(0))} ms`, `ps -e ${mmm(s.ps, (v) => v.toFixed(0))} ms`,
      median(s.ig) / median(s.ps), '<= 100 ms', median(s.ig) <= 100, { igValue: median(s.ig), baselineValue: median(s.ps) });
  }
}
