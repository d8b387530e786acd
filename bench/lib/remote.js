// 5. Remote: what the node agent (`ig daemon`) adds between the kernel and a client over loopback gRPC.
//   - events/s one agent streams to one client: bench_emit_open (320 B records, 64 per getppid) as
//     in the throughput section, `ig run … --remote-address unix://agent -o json | sink` against the
//     same run local (`ig run … -o json | sink`); target ≥ 0.5x the local rate. Both rates swing
//     with what the machine's other core runs, so local and remote alternate ROUNDS times and the
//     median of the rounds' ratios (each remote run against the local run just before it) is the
//     figure; every run also gives the CPU time per delivered event of ig (and of the agent), over
//     the sink's window: the figure that moves least with the load.
//   - added latency per event: trace_open under a paced 200 opens/s, each event's kernel timestamp
//     (its `timestamp`, wall clock with ns) against the wall clock when the client's line reaches
//     this process; remote median minus local median.
import { readFileSync } from 'node:fs';
import { igArgs } from './setup.js';
import { startPiped } from './pipe.js';
import { lineReader, median, sleep, start, stop, tempDir } from './procs.js';
import path from 'node:path';

const FIELDS = 'timestamp_raw,timestamp,mntns_id,pid,tid,uid,gid,comm,fd,error_raw,error,flags_raw,flags,mode_raw,mode,fname';

/** An agent as the DaemonSet starts it (its unix socket), on the bench's store. */
async function startAgent(ctx) {
  const dir = tempDir('ig-bench-agent-');
  const sock = `unix://${path.join(dir, 'ig.socket')}`;
  const p = start('node', igArgs('daemon', '-H', sock, '--state-dir', ''), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...ctx.env, NODE_NAME: 'bench-node' }, cwd: ctx.root });
  for (let i = 0; i < 200 && !/listening on/.test(p.stderrText ?? ''); i++) await sleep(50);
  if (!/listening on/.test(p.stderrText ?? '')) throw new Error(`ig daemon did not start: ${p.stderrText}`);
  return { p, address: sock };
}

const ROUNDS = 3;
const TICK_NS = 1e7; // USER_HZ = 100 on Linux

/** CPU ns (user + system, every thread, ended ones too) a process used so far; NaN once it is gone. */
function cpuNs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_NS;
  } catch {
    return NaN;
  }
}

