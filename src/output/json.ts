/**
 * JSON output. `json` = one object per line, `jsonpretty` = indented objects. Dotted field names
 * are re-nested (`k8s.podName` → `{"k8s":{"podName":…}}`). bigint → a JSON number when it is a safe
 * integer, else a string. A snapshot batch is written as one JSON array (one line in `json`).
 *
 * Records are written straight from their bytes by the writer json-records.ts generates; the
 * serializer here (flat event object → the same text) serves event objects (the remote client,
 * tests comparing both).
 */
import type { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import { compileJsonWriter, type CompiledRecordWriter } from './json-records.js';
import { lostLine } from './json-text.js';
import { OutputBuffer } from './bytes.js';
import { Sink, type SinkOptions } from './sink.js';

export interface JsonSinkOptions extends SinkOptions {
  pretty?: boolean;
  /** without --fields: every field (true, the default) or the visible ones (a remote client showing columns) */
  allFields?: boolean;
  /** write `{"lost":N,"lostTotal":T}` lines when events were lost (default true) */
  lostRecords?: boolean;
}

export class JsonSink extends Sink {
  protected readonly allByDefault: boolean;
  private readonly out: OutputBuffer;
  private writer?: CompiledRecordWriter;
  private unlisten?: () => void;
  private readonly pretty: boolean;
  private readonly lostRecords: boolean;
  private pendingLost = 0;

  constructor(ds: RunDataSource, opts: JsonSinkOptions) {
    super(ds, opts);
    this.allByDefault = opts.allFields ?? true;
    this.out = new OutputBuffer(this.target);
    this.pretty = opts.pretty ?? false;
    this.lostRecords = opts.lostRecords ?? true;
  }

  protected override fieldsChanged(): void {
    this.unlisten?.();
    const w = compileJsonWriter(this.ds, this.fields.map((f) => f.name));
    this.writer = w;
    this.unlisten = this.ds.onInvalidate(() => w.clear());
  }

  /**
   * Tracers: the record writer is generated (~2 ms) while the gadget waits for its first event,
   * not when that event has arrived. The run yields to the event loop once attached.
   */
  override begin(): void {
    if (this.ds.kind === 'tracer') setImmediate(() => void this.fields);
  }

  /** The compact JSON of every live record of a batch (the pretty and yaml paths). */
  lines(b: Batch): string[] {
    void this.fields;
    const w = this.writer!;
    const lines: string[] = [];
    let scratch = Buffer.allocUnsafe(Math.max(4096, w.maxBytes));
    for (let k = 0; k < b.count; k++) {
      const r = b.rows[k]!;
      for (;;) {
        try {
          const end = w.write(b.dv, b.data, b.offsets[r]!, b.cols, r, scratch, 0);
          lines.push(scratch.toString('utf8', 0, end));
          break;
        } catch (err) {
          if (!(err as { need?: number }).need) throw err;
          scratch = Buffer.allocUnsafe(2 * (scratch.length + (err as { need: number }).need));
        }
      }
    }
    return lines;
  }

  write(b: Batch): void {
    this.pendingLost += b.lost;
    if (this.overloaded(b)) {
      this.pendingLost += b.count;
      return;
    }
    void this.fields;
    if (this.pretty) {
      const objs = this.lines(b).map((l) => JSON.parse(l) as unknown);
      if (b.snapshot) this.out.text(JSON.stringify(objs, null, 2) + '\n');
      else for (const o of objs) this.out.text(JSON.stringify(o, null, 2) + '\n');
    } else if (b.snapshot) {
      this.out.text('[');
      this.out.rows(b, this.writer!.write, this.writer!.maxBytes, { between: 44 });
      this.out.text(']\n');
    } else {
      this.out.rows(b, this.writer!.write, this.writer!.maxBytes, { after: 10 });
    }
    this.shown += b.count;
    this.endBatch();
  }

  private endBatch(): void {
    if (this.lostRecords && this.pendingLost > 0) {
      this.out.text(lostLine(this.pendingLost, this.lost.total));
      this.pendingLost = 0;
    }
    this.out.flush();
  }

  override async end(): Promise<void> {
    this.endBatch();
    this.unlisten?.();
    await super.end();
  }
}

export { encodeValue, compileSerializer, nestEvent, lostLine } from './json-text.js';
