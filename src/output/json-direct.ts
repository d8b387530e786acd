/**
 * `-o json` from record bytes (see json-records.ts): each native batch becomes JSON lines in one
 * reused Buffer, written to stdout's file descriptor with blocking writes, or, for any other
 * stream, as a copy through it. Lost events get the same `{"lost":…}` lines as JsonSink.
 */
import { writeSync } from 'node:fs';
import type { RecordBatch } from '../../native/index.js';
import type { EventBatch } from '../gadget/datasource.js';
import { compileSerializer, lostLine, type Serializer } from './json.js';
import type { CompiledRecordWriter } from './json-records.js';
import { BaseSink, type BaseSinkOptions } from './sink.js';

export interface DirectJsonSinkOptions extends BaseSinkOptions {
  writer: CompiledRecordWriter;
  /** the field names the writer writes (for events that arrive decoded, e.g. none but lost counts) */
  fieldNames: readonly string[];
  /** which records to write (a -F filter); all when absent */
  keep?: (dv: DataView, u8: Buffer, o: number) => boolean;
  /** external values of the record at `o` (e.g. its container's fields), encoded, in the writer's order */
  external?: (dv: DataView, u8: Buffer, o: number) => readonly Buffer[];
  /** write here with blocking writes instead of through `stream` (stdout as a file or a blocking pipe) */
  fd?: number;
}

/** Output buffered before a write: a few native batches' worth. */
const CHUNK = 1 << 20;

export class DirectJsonSink extends BaseSink {
  private readonly opts: DirectJsonSinkOptions;
  private readonly buf: Buffer;
  private readonly limit: number;
  private pos = 0;
  private pendingLost = 0;
  private fd: number | undefined;
  private serialize?: Serializer;

  constructor(opts: DirectJsonSinkOptions) {
    super(opts);
    this.opts = opts;
    const line = opts.writer.maxBytes + 1;
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, 4 * line));
    this.limit = this.buf.length - line; // room for one more line at most this far in
    this.fd = opts.fd;
  }

  /** One native batch: lines for its records, then the lost line if any were lost. Returns the lines written. */
  writeRecords(rb: RecordBatch, lost: number): number {
    this.pendingLost += lost;
    const n = rb.offsets.length;
    let shown = 0;
    if (this.fd === undefined && (this.stream.writableLength ?? 0) > this.highWaterMark) {
      this.dropped += n;
      this.lost.add(n);
      this.pendingLost += n;
    } else {
      shown = this.records(rb);
    }
    this.endBatch();
    return shown;
  }

  private records(rb: RecordBatch): number {
    const { write } = this.opts.writer;
    const { external, keep } = this.opts;
    let shown = 0;
    const u8 = rb.data;
    const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < rb.offsets.length; i++) {
      if (p > this.limit) {
        this.pos = p;
        this.flush();
        p = 0;
      }
      const o = rb.offsets[i]!;
      if (keep && !keep(dv, u8, o)) continue;
      p = write(dv, u8, o, b, p, external?.(dv, u8, o));
      b[p++] = 10;
      shown++;
    }
    this.pos = p;
    return shown;
  }

  /** Decoded batches: only lost counts come this way (the stream's lost-samples poll). */
  write(batch: EventBatch): void {
    this.pendingLost += batch.lost ?? 0;
    if (batch.events.length) {
      this.serialize ??= compileSerializer(this.opts.fieldNames);
      let out = '';
      for (const e of batch.events) out += this.serialize(e) + '\n';
      this.append(out);
    }
    this.endBatch();
  }

  private endBatch(): void {
    if (this.pendingLost > 0) {
      this.append(lostLine(this.pendingLost, this.lost.total));
      this.pendingLost = 0;
    }
    this.flush();
  }

  private append(text: string): void {
    const len = Buffer.byteLength(text);
    if (this.pos + len > this.buf.length) this.flush();
    if (len > this.buf.length) this.output(Buffer.from(text));
    else this.pos += this.buf.write(text, this.pos);
  }

  private flush(): void {
    const end = this.pos;
    this.pos = 0;
    if (end > 0) this.output(this.buf.subarray(0, end));
  }

  private output(bytes: Buffer): void {
    let off = 0;
    while (this.fd !== undefined && off < bytes.length) {
      try {
        off += writeSync(this.fd, bytes, off, bytes.length - off);
      } catch (err) {
        // not a blocking descriptor after all: the stream takes the rest, and everything after
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        this.fd = undefined;
      }
    }
    // a stream may keep the chunk until written: give it a copy, the buffer is reused
    if (off < bytes.length) this.stream.write(Buffer.from(bytes.subarray(off)));
  }

  override end(): Promise<void> {
    this.endBatch();
    return super.end();
  }
}