/** `agentPid`: the agent's CPU is read over the same window as the client's. */
async function rate(ctx, remote, timing, agentPid) {
  const load = start(ctx.load, ['--wait', 'getppid', '60'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const loadOut = lineReader(load.stdout);
  const args = igArgs('run', 'bench_emit_open', '-o', 'json', '--fields', FIELDS, '--target-pid', String(load.pid), '--per-call', '64',
    ...(remote ? ['--remote-address', remote] : []));
  const pipe = startPiped(ctx, 'node', args, {
    env: ctx.env,
    sinkArgs: ['--ready', '"pid":', '--warmup-ms', String(timing.warmupMs), '--window-ms', String(timing.windowMs)],
  });
  load.stdin.write('go\n');
  let result;
  try {
    const first = await pipe.sinkOut.waitFor('first', 30_000);
    if (!first) throw new Error(`no event within 30 s: ${pipe.producer.stderrText?.slice(-500)}`);
    // the sink's window starts warmupMs after its first event: CPU is read at about the same times
    const cpu = () => [cpuNs(pipe.producer.pid), agentPid ? cpuNs(agentPid) : 0];
    let cpuStart;
    const warm = sleep(timing.warmupMs).then(() => (cpuStart = cpu()));
    const win = await pipe.sinkOut.waitFor('window', timing.warmupMs + timing.windowMs + 15_000);
    if (!win) throw new Error('the sink reported no window');
    const cpuEnd = cpu();
    await warm;
    const [, n, secs] = win.split(' ').map(Number);
    const perEventUs = (i) => (cpuEnd[i] - cpuStart[i]) / 1000 / n;
    result = { remote: !!remote, eventsPerSec: n / secs, igCpuUsPerEvent: perEventUs(0), ...(agentPid ? { agentCpuUsPerEvent: perEventUs(1) } : {}) };
  } finally {
    await stop(load, 'SIGTERM');
    await loadOut.waitFor('done', 1000);
    const end = await pipe.finish('SIGINT');
    if (result) Object.assign(result, { received: end.lines, lostTotal: end.lostTotal, peakRssBytes: end.rss });
  }
  return result;
}

/** Wall clock now, in ns (µs resolution). */
const wallNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;

/** "2026-12-03T11:25:40.982085378Z" → ns since the epoch. */
function isoNs(s) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(s);
  if (!m) return undefined;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

async function latency(ctx, remote, secs) {
  const load = start(ctx.load, ['--wait', '--probe', ctx.probe, 'open', '200', String(secs), ctx.target], { stdio: ['pipe', 'pipe', 'inherit'] });
  const loadOut = lineReader(load.stdout);
  const ig = start('node', igArgs('run', 'trace_open', '-o', 'json', '--pid', String(load.pid), '--fields', 'timestamp,fname', ...(remote ? ['--remote-address', remote] : [])),
    { stdio: ['ignore', 'pipe', 'pipe'], env: ctx.env, cwd: ctx.root });
  const samples = [];
  let ready;
  const attached = new Promise((r) => (ready = r));
  let buf = '';
  ig.stdout.setEncoding('utf8');
  ig.stdout.on('data', (d) => {
    const at = wallNs();
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.includes('igbench-probe')) ready();
      if (!line.includes('igbench-target')) continue;
      const t = isoNs(/"timestamp":"([^"]+)"/.exec(line)?.[1] ?? '');
      if (t !== undefined) samples.push(Number(at - t) / 1e6);
    }
  });
  try {
    if (!(await Promise.race([attached.then(() => true), sleep(30_000).then(() => false)]))) throw new Error(`ig did not attach within 30 s: ${ig.stderrText?.slice(-500)}`);
    load.stdin.write('go\n');
    await loadOut.waitFor('done', secs * 1000 + 30_000);
    await sleep(300);
  } finally {
    await stop(load, 'SIGTERM');
    await stop(ig, 'SIGINT');
  }
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return { remote: !!remote, events: samples.length, medianMs: median(samples), p99Ms: q(0.99) };
}

export async function remote(ctx, opts, log) {
  const timing = opts.quick ? { warmupMs: 500, windowMs: 1500 } : { warmupMs: 1000, windowMs: 5000 };
  const secs = opts.quick ? 3 : 8;
  const agent = await startAgent(ctx);
  try {
    const out = { timing, latencySecs: secs, rounds: [] };
    const us = (v) => (Number.isFinite(v) ? `${v.toFixed(2)} µs` : '?');
    for (let i = 0; i < ROUNDS; i++) {
      log(`remote, round ${i + 1}/${ROUNDS}: bench_emit_open 64/call, local -o json | sink`);
      const local = await rate(ctx, undefined, timing);
      log(`  ${Math.round(local.eventsPerSec).toLocaleString('en-US')} events/s (lost ${local.lostTotal}), CPU per event ${us(local.igCpuUsPerEvent)}`);
      log(`remote, round ${i + 1}/${ROUNDS}: the same through ig daemon (${agent.address}) to one client`);
      const rem = await rate(ctx, agent.address, timing, agent.p.pid);
      log(`  ${Math.round(rem.eventsPerSec).toLocaleString('en-US')} events/s (lost ${rem.lostTotal}), CPU per event: agent ${us(rem.agentCpuUsPerEvent)}, client ${us(rem.igCpuUsPerEvent)}`);
      out.rounds.push({ local, remote: rem, ratio: rem.eventsPerSec / local.eventsPerSec });
    }
    // the round with the median ratio stands for the section (its rates are the table's)
    const mid = [...out.rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(ROUNDS / 2)];
    out.local = mid.local;
    out.remote = mid.remote;
    log('remote: latency kernel → client, trace_open at 200 opens/s, local');
    out.latencyLocal = await latency(ctx, undefined, secs);
    log(`  median ${out.latencyLocal.medianMs.toFixed(2)} ms, p99 ${out.latencyLocal.p99Ms.toFixed(2)} ms over ${out.latencyLocal.events} events`);
    log('remote: latency kernel → agent → client over loopback gRPC');
    out.latencyRemote = await latency(ctx, agent.address, secs);
    log(`  median ${out.latencyRemote.medianMs.toFixed(2)} ms, p99 ${out.latencyRemote.p99Ms.toFixed(2)} ms over ${out.latencyRemote.events} events`);
    return out;
  } finally {
    await stop(agent.p, 'SIGTERM');
  }
}

