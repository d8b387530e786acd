/**
 * Lost-event accounting. Lost events are never silent: `add(n)` counts them (kernel ring/perf
 * losses reported in `EventBatch.lost`, and whole batches a sink dropped because its stream was
 * full); a warning `warning: lost N events` goes to stderr at most once per interval (1 s), and
 * `reportTotal()` at the end prints the total. JSON sinks also put a `{"lost":N,"lostTotal":T}`
 * record into their output (see output/json.ts).
 */
import type { Writable } from 'node:stream';

export interface LostCounterOptions {
  /** where warnings go; when set, `add()` reports by itself (now or when the interval has passed) */
  stream?: Pick<Writable, 'write'>;
  intervalMs?: number;
  now?: () => number;
}

export class LostCounter {
  private _total = 0;
  private _pending = 0;
  private lastReport = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly stream?: Pick<Writable, 'write'>;

  constructor(opts: LostCounterOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.stream = opts.stream;
  }

  /** Count n lost events (0, negative or NaN are ignored). */
  add(n: number | bigint | undefined): void {
    const k = Number(n ?? 0);
    if (!(k > 0)) return;
    this._total += k;
    this._pending += k;
    if (this.stream) {
      if (!this.report(this.stream) && !this.timer) {
        const wait = Math.max(0, this.lastReport + this.intervalMs - this.now());
        this.timer = setTimeout(() => {
          this.timer = undefined;
          if (this.stream) this.report(this.stream);
        }, wait);
        this.timer.unref();
      }
    }
  }

  /** All events lost so far. */
  get total(): number {
    return this._total;
  }

  /** Lost since the last warning. */
  get pending(): number {
    return this._pending;
  }

  /**
   * Write `warning: lost N events` for the events lost since the last warning, unless a warning
   * was written less than the interval ago (`force` ignores the interval). Returns whether it wrote.
   */
  report(stream: Pick<Writable, 'write'>, force = false): boolean {
    if (this._pending === 0) return false;
    const now = this.now();
    if (!force && now - this.lastReport < this.intervalMs) return false;
    stream.write(`warning: lost ${this._pending} event${this._pending === 1 ? '' : 's'}\n`);
    this._pending = 0;
    this.lastReport = now;
    return true;
  }

  /** At the end of a run: flush the pending warning and print the total if anything was lost. */
  reportTotal(stream: Pick<Writable, 'write'>): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this._total === 0) return;
    this.report(stream, true); // the warnings then add up to the total, as the JSON lost records do
    stream.write(`warning: lost ${this._total} event${this._total === 1 ? '' : 's'} in total\n`);
  }

  /** Stop the pending-warning timer (without printing). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
