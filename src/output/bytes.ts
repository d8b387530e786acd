/**
 * The reused output buffer every byte-writing sink fills: records are written into it by
 * generated code, and it goes to the target whole, once per batch or when full. A record that
 * does not fit (a value longer than any bound) makes it flush and grow, and is written again.
 */
import type { Batch } from '../datasource/batch.js';
import type { OutputTarget } from './target.js';

/** Thrown when the output buffer has no room for a value; the sink flushes and retries with a larger one. */
export class Overflow extends Error {
  constructor(readonly need: number) {
    super(`a value of ${need} bytes does not fit the output buffer`);
  }
}

/** Writes record `r` at `p`; returns the end (the generated JSON and columns writers). */
export type RowWriter = (dv: DataView, u8: Buffer, o: number, X: unknown[][], r: number, b: Buffer, p: number) => number;

/** Output buffered before a write: a few native batches' worth. */
const CHUNK = 1 << 20;

export class OutputBuffer {
  private buf: Buffer;
  private pos = 0;

  constructor(private readonly target: OutputTarget, size = CHUNK) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /**
   * Write the batch's live records: each followed by the byte `after` (a newline), or with the
   * byte `between` them (a comma in a JSON array); `trimSpaces` drops a row's trailing blanks.
   * `maxBytes` bounds one record (values of unknown length excepted). Returns how many were written.
   */
  rows(b: Batch, write: RowWriter, maxBytes: number, o: { after?: number; between?: number; trimSpaces?: boolean }): number {
    let buf = this.buf;
    let limit = Math.max(0, buf.length - maxBytes - 1);
    let p = this.pos;
    const { dv, data, offsets, cols, rows } = b;
    for (let k = 0; k < b.count; k++) {
      const r = rows[k]!;
      if (p > limit) {
        this.pos = p;
        this.flush();
        p = 0;
      }
      if (o.between !== undefined && k > 0) buf[p++] = o.between;
      const start = p;
      try {
        p = write(dv, data, offsets[r]!, cols, r, buf, p);
      } catch (err) {
        if (!(err instanceof Overflow)) throw err;
        this.pos = start;
        this.flush();
        this.buf = Buffer.allocUnsafe(Math.max(this.buf.length, 2 * (err.need + maxBytes + 1)));
        buf = this.buf;
        limit = Math.max(0, buf.length - maxBytes - 1);
        p = write(dv, data, offsets[r]!, cols, r, buf, 0);
      }
      if (o.trimSpaces) while (p > start && buf[p - 1] === 32) p--;
      if (o.after !== undefined) buf[p++] = o.after;
    }
    this.pos = p;
    return b.count;
  }

  /** Text (headers, lost lines, the slow paths' output). */
  text(s: string): void {
    const len = Buffer.byteLength(s);
    if (this.pos + len > this.buf.length) this.flush();
    if (len > this.buf.length) this.target.write(Buffer.from(s));
    else this.pos += this.buf.write(s, this.pos);
  }

  /** Hand what is buffered to the target. */
  flush(): void {
    const end = this.pos;
    this.pos = 0;
    if (end > 0) this.target.write(this.buf.subarray(0, end));
  }
}