/** The section's rows of the figures table (report.js). */
export function remoteFigures(r, add, fmt) {
  if (r?.rounds?.length) {
    const rs = r.rounds;
    const mmm = (xs, f) => { const s = [...xs].sort((a, b) => a - b); return `${f(s[0])}/${f(median(s))}/${f(s[s.length - 1])}`; };
    const k = (v) => `${Math.round(v / 1000)}k`;
    const us = (v) => (Number.isFinite(v) ? v.toFixed(2) : '?');
    const x = median(rs.map((q) => q.ratio));
    add(`remote: events/s one agent streams to one client (320 B, 64/call; min/median/max of ${rs.length} alternating)`,
      mmm(rs.map((q) => q.remote.eventsPerSec), k), `local -o json ${mmm(rs.map((q) => q.local.eventsPerSec), k)}; ratios ${mmm(rs.map((q) => q.ratio), (v) => v.toFixed(2))}`, x,
      '>= 0.5x local (median)', x >= 0.5, { igValue: r.remote.eventsPerSec, baselineValue: r.local.eventsPerSec });
    add('remote: CPU per delivered event, agent + client (min/median/max)', `${mmm(rs.map((q) => q.remote.agentCpuUsPerEvent + q.remote.igCpuUsPerEvent), us)} µs`,
      `agent ${mmm(rs.map((q) => q.remote.agentCpuUsPerEvent), us)}, client ${mmm(rs.map((q) => q.remote.igCpuUsPerEvent), us)}; local ${mmm(rs.map((q) => q.local.igCpuUsPerEvent), us)} µs`,
      NaN, '(info)', undefined, { igValue: median(rs.map((q) => q.remote.agentCpuUsPerEvent + q.remote.igCpuUsPerEvent)) });
  } else if (r?.local && r?.remote) {
    const x = r.remote.eventsPerSec / r.local.eventsPerSec;
    add('remote: events/s one agent streams to one client (320 B, 64/call)', fmt.rate(r.remote.eventsPerSec), `local -o json ${fmt.rate(r.local.eventsPerSec)}`, x,
      '>= 0.5x local', x >= 0.5, { igValue: r.remote.eventsPerSec, baselineValue: r.local.eventsPerSec });
  }
  if (r?.latencyLocal && r?.latencyRemote) {
    const added = r.latencyRemote.medianMs - r.latencyLocal.medianMs;
    add('remote: added latency per event, kernel → client over loopback gRPC (median)', `${added.toFixed(2)} ms`,
      `local ${r.latencyLocal.medianMs.toFixed(2)} ms, remote ${r.latencyRemote.medianMs.toFixed(2)} ms (p99 ${r.latencyRemote.p99Ms.toFixed(2)} ms)`, NaN, '(info)', undefined,
      { igValue: added });
  }
  if (r?.error) add('remote', 'ERROR', r.error, NaN, '', false);
}
