// 3. Overhead: 200,000 open+close (C), untraced vs traced by ig (JSON into a pipe) vs bpftrace.
import { igArgs } from './setup.js';
import { startPiped } from './pipe.js';
import { median, run, start, stop } from './procs.js';

const COUNT = 200_000;
const BPFTRACE =
  'tracepoint:syscalls:sys_enter_openat { printf("{\\"timestamp_raw\\":%llu,\\"pid\\":%d,\\"tid\\":%d,\\"uid\\":%d,\\"gid\\":%d,' +
  '\\"comm\\":\\"%s\\",\\"flags_raw\\":%d,\\"mode_raw\\":%d,\\"fname\\":\\"%s\\"}\\n", nsecs, pid, tid, uid, gid, comm, ' +
  'args->flags, args->mode, str(args->filename)); }';

async function workload(ctx, reps) {
  const xs = [];
  for (let i = 0; i < reps; i++) {
    const out = await run(ctx.load, ['openloop', String(COUNT), ctx.target]);
    xs.push(Number(/secs=([\d.]+)/.exec(out)[1]));
  }
  return xs;
}

async function traced(ctx, cmd, args, reps) {
  const pipe = startPiped(ctx, cmd, args, { env: ctx.env, sinkArgs: ['--ready', 'igbench-probe'] });
  const probe = start(ctx.load, ['probe', ctx.probe], { stdio: ['ignore', 'ignore', 'inherit'] });
  let xs;
  try {
    const first = await pipe.sinkOut.waitFor('first', 30_000);
    if (!first) throw new Error(`${cmd} traced nothing within 30 s: ${pipe.producer.stderrText?.slice(-500)}`);
    await stop(probe, 'SIGTERM');
    xs = await workload(ctx, reps);
  } finally {
    await stop(probe, 'SIGTERM');
    var end = await pipe.finish('SIGINT');
  }
  // the workload's own events (target file) vs. what arrived
  return { secs: xs, median: median(xs), received: end.lines, lostTotal: end.lostTotal, expected: COUNT * reps };
}

export async function overhead(ctx, opts, log) {
  const reps = 3;
  log(`overhead: ${COUNT} open+close, untraced`);
  const base = await workload(ctx, reps);
  const out = { count: COUNT, reps, untraced: { secs: base, median: median(base) } };
  log(`  ${out.untraced.median.toFixed(3)} s`);
  log('overhead: traced by ig run trace_open -o json | sink');
  out.ig = await traced(ctx, 'node', igArgs('run', 'trace_open', '-o', 'json'), reps);
  log(`  ${out.ig.median.toFixed(3)} s (received ${out.ig.received} lines, lost ${out.ig.lostTotal})`);
  log('overhead: traced by bpftrace (sys_enter_openat, printf) | sink');
  out.bpftrace = await traced(ctx, 'bpftrace', ['-e', BPFTRACE], reps);
  log(`  ${out.bpftrace.median.toFixed(3)} s (received ${out.bpftrace.received} lines)`);
  return out;
}
