/**
 * Where a sink's bytes go. Sinks fill a reused Buffer and hand it over whole; a target either
 * writes it now (stdout: blocking writes to the descriptor) or keeps a copy (a stream, the
 * daemon's gRPC call). A target that already holds too much says `full`, and sinks then drop
 * whole batches, counted as lost, rather than let memory grow without bound.
 */
import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';

export interface OutputTarget {
  /** take these bytes (the buffer is reused after the call: a target that keeps them copies) */
  write(bytes: Buffer): void;
  /** too much is waiting: drop whole batches (counted as lost) until it drains */
  readonly full: boolean;
  /** a terminal (snapshot tables redraw the screen; columns fit its width) */
  readonly isTTY: boolean;
  /** the terminal's width now, when it is one */
  readonly columns: number | undefined;
  /** resolves when everything written has been handed on */
  flush(): Promise<void>;
}

const DEFAULT_HIGH_WATER_MARK = 8 * 1024 * 1024;

type StdoutInternals = { _type?: string; fd?: number; _handle?: { setBlocking?: (b: boolean) => unknown } };

/**
 * Our stdout. A pipe is made blocking, as files and terminals already are: Node writes pipes
 * asynchronously, one chunk per event-loop turn, and a loop busy decoding events then lets
 * output pile up in memory. Blocking, a slow reader slows the loop instead, which backs up the
 * native consumer's bounded queue and then the kernel ring, where losses are counted exactly.
 * Bytes go to the descriptor with writeSync (no copy, no stream bookkeeping).
 */
export function stdoutTarget(): OutputTarget {
  const s = process.stdout as unknown as StdoutInternals & NodeJS.WriteStream;
  if (s._type === 'pipe') s._handle?.setBlocking?.(true);
  let fd = s._type === 'fs' || s._type === 'tty' || s._type === 'pipe' ? 1 : undefined;
  const stream = streamTarget(process.stdout);
  return {
    write(bytes) {
      let off = 0;
      while (fd !== undefined && off < bytes.length) {
        try {
          off += writeSync(fd, bytes, off, bytes.length - off);
        } catch (err) {
          // not a blocking descriptor after all: the stream takes the rest, and everything after
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          fd = undefined;
        }
      }
      if (off < bytes.length) stream.write(bytes.subarray(off));
    },
    get full() {
      return fd === undefined && stream.full;
    },
    isTTY: Boolean(process.stdout.isTTY),
    get columns() {
      return process.stdout.isTTY ? process.stdout.columns : undefined;
    },
    flush: () => stream.flush(),
  };
}

/** `target`, calling `done` after each write until it returns true. */
export function watchWrites(target: OutputTarget, done: () => boolean): OutputTarget {
  let watching = true;
  return {
    write(bytes) {
      target.write(bytes);
      if (watching) watching = !done();
    },
    get full() {
      return target.full;
    },
    isTTY: target.isTTY,
    get columns() {
      return target.columns;
    },
    flush: () => target.flush(),
  };
}

/** The subset of a Writable a stream target uses (tests pass small fakes). */
export type OutStream = Pick<Writable, 'write' | 'writableLength'> & { isTTY?: boolean; columns?: number };

/** Any Writable: bytes are copied into it; `full` past `highWaterMark` buffered bytes. */
export function streamTarget(stream: OutStream, highWaterMark = DEFAULT_HIGH_WATER_MARK): OutputTarget {
  return {
    write(bytes) {
      stream.write(Buffer.from(bytes));
    },
    get full() {
      return (stream.writableLength ?? 0) > highWaterMark;
    },
    get isTTY() {
      return Boolean(stream.isTTY);
    },
    get columns() {
      return stream.isTTY ? stream.columns : undefined;
    },
    flush: () =>
      new Promise<void>((resolve) => {
        if ((stream.writableLength ?? 0) === 0) return resolve();
        // an empty write's callback runs after everything queued before it
        stream.write('', () => resolve());
      }),
  };
}

/**
 * A function taking each chunk (the daemon sends them to its client); `full` says when the client
 * lags. The chunk is the sink's reused buffer, readable during the call only: the function copies
 * what it keeps (the daemon copies it once, into the message it sends).
 */
export function callbackTarget(send: (bytes: Buffer) => void, full: () => boolean): OutputTarget {
  return {
    write: (bytes) => send(bytes),
    get full() {
      return full();
    },
    isTTY: false,
    columns: undefined,
    flush: async () => {},
  };
}
