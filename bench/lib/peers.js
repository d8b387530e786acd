// 6. Side by side with the peers (issue 16): ig (json, columns), opensnoop from Debian's libbpf-tools (C,
// libbpf, perf buffer) and bpftrace, each tracing openat of one process, printing every event into the
// same pipe (the C sink), on the same workloads, runs alternating tool by tool:
//  - first event: the tool's exec (bench/baseline/execstamp.c) → the first line about a probe file
//    the process opens every 2 ms, as the sink reads it;
//  - tight loop: 200,000 open+close as fast as one thread goes: slowdown against the untraced loop,
//    share of its events delivered, events/s, peak RSS;
//  - paced ladder (ig): 50k/100k/200k/400k opens/s, events lost at each rung; then 400k events/s of
//    trace_open's records from bench_emit_open (8 per getppid at 50k calls/s), since one thread opening
//    a file cannot reach 400k/s here once traced (~3 µs an open+close untraced, ~4 µs traced).
import { existsSync } from 'node:fs';
import { igCommand } from './setup.js';
import { startPiped } from './pipe.js';
import { lineReader, median, run, sleep, start, stop } from './procs.js';

const COUNT = 200_000;
const LADDER = [50_000, 100_000, 200_000, 400_000];
/** The ladder's last rung again as records emitted in the kernel, PER_CALL per getppid of the load. */
const EMIT_RATE = 400_000;
const PER_CALL = 8;
/** A pause before each traced run, for the previous process's exit and the kernel's freeing of its programs and buffers. */
const SETTLE_MS = 300;

const bpftraceProgram = (pid) =>
  `tracepoint:syscalls:sys_enter_openat /pid == ${pid}/ { printf("%d %s %d %s\\n", pid, comm, args->flags, str(args->filename)); }`;

/** Each tool's command for one traced pid (line-buffered where the tool uses stdio, as a user piping it would get). */
const TOOLS = {
  'ig json': (ctx, pid) => igCommand('run', 'trace_open', '-o', 'json', '--pid', String(pid)),
  'ig columns': (ctx, pid) => igCommand('run', 'trace_open', '--pid', String(pid)),
  opensnoop: (ctx, pid) => ['stdbuf', ['-oL', '/usr/sbin/opensnoop', '-p', String(pid)]],
  bpftrace: (ctx, pid) => ['bpftrace', ['-e', bpftraceProgram(pid)]],
};

function available(tool) {
  if (tool === 'opensnoop') return existsSync('/usr/sbin/opensnoop');
  if (tool === 'bpftrace') return existsSync('/usr/bin/bpftrace');
  return true;
}

/**
 * ig on bench_emit_open's records, as many as the opens of a rung would make. The load's probe is a
 * getppid every 2 ms from a second thread, so the marker (the load's main thread as tid) counts only
 * the rung's records; columns show TID in PID's place for it.
 */
const EMIT_TOOLS = {
  'ig json': (ctx, pid) => ({
    command: igCommand('run', 'bench_emit_open', '-o', 'json', '--target-pid', String(pid), '--per-call', String(PER_CALL)),
    marker: `"tid":${pid},`,
  }),
  'ig columns': (ctx, pid) => ({
    command: igCommand('run', 'bench_emit_open', '--target-pid', String(pid), '--per-call', String(PER_CALL),
      '--fields', 'runtime.containerName,mntns_id,tid,uid,gid,comm,fd,error,fname'),
    marker: ` ${pid} `,
  }),
};

/**
 * One traced run: the load waits (opening the probe file every 2 ms) until the tool shows its first
 * event, then does `mode args`. Returns the first-event time, the load's own report, what arrived.
 * `emit`: the tool runs bench_emit_open instead (EMIT_TOOLS) and the load probes with getppid.
 */
