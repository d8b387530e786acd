// 1. Throughput: ring buffer → decoded events → JSON lines into a pipe, events/s.
import { igArgs } from './setup.js';
import { startPiped } from './pipe.js';
import { lineReader, start, stop } from './procs.js';

// `fields`: ig prints exactly what the C consumer prints (the issue asks for "the same JSON"); without
// it ig would also print the 14 container-enrichment fields, about 4x the bytes per line.
const KINDS = {
  small: { image: 'bench_emit_small', obj: 'emit_small', bytes: 16, fields: 'value,pid,seq' },
  open: {
    image: 'bench_emit_open', obj: 'emit_open', bytes: 320,
    fields: 'timestamp_raw,timestamp,mntns_id,pid,tid,uid,gid,comm,fd,error_raw,error,flags_raw,flags,mode_raw,mode,fname',
  },
};

function bpftraceProgram(kind, pid) {
  if (kind === 'small') {
    return `tracepoint:syscalls:sys_enter_getppid /pid == ${pid}/ { printf("{\\"value\\":%llu,\\"pid\\":%u,\\"seq\\":%u}\\n", nsecs, pid, 0); }`;
  }
  return (
    `tracepoint:syscalls:sys_enter_getppid /pid == ${pid}/ { printf("{\\"timestamp_raw\\":%llu,\\"timestamp\\":\\"%s\\",\\"mntns_id\\":%llu,` +
    `\\"pid\\":%u,\\"tid\\":%u,\\"uid\\":%u,\\"gid\\":%u,\\"comm\\":\\"%s\\",\\"fd\\":%d,\\"error_raw\\":%u,\\"error\\":\\"%s\\",\\"flags_raw\\":%u,` +
    `\\"flags\\":\\"%s\\",\\"mode_raw\\":%u,\\"mode\\":\\"%s\\",\\"fname\\":\\"%s\\"}\\n", nsecs, strftime("%Y-%m-%dT%H:%M:%S", nsecs), ` +
    `curtask->nsproxy->mnt_ns->ns.inum, pid, tid, uid, gid, comm, 3, 0, "", 524288, "O_RDONLY|O_CLOEXEC", 0, "----------", ` +
    `"/usr/lib/x86_64-linux-gnu/libbench-emit.so.1"); }`
  );
}

/**
 * One measurement: the load generator (getppid in a tight loop) runs from the start; the sink
 * counts event lines for `windowMs` after `warmupMs` past the first event.
 * tool: 'ig' | 'c' | 'bpftrace'. `over` replaces the kind's image or fields (bench/lib/wasm.js).
 */
export async function measure(ctx, tool, kind, perCall, { warmupMs, windowMs }, over = {}) {
  const k = { ...KINDS[kind], ...over };
  const load = start(ctx.load, ['--wait', 'getppid', '60'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const loadOut = lineReader(load.stdout);
  let cmd, args;
  if (tool === 'ig') {
    cmd = 'node';
    args = igArgs('run', k.image, '-o', 'json', '--fields', k.fields, '--target-pid', String(load.pid), '--per-call', String(perCall));
  } else if (tool === 'c') {
    cmd = ctx.consumer;
    args = [ctx.objs[k.obj], kind, String(load.pid), String(perCall)];
  } else {
    cmd = 'bpftrace';
    args = ['-e', bpftraceProgram(kind, load.pid)];
  }
  const pipe = startPiped(ctx, cmd, args, {
    env: ctx.env,
    sinkArgs: ['--ready', '"pid":', '--warmup-ms', String(warmupMs), '--window-ms', String(windowMs)],
  });
  load.stdin.write('go\n');
  let result;
  try {
    const first = await pipe.sinkOut.waitFor('first', 30_000);
    if (!first) throw new Error(`${tool} produced no event within 30 s: ${pipe.producer.stderrText?.slice(-500)}`);
    const win = await pipe.sinkOut.waitFor('window', warmupMs + windowMs + 15_000);
    if (!win) throw new Error(`${tool}: the sink reported no window`);
    const [, n, secs] = win.split(' ').map(Number);
    result = { tool, kind, perCall, eventsPerSec: n / secs, windowEvents: n, windowSecs: secs };
  } finally {
    await stop(load, 'SIGTERM');
    const done = await loadOut.waitFor('done', 1000);
    const end = await pipe.finish('SIGINT');
    if (result) {
      const calls = Number(/calls=(\d+)/.exec(done ?? '')?.[1] ?? NaN);
      Object.assign(result, {
        received: end.lines,
        lostTotal: end.lostTotal,
        syscalls: calls,
        emitted: calls * perCall,
        peakRssBytes: tool === 'bpftrace' ? undefined : end.rss,
      });
    }
  }
  return result;
}

export async function throughput(ctx, opts, log) {
  const timing = opts.quick ? { warmupMs: 500, windowMs: 1500 } : { warmupMs: 1000, windowMs: 5000 };
  const out = { timing, runs: [] };
  for (const kind of ['small', 'open']) {
    const plan = [
      ['ig', 64],
      ['c', 64],
      ['ig', 1],
      ['bpftrace', 1],
    ];
    for (const [tool, perCall] of plan) {
      log(`throughput: ${tool}, ${KINDS[kind].bytes}-byte records, ${perCall} per getppid()`);
      const r = await measure(ctx, tool, kind, perCall, timing);
      log(`  ${Math.round(r.eventsPerSec).toLocaleString('en-US')} events/s (received ${r.received}, lost ${r.lostTotal})`);
      out.runs.push(r);
    }
  }
  return out;
}
