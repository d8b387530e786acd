// A producer (ig, the C consumer, bpftrace) whose stdout is a pipe into the C sink.
import { lineReader, memOf, start, stop } from './procs.js';

/**
 * Start `sink` with `sinkArgs`, then the producer with its stdout on the sink's stdin.
 * Returns { producer, sink, sinkOut (line reader), finish() → eof numbers }.
 */
export function startPiped(ctx, cmd, args, { env, sinkArgs = [] } = {}) {
  const sink = start(ctx.sink, sinkArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
  const sinkOut = lineReader(sink.stdout);
  const producer = start(cmd, args, { stdio: ['ignore', sink.stdin, 'pipe'], env: env ?? process.env, cwd: ctx.root });
  sink.stdin.destroy(); // our copy of the pipe's write end: the sink sees EOF when the producer exits
  let peak = 0;
  const sampler = setInterval(() => {
    const m = memOf(producer.pid);
    if (m && m.rss > peak) peak = m.rss;
  }, 200);
  return {
    producer,
    sink,
    sinkOut,
    /** peak RSS so far (VmHWM when readable, else the highest VmRSS sample) */
    peakRss() {
      const m = memOf(producer.pid);
      return Math.max(peak, m?.hwm ?? 0, m?.rss ?? 0);
    },
    async finish(signal = 'SIGINT') {
      clearInterval(sampler);
      const rss = this.peakRss();
      await stop(producer, signal);
      const eof = await sinkOut.waitFor('eof', 10_000);
      await stop(sink, 'SIGTERM', 2000);
      const [, lines, markers, lostTotal, lostLines] = (eof ?? 'eof NaN NaN NaN NaN').split(' ').map(Number);
      return { lines, markers, lostTotal, lostLines, rss, stderr: producer.stderrText ?? '' };
    },
  };
}