async function traced(ctx, tool, loadArgs, emit = false) {
  const probe = emit ? ['--probe-getppid'] : ['--probe', ctx.probe];
  const load = start(ctx.load, ['--wait', ...probe, ...loadArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
  const loadOut = lineReader(load.stdout);
  const e = emit ? EMIT_TOOLS[tool](ctx, load.pid) : undefined;
  const [cmd, args] = e ? e.command : TOOLS[tool](ctx, load.pid);
  const sinkArgs = e ? ['--ready', 'libbench-emit', '--marker', e.marker] : ['--ready', 'igbench-probe', '--marker', 'igbench-target'];
  const pipe = startPiped(ctx, ctx.execstamp, [cmd, ...args], { env: ctx.env, sinkArgs });
  let done, firstSecs;
  try {
    const first = await pipe.sinkOut.waitFor('first', 30_000);
    if (!first) throw new Error(`${tool} showed no event within 30 s: ${pipe.producer.stderrText?.slice(-500)}`);
    // "first SECS_SINCE_SINK_START MONOTONIC_SECS", against the clock's time of the exec
    const at = Number(/ig-bench-exec-at ([\d.]+)/.exec(pipe.producer.stderrText ?? '')?.[1]);
    firstSecs = Number(first.split(' ')[2]) - at;
    if (!Number.isFinite(firstSecs)) throw new Error(`${tool}: no exec time from execstamp (${pipe.producer.stderrText?.slice(0, 200)})`);
    load.stdin.write('go\n');
    done = await loadOut.waitFor('done', 120_000);
    await sleep(500); // readers drain every few ms: let the tail arrive
  } finally {
    await stop(load, 'SIGTERM');
    var end = await pipe.finish('SIGINT');
  }
  const calls = Number(/calls=(\d+)/.exec(done ?? '')?.[1] ?? NaN);
  const secs = Number(/secs=([\d.]+)/.exec(done ?? '')?.[1] ?? NaN);
  return { tool, firstMs: firstSecs * 1000, calls, secs, delivered: end.markers, lostTotal: end.lostTotal, peakRssBytes: end.rss };
}

export async function peers(ctx, opts, log) {
  // 5 rounds: on these shared cores one tool's loop swings ±30 % from run to run; the median of 5 moves less
  const rounds = opts.quick ? 1 : 5;
  const tools = Object.keys(TOOLS).filter(available);
  for (const t of Object.keys(TOOLS)) if (!available(t)) log(`peers: ${t} is not installed (apt-get install libbpf-tools bpftrace); its rows are skipped`);
  const out = { count: COUNT, rounds, untraced: [], loop: [], ladder: [] };
  const untracedLoop = async () => Number(/secs=([\d.]+)/.exec(await run(ctx.load, ['openloop', String(COUNT), ctx.target]))[1]);
  for (let i = 0; i < 3; i++) out.untraced.push(await untracedLoop());
  log(`peers: ${COUNT} open+close untraced: ${median(out.untraced).toFixed(3)} s`);
  for (let round = 0; round < rounds; round++) {
    // the untraced loop in every round too, so the baseline sees the same machine as the traced runs
    if (round > 0) out.untraced.push(await untracedLoop());
    // each round starts with the next tool: the first run after the untraced loop (and after the
    // previous round's bpftrace, whose exit frees ~100 MB and its programs) started ~30 ms later
    // than the others, which made ig json's first event look slower than ig columns' in every bench
    for (const tool of tools.map((_, i) => tools[(i + round) % tools.length])) {
      await sleep(SETTLE_MS);
      const r = await traced(ctx, tool, ['openloop', String(COUNT), ctx.target]);
      log(`peers: ${tool} (round ${round + 1}): first event ${r.firstMs.toFixed(0)} ms, loop ${r.secs.toFixed(3)} s, ` +
        `delivered ${r.delivered}/${COUNT}, peak RSS ${(r.peakRssBytes / 1048576).toFixed(0)} MB`);
      out.loop.push({ round, ...r });
    }
  }
  const secs = opts.quick ? 2 : 5;
  /** One rung's figures: `events` were sent at `rate` per second (the load's calls × what each makes). */
  const rung = (tool, rate, r, events, what, extra = {}) => {
    const lost = events - r.delivered;
    const achievedRate = events / r.secs;
    const loadBound = achievedRate < 0.9 * rate;
    log(`peers: ladder ${tool} at ${rate}/s${what}: achieved ${Math.round(achievedRate)}/s, lost ${lost} of ${events}` +
      `${loadBound ? ' (the load generator fell short of the rate)' : ''}`);
    out.ladder.push({ rate, ...extra, ...r, calls: events, achievedRate, loadBound, lost });
  };
  for (const rate of LADDER) {
    for (const tool of ['ig json', 'ig columns']) {
      const r = await traced(ctx, tool, ['open', String(rate), String(secs), ctx.target]);
      rung(tool, rate, r, r.calls, '');
    }
  }
  for (const tool of ['ig json', 'ig columns']) {
    const r = await traced(ctx, tool, ['getppid', String(secs), String(EMIT_RATE / PER_CALL)], true);
    rung(tool, EMIT_RATE, r, r.calls * PER_CALL, ` of bench_emit_open's records (${PER_CALL} per getppid)`, { emitted: true, perCall: PER_CALL });
  }
  return out;
}
