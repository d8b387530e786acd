// 2. No-loss rate: trace_open under a paced open() load, default 256 KiB ring buffer.
import { igArgs } from './setup.js';
import { startPiped } from './pipe.js';
import { lineReader, sleep, start, stop } from './procs.js';

/** The rungs every run climbs; past the target, rates keep doubling while nothing is lost. */
const LADDER = [16384, 32768, 65536, 131072];
const CEILING = 1 << 20;

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
  const rates = [...LADDER];
  for (let i = 0; i < rates.length; i++) {
    const rate = rates[i];
    log(`no-loss: trace_open at ${rate}/s for ${secs} s`);
    const r = await rung(ctx, rate, secs);
    // the opener itself (one thread, traced) cannot go faster: the rung says nothing about ig
    r.loadBound = r.achievedRate < 0.9 * rate;
    log(`  achieved ${Math.round(r.achievedRate)}/s, emitted ${r.emitted}, received ${r.received}, lost ${r.lostTotal} → ` +
      `${r.zeroLoss ? 'zero loss' : 'LOSS'}${r.loadBound ? ' (the load generator fell short of the rate)' : ''}`);
    runs.push(r);
    if (i === rates.length - 1 && r.zeroLoss && !r.loadBound && rate * 2 <= CEILING) rates.push(rate * 2);
  }
  const ok = runs.filter((r) => r.zeroLoss).map((r) => r.targetRate);
  // "highest rate with zero loss": the highest rung reached below which every rung passed
  let highest = 0;
  for (const r of runs) {
    if (!r.zeroLoss) break;
    highest = Math.max(highest, Math.min(r.targetRate, r.achievedRate)); // the rate reached, not the one asked for
  }
  return { secs, runs, highestZeroLoss: highest, passingRates: ok };
}
