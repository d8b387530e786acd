// 2. No-loss rate: trace_open under a paced open() load, default 256 KiB ring buffer.
import { igArgs } from './setup.js';
import { startPiped } from './pipe.js';
import { lineReader, sleep, start, stop } from './procs.js';

export const LADDER = [16384, 32768, 65536, 131072];

async function rung(ctx, rate, secs) {
  // the load process opens the probe file every 2 ms until told to go: its first event means ig is attached
  const load = start(ctx.load, ['--wait', '--probe', ctx.probe, 'open', String(rate), String(secs), ctx.target], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const loadOut = lineReader(load.stdout);
  const pipe = startPiped(ctx, 'node', igArgs('run', 'trace_open', '-o', 'json', '--pid', String(load.pid)), {
    env: ctx.env,
    sinkArgs: ['--marker', 'igbench-target'],
  });
  let done;
  try {
    const first = await pipe.sinkOut.waitFor('first', 30_000);
    if (!first) throw new Error(`ig produced no event within 30 s: ${pipe.producer.stderrText?.slice(-500)}`);
    load.stdin.write('go\n');
    done = await loadOut.waitFor('done', secs * 1000 + 30_000);
    await sleep(300); // ig drains every 10 ms; let the tail arrive
  } finally {
    await stop(load, 'SIGTERM');
    var end = await pipe.finish('SIGINT');
  }
  const calls = Number(/calls=(\d+)/.exec(done ?? '')?.[1] ?? NaN);
  const took = Number(/secs=([\d.]+)/.exec(done ?? '')?.[1] ?? NaN);
  return {
    targetRate: rate,
    achievedRate: calls / took,
    emitted: calls,
    received: end.markers,
    lostTotal: end.lostTotal,
    zeroLoss: end.lostTotal === 0 && end.markers === calls,
    peakRssBytes: end.rss,
  };
}

export async function noloss(ctx, opts, log) {
  const secs = opts.quick ? 3 : 10;
  const runs = [];
  for (const rate of LADDER) {
    log(`no-loss: trace_open at ${rate}/s for ${secs} s`);
    const r = await rung(ctx, rate, secs);
    log(`  achieved ${Math.round(r.achievedRate)}/s, emitted ${r.emitted}, received ${r.received}, lost ${r.lostTotal} → ${r.zeroLoss ? 'zero loss' : 'LOSS'}`);
    runs.push(r);
  }
  const ok = runs.filter((r) => r.zeroLoss).map((r) => r.targetRate);
  // "highest rate with zero loss": the highest rung below which every rung passed
  let highest = 0;
  for (const r of runs) {
    if (!r.zeroLoss) break;
    highest = r.targetRate;
  }
  return { secs, runs, highestZeroLoss: highest, passingRates: ok };
}
