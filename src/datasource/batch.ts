/**
 * A batch: what flows through a datasource's operator chain. Record bytes as the kernel wrote
 * them (one native wakeup's worth, never copied per record), plus, beside them, the values of
 * fields operators added (one array per added field, indexed by record), plus a selection: the
 * records still in the batch, in output order. Dropping a record or sorting the batch only
 * rewrites the selection; nothing is decoded unless someone reads a field.
 */

/** 0, 1, 2, …: shared by batches that keep every record in order, until one changes its selection. */
let IDENTITY = new Uint32Array(0);
function identity(n: number): Uint32Array {
  if (IDENTITY.length < n) {
    IDENTITY = new Uint32Array(Math.max(n, IDENTITY.length * 2, 1024));
    for (let i = 0; i < IDENTITY.length; i++) IDENTITY[i] = i;
  }
  return IDENTITY.subarray(0, n);
}

const EMPTY = Buffer.alloc(0);

export class Batch {
  /** record bytes; record `r` starts at `offsets[r]` */
  readonly data: Buffer;
  readonly dv: DataView;
  readonly offsets: Uint32Array;
  /** how many records the batch was made with (record ids are 0 … size-1) */
  readonly size: number;
  /** added fields' values: `cols[slot][r]` */
  readonly cols: unknown[][] = [];
  /** the records still in the batch, in output order: `rows[0 … count-1]` */
  rows: Uint32Array;
  count: number;
  private ownRows = false;
  /** events the kernel (or a full buffer) lost since the previous batch */
  lost = 0;
  /** a whole table (toppers, snapshotters), not a stream chunk */
  snapshot = false;
  /** problems worth telling the user without stopping */
  warnings?: string[];

  constructor(data: Buffer, offsets: Uint32Array, size = offsets.length) {
    this.data = data;
    this.dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.offsets = offsets;
    this.size = size;
    this.rows = identity(size);
    this.count = size;
  }

  /** A batch of `n` records that live only in added fields (text iterators, remote events, operators' own packets). */
  static ofRows(n: number): Batch {
    return new Batch(EMPTY, new Uint32Array(n), n);
  }

  /** The value column for a slot, created on first use. */
  column(slot: number): unknown[] {
    let c = this.cols[slot];
    if (!c) {
      c = new Array(this.size);
      this.cols[slot] = c;
    }
    return c;
  }

  private own(): void {
    if (this.ownRows) return;
    this.rows = this.rows.slice(0, this.count);
    this.ownRows = true;
  }

  /** Keep the records for which `keep(r)` is true (order kept). */
  keep(keep: (r: number) => boolean): void {
    const rows = this.rows;
    let w = 0;
    for (let k = 0; k < this.count; k++) {
      const r = rows[k]!;
      if (!keep(r)) {
        if (w === k) this.own(); // first drop: stop sharing the identity
        continue;
      }
      if (w !== k) this.rows[w] = r;
      w++;
    }
    this.count = w;
  }

  /** Put the records in this order (sorting). */
  setRows(rows: Uint32Array): void {
    this.rows = rows;
    this.count = rows.length;
    this.ownRows = true;
  }

  /** Keep only the first `n` records. */
  truncate(n: number): void {
    if (n < this.count) this.count = n;
  }

  /** The live record ids, in order (a copy). */
  liveRows(): Uint32Array {
    return this.rows.slice(0, this.count);
  }

  /**
   * A new batch holding copies of some records (bytes and added values), e.g. to keep them past
   * this batch's life while a decision is pending. `recordSize` bytes are copied per record.
   */
  copyRows(rows: ArrayLike<number>, recordSize: number): Batch {
    const n = rows.length;
    const data = Buffer.allocUnsafe(n * recordSize);
    const offsets = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const o = this.offsets[rows[i]!]!;
      if (recordSize) this.data.copy(data, i * recordSize, o, o + recordSize);
      offsets[i] = i * recordSize;
    }
    const b = new Batch(data, offsets, n);
    this.cols.forEach((col, slot) => {
      if (!col) return;
      const c = b.column(slot);
      for (let i = 0; i < n; i++) c[i] = col[rows[i]!];
    });
    return b;
  }

  /** Copies of several batches' records in one batch (releasing held records together). */
  static concat(parts: Batch[], recordSize: number): Batch {
    const n = parts.reduce((s, p) => s + p.count, 0);
    const data = Buffer.allocUnsafe(n * recordSize);
    const offsets = new Uint32Array(n);
    const out = new Batch(data, offsets, n);
    let i = 0;
    for (const p of parts) {
      for (let k = 0; k < p.count; k++, i++) {
        const r = p.rows[k]!;
        const o = p.offsets[r]!;
        if (recordSize) p.data.copy(data, i * recordSize, o, o + recordSize);
        offsets[i] = i * recordSize;
        p.cols.forEach((col, slot) => {
          if (col) out.column(slot)[i] = col[r];
        });
      }
    }
    return out;
  }
}
