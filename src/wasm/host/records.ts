/**
 * What a guest's datasource, data, data array and packet handles stand for, in the engine's
 * terms: a record is one row of a Batch (the kernel's bytes plus added values); a single packet
 * is a record; an array packet is a batch's live rows plus the elements the guest appended.
 */
import { Batch } from '../../datasource/batch.js';
import type { RunDataSource } from '../../datasource/datasource.js';
import { DATA_ARRAY_HANDLE_FLAG, DataSourceType } from '../abi.js';
import type { Handles } from '../handles.js';

export class DsRef {
  constructor(readonly ds: RunDataSource, readonly type: number) {}
}

/** One record: a datum, a single packet, or an array element. */
export class DataRef {
  b!: Batch;
  r = 0;
  /** the guest released (dropped) it while it was being delivered */
  dropped = false;
  /** `delivered`: a record passing through the chain, not one the guest made */
  constructor(readonly ds: RunDataSource, readonly delivered: boolean) {}
}

/** An array packet: the delivered batch's live rows, then the elements the guest appended. */
export class ArrayRef {
  b?: Batch;
  readonly elems: Batch[] = [];
  dropped = false;
  constructor(readonly ds: RunDataSource, readonly delivered: boolean) {}

  get length(): number {
    return (this.b?.count ?? 0) + this.elems.length;
  }

  /** Element i into `out`; false when out of range. */
  element(i: number, out: { b: Batch; r: number }): boolean {
    const n = this.b?.count ?? 0;
    if (i < n) {
      out.b = this.b!;
      out.r = this.b!.rows[i]!;
      return true;
    }
    const e = this.elems[i - n];
    if (!e) return false;
    out.b = e;
    out.r = 0;
    return true;
  }

  /** The batch the chain goes on with: the delivered one, or a copy with the appended elements. */
  result(recordSize: number): Batch {
    if (!this.elems.length) return this.b ?? Batch.ofRows(0);
    const out = Batch.concat(this.b ? [this.b, ...this.elems] : this.elems, recordSize);
    if (this.b) {
      out.lost = this.b.lost;
      out.snapshot = this.b.snapshot;
      if (this.b.warnings) out.warnings = this.b.warnings;
    }
    return out;
  }
}

/** A new record of a datasource: zeroed record bytes, or none for datasources whose fields are all added. */
export function newRecord(ds: RunDataSource): Batch {
  return ds.recordSize > 0 ? new Batch(Buffer.alloc(ds.recordSize), Uint32Array.of(0), 1) : Batch.ofRows(1);
}

/** A datasource's IG type: tracers' packets are single records, tables' are arrays. */
export function dsType(ds: RunDataSource): number {
  return ds.kind === 'tracer' ? DataSourceType.Single : DataSourceType.Array;
}

/** Resolves data handles (plain, or an array element packed as flag | index << 16 | array). */
export class RecordResolver {
  private readonly scratch = { b: undefined as unknown as Batch, r: 0 };
  constructor(private readonly handles: Handles) {}

  resolve(h: number): { b: Batch; r: number } | undefined {
    if (h & DATA_ARRAY_HANDLE_FLAG) {
      const arr = this.handles.get(h & 0xffff);
      if (!(arr instanceof ArrayRef)) return undefined;
      return arr.element((h >>> 16) & 0x7fff, this.scratch) ? this.scratch : undefined;
    }
    const d = this.handles.get(h);
    return d instanceof DataRef ? d : undefined;
  }
}
