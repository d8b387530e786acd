import { readFileSync } from 'node:fs';

/**
 * `IG_TIMINGS=1`: when each step of a run happened, in ms since the process started, and the memory
 * resident then, on stderr
 * (start-up is a feature here: this is how its parts are seen without a profiler, whose signals
 * the verifier dislikes).
 */
// read at the first mark, not at load: a start-up snapshot (src/snapshot/) loads modules at build time
let on: boolean | undefined;

/** Resident memory now (VmRSS) and its peak so far (VmHWM), in MB; Linux only. */
function residentMb(): string {
  try {
    const status = readFileSync('/proc/self/status', 'latin1');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
    return `, rss ${kb('VmRSS').toFixed(1)} MB, peak ${kb('VmHWM').toFixed(1)} MB`;
  } catch {
    return '';
  }
}

/** `IG_TIMINGS=gc`: each garbage collection too, when it started and how long it took (delivered late). */
function watchGc(): void {
  const kinds: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weak callbacks' };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[(e as unknown as { detail: { kind: number } }).detail?.kind] ?? 'gc';
      process.stderr.write(`ig-timing: ${e.startTime.toFixed(1)} ms ${kind} gc took ${e.duration.toFixed(1)} ms\n`);
    }
  }).observe({ entryTypes: ['gc'] });
}

/** Wall-clock ms since the process started, and CPU ms (user + system) it used so far, at a step. */
export function mark(step: string): void {
  if (on === undefined) {
    on = !!process.env.IG_TIMINGS;
    if (process.env.IG_TIMINGS === 'gc') watchGc();
  }
  if (!on) return;
  // the global `performance` loads perf_hooks on first use: only when timings are on
  const cpu = process.cpuUsage();
  process.stderr.write(`ig-timing: ${performance.now().toFixed(1)} ms (cpu ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms${residentMb()}) ${step}\n`);
}
