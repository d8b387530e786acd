/**
 * What every output sink is, and the back-pressure rule they share: when the destination stream
 * already buffers more than `highWaterMark` bytes (a slow terminal, a stalled pipe reader on a
 * socket), a whole batch is dropped and counted as lost instead of letting memory grow without bound.
 */
import type { Writable } from 'node:stream';
import type { EventBatch } from '../gadget/datasource.js';
import { LostCounter } from '../operators/lost.js';

export interface Sink {
  write(batch: EventBatch): void;
  /** flush and wait until everything written has been handed to the OS (does not close stdout) */
  end(): Promise<void>;
}

/** The subset of a Writable the sinks use (a test can pass a small fake). */
export type OutStream = Pick<Writable, 'write' | 'writableLength' | 'once'> & Partial<Pick<Writable, 'writableNeedDrain'>> & {
  isTTY?: boolean;
  columns?: number;
};

export interface BaseSinkOptions {
  stream?: OutStream;
  lost?: LostCounter;
  /** bytes buffered in the stream above which whole batches are dropped (default 8 MiB) */
  highWaterMark?: number;
}

export const DEFAULT_HIGH_WATER_MARK = 8 * 1024 * 1024;

export abstract class BaseSink implements Sink {
  protected readonly stream: OutStream;
  readonly lost: LostCounter;
  protected readonly highWaterMark: number;
  /** events this sink dropped because the stream was full */
  dropped = 0;

  constructor(opts: BaseSinkOptions) {
    this.stream = opts.stream ?? (process.stdout as OutStream);
    this.lost = opts.lost ?? new LostCounter();
    this.highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  /** True (and the batch counted as lost) when the stream is too full to take it. */
  protected overloaded(batch: EventBatch): boolean {
    if ((this.stream.writableLength ?? 0) <= this.highWaterMark) return false;
    this.dropped += batch.events.length;
    this.lost.add(batch.events.length);
    return true;
  }

  abstract write(batch: EventBatch): void;

  end(): Promise<void> {
    return new Promise((resolve) => {
      if ((this.stream.writableLength ?? 0) === 0) return resolve();
      // an empty write's callback runs after everything queued before it
      this.stream.write('', () => resolve());
    });
  }
}
