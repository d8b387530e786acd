// 5. Engine paths: what `-o columns` and a container selection (`-c NAME`, a podman container) cost
//    next to plain `-o json`, all in the same run, on trace_open-sized records (the emitter gadget,
//    64 records per getppid()). Each row is ig's events/s over a window, with the default fields of
//    its output (a user's view: json carries every field, the container's included).
import { igArgs } from './setup.js';
import { startPiped } from './pipe.js';
import { lineReader, start, stop } from './procs.js';
import { podmanAvailable, startPodman } from './podman.js';

async function window(ctx, args, ready, { warmupMs, windowMs }, loadPid, env = ctx.env) {
  const pipe = startPiped(ctx, 'node', igArgs('run', 'bench_emit_open', ...args, '--target-pid', String(loadPid), '--per-call', '64'), {
    env, sinkArgs: ['--ready', ready, '--warmup-ms', String(warmupMs), '--window-ms', String(windowMs)],
  });
  try {
    const first = await pipe.sinkOut.waitFor('first', 30_000);
    if (!first) throw new Error(`ig ${args.join(' ')} produced no event within 30 s: ${pipe.producer.stderrText?.slice(-500)}`);
    const win = await pipe.sinkOut.waitFor('window', warmupMs + windowMs + 15_000);
    if (!win) throw new Error('the sink reported no window');
    const [, n, secs] = win.split(' ').map(Number);
    return { eventsPerSec: n / secs, windowEvents: n };
  } finally {
    await pipe.finish('SIGINT');
  }
}

/** The load on the host, started on 'go' as the throughput section does. */
async function hostRun(ctx, args, ready, timing) {
  const load = start(ctx.load, ['--wait', 'getppid', '60'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = lineReader(load.stdout);
  try {
    load.stdin.write('go\n');
    return await window(ctx, args, ready, timing, load.pid);
  } finally {
    await stop(load, 'SIGTERM');
    await out.waitFor('done', 1000);
  }
}

export async function paths(ctx, opts, log) {
  const timing = opts.quick ? { warmupMs: 500, windowMs: 1500 } : { warmupMs: 1000, windowMs: 4000 };
  const out = { timing, runs: [] };
  // 3 rounds: each path's ratio is taken against json of its own round, and the median of 3 moves less than 2's
  const rounds = opts.quick ? 1 : 3;
  let pm;
  if (podmanAvailable()) pm = await startPodman(ctx);
  else log('paths: podman with runc is not installed; the -c row is skipped');
  for (let round = 0; round < rounds; round++) {
    for (const [name, args, ready] of [
      ['json', ['-o', 'json'], '"pid":'],
      ['columns', ['-o', 'columns'], 'load'],
    ]) {
      log(`paths: ig -o ${name} (round ${round + 1})`);
      const r = await hostRun(ctx, args, ready, timing);
      log(`  ${Math.round(r.eventsPerSec).toLocaleString('en-US')} events/s`);
      out.runs.push({ path: name, round, ...r });
    }
    if (pm) {
      const container = `igbench-load-${round}`;
      const pid = await pm.runLoad(container, ['getppid', '60']);
      log(`paths: ig -o json -c ${container} (podman, round ${round + 1})`);
      try {
        const r = await window(ctx, ['-o', 'json', '-c', container, '-r', 'podman', '--podman-socketpath', pm.socket], '"pid":', timing, pid);
        log(`  ${Math.round(r.eventsPerSec).toLocaleString('en-US')} events/s`);
        out.runs.push({ path: 'container', round, ...r });
      } finally {
        await pm.podman(['rm', '-f', '-t', '0', container]).catch(() => undefined);
      }
    }
  }
  return out;
}
