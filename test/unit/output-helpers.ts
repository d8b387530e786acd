// shared by the output-* tests (not a test file itself)
import { Writable } from 'node:stream';

export class Capture extends Writable {
  chunks: string[] = [];
  isTTY?: boolean;
  columns?: number;
  constructor(opts: { tty?: boolean; columns?: number } = {}) {
    super();
    this.isTTY = opts.tty;
    this.columns = opts.columns;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

// ---- sinks fed with event objects (the remote client's way), so tests state rows as objects ----
import type { Event, FieldDesc } from '../../src/model/field.js';
import type { LostCounter } from '../../src/datasource/lost.js';
import { datasourceOfFields, batchOfEvents } from '../../src/datasource/events.js';
import { createSink, type Sink } from '../../src/output/index.js';
import { ColumnsSink } from '../../src/output/columns.js';
import { streamTarget } from '../../src/output/target.js';

export interface EventBatch { datasource: string; events: Event[]; lost?: number; snapshot?: boolean }

export interface SinkFixture {
  stream: Capture | (Writable & { isTTY?: boolean; columns?: number });
  /** exactly these fields (in order); else `allFields` with the format's default set */
  fields?: readonly FieldDesc[];
  allFields?: readonly FieldDesc[];
  lost?: LostCounter;
  highWaterMark?: number;
  width?: number;
  tty?: boolean;
}

/** A sink of `format` over a datasource of the given fields, written with event objects. */
export function eventSink(format: string, o: SinkFixture) {
  const fields = o.fields ?? o.allFields ?? [];
  const ds = datasourceOfFields('x', 'tracer', fields);
  const sink: Sink = createSink(format, ds, {
    target: streamTarget(o.stream, o.highWaterMark), lost: o.lost, width: o.width, tty: o.tty,
    fields: o.fields ? o.fields.map((f) => f.name).join(',') || undefined : undefined,
  });
  const batch = (b: EventBatch) => batchOfEvents(ds, b.events, { snapshot: b.snapshot, lost: b.lost });
  return {
    sink,
    write: (b: EventBatch) => sink.write(batch(b)),
    end: () => sink.end(),
    writeHeader: () => (sink as ColumnsSink).writeHeader(),
    get columns() {
      return (sink as ColumnsSink).columns;
    },
    get dropped() {
      return sink.dropped;
    },
  };
}
