/**
 * JSON output. `json` = one object per line, `jsonpretty` = indented objects. Dotted field names
 * are re-nested (`k8s.podName` → `{"k8s":{"podName":…}}`). bigint → a JSON number when it is a safe
 * integer, else a string. A snapshot batch is written as one JSON array (one line in `json`).
 *
 * Records are written straight from their bytes by the writer json-records.ts generates; the
 * serializer here (flat event object → the same text) serves event objects (the remote client,
 * tests comparing both).
 */
import type { Event } from '../model/field.js';
import type { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import { compileJsonWriter, type CompiledRecordWriter } from './json-records.js';
import { OutputBuffer } from './bytes.js';
import { Sink, type SinkOptions } from './sink.js';

// characters JSON.stringify would escape (surrogates: lone ones are escaped, so let it decide)
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON text of one value (bigint-safe; typed arrays → arrays; undefined → null). */
export function encodeValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      // most values (comm, paths, names) need no escaping: skip JSON.stringify, ~3x faster
      return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : '"' + v + '"';
    case 'number':
      return v - v === 0 ? '' + v : 'null'; // finite
    case 'bigint':
      return v <= 9007199254740991n && v >= -9007199254740991n ? String(v) : '"' + String(v) + '"';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) return '[' + v.map(encodeValue).join(',') + ']';
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
        return '[' + Array.from(v as unknown as ArrayLike<number | bigint>, encodeValue).join(',') + ']';
      }
      const o = v as Record<string, unknown>;
      return '{' + Object.keys(o).map((k) => JSON.stringify(k) + ':' + encodeValue(o[k])).join(',') + '}';
    }
    default:
      return 'null';
  }
}

export interface Node {
  key: string;
  field?: string; // leaf: the flat field name
  children?: Node[];
}

/** Field names as the JSON nesting: `a.b` and `a.c` become one `a` object, in first-seen order. */
export function buildTree(names: readonly string[]): Node[] {
  const root: Node = { key: '', children: [] };
  for (const name of names) {
    const parts = name.split('.');
    let cur = root;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      let next = cur.children!.find((c) => c.key === p);
      if (!next) {
        next = { key: p };
        cur.children!.push(next);
      }
      if (i === parts.length - 1) {
        if (!next.children) next.field = name;
      } else {
        // a name that is both a value and a parent: the nested members win
        if (!next.children) next.children = [];
        delete next.field;
      }
      cur = next;
    }
  }
  return root.children!;
}

export type Serializer = (e: Event) => string;

/** Compile a serializer for the given field names (in this order, re-nested on dots). */
export function compileSerializer(fieldNames: readonly string[]): Serializer {
  const tree = buildTree(fieldNames);
  const emit = (nodes: Node[]): string => {
    const parts: string[] = [];
    for (const n of nodes) {
      const k = JSON.stringify(JSON.stringify(n.key) + ':');
      if (n.children) parts.push(`${k}+${emit(n.children)}`);
      else parts.push(`${k}+enc(e[${JSON.stringify(n.field)}])`);
    }
    if (parts.length === 0) return "'{}'";
    return `'{'+` + parts.join(`+','+`) + `+'}'`;
  };
  const body = `return function serialize(e){return ${emit(tree)};};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('enc', body)(encodeValue) as Serializer;
}

/** Re-nest a flat event into a plain object (bigint → number or string as in JSON output). */
export function nestEvent(e: Event, fieldNames: readonly string[]): Record<string, unknown> {
  return JSON.parse(compileSerializer(fieldNames)(e)) as Record<string, unknown>;
}

/** The line JSON output carries when events were lost: since the previous one, and in all. */
export function lostLine(lost: number, lostTotal: number): string {
  return `{"lost":${lost},"lostTotal":${Math.max(lostTotal, lost)}}\n`;
}

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
