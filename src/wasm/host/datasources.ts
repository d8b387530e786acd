/**
 * IG's datasource and data array functions (pkg/operators/wasm/datasource.go), on the engine's
 * datasources. A subscription is a subscriber of the datasource at the guest's priority that
 * calls the guest's dataSourceCallback once per record (Data; Packet of a single datasource) or
 * once per batch (Array; Packet of an array datasource), inside one time budget per batch,
 * allocating nothing per record: the record's handle is a fresh number for the same object.
 *
 * ig's additions, where IG's host does nothing: a guest that releases (dataSourceRelease) the
 * packet or record it is being handed drops it from the chain; elements it appends to a data
 * array it is handed go on down the chain with the others.
 */
import type { Batch } from '../../datasource/batch.js';
import type { RunDataSource } from '../../datasource/datasource.js';
import type { FieldDesc } from '../../model/field.js';
import { fieldAttrs } from '../../gadget/metadata.js';
import { DataSourceType, Kind, KIND_NAMES, SubscriptionType } from '../abi.js';
import { BadPointer } from '../memory.js';
import { FieldAccess } from './field-access.js';
import type { Host } from './host.js';
import { ArrayRef, DataRef, DsRef, dsType, newRecord } from './records.js';

const MAX_ARRAY_INDEX = 0x7fff;

function jsKind(kind: number): FieldDesc['kind'] {
  switch (kind) {
    case Kind.Bool: return 'bool';
    case Kind.Int64: case Kind.Uint64: return 'bigint';
    case Kind.String: case Kind.CString: case Kind.Bytes: case Kind.Invalid: return 'string';
    default: return 'number';
  }
}

export function datasourceFunctions(h: Host) {
  const ds = (handle: number, call: string): DsRef | undefined => {
    const d = h.handles.get(handle);
    if (d instanceof DsRef) return d;
    h.warn(call, d ? `handle ${handle >>> 0} is not a datasource` : `handle ${handle >>> 0} not found`);
    return undefined;
  };
  const str = (call: string, addr: number, len: number): string | undefined => {
    try {
      return h.mem.string(addr, len);
    } catch (e) {
      if (e instanceof BadPointer) {
        h.warn(call, e.message);
        return undefined;
      }
      throw e;
    }
  };
  const handleFor = (obj: object, call: string): number => {
    const n = h.handles.add(obj);
    if (n === 0) h.warn(call, 'too many open handles (4096)');
    return n;
  };

  function subscribe(ref: DsRef, type: number, prio: number, cb: bigint, dsHandle: number): string | undefined {
    const d = ref.ds;
    const callback = h.callback!;
    const what = `dataSourceCallback (datasource ${d.name})`;
    if (type === SubscriptionType.Data || (type === SubscriptionType.Packet && ref.type === DataSourceType.Single)) {
      const rec = new DataRef(d, true);
      d.subscribe((b: Batch) => {
        if (b.count === 0) return;
        let drop: Uint8Array | undefined;
        h.call(what, () => {
          const rows = b.rows;
          rec.b = b;
          for (let k = 0; k < b.count; k++) {
            rec.r = rows[k]!;
            rec.dropped = false;
            const handle = h.handles.add(rec);
            if (handle === 0) {
              h.warn('dataSourceCallback', 'too many open handles (4096): the record is passed on without the module seeing it');
              continue;
            }
            callback(cb, dsHandle, handle);
            h.handles.delete(handle);
            if (rec.dropped) (drop ??= new Uint8Array(b.size))[rec.r] = 1;
          }
        });
        if (drop) b.keep((r) => drop![r] === 0);
      }, prio, `wasm ${h.name}`);
      return undefined;
    }
    if (ref.type !== DataSourceType.Array) return type === SubscriptionType.Array ? 'only array datasources can subscribe to array data' : `unknown subscription type ${type}`;
    if (type !== SubscriptionType.Array && type !== SubscriptionType.Packet) return `unknown subscription type ${type}`;
    d.subscribe((b: Batch) => {
      const arr = new ArrayRef(d, true);
      arr.b = b;
      h.call(what, () => {
        const handle = h.handles.addLow(arr);
        if (handle === 0) {
          h.warn('dataSourceCallback', 'too many open handles (4096): the batch is passed on without the module seeing it');
          return;
        }
        callback(cb, dsHandle, handle);
        h.handles.delete(handle);
      });
      if (arr.dropped) {
        b.truncate(0);
        return;
      }
      return arr.elems.length ? arr.result(d.recordSize) : undefined;
    }, prio, `wasm ${h.name}`);
    return undefined;
  }

  return {
    newDataSource(addr: number, len: number, type: number): number {
      const name = str('newDataSource', addr, len);
      if (name === undefined) return 0;
      if (h.phase !== 'init') {
        h.warn('newDataSource', `datasource "${name}": datasources can only be created in gadgetInit`);
        return 0;
      }
      if (type !== DataSourceType.Single && type !== DataSourceType.Array) {
        h.warn('newDataSource', `datasource "${name}": unknown datasource type ${type >>> 0}`);
        return 0;
      }
      if (!name || h.ctx.datasource(name)) {
        h.warn('newDataSource', name ? `a datasource named "${name}" already exists` : 'a datasource needs a name');
        return 0;
      }
      const d = h.ctx.addDataSource(name, type === DataSourceType.Single ? 'tracer' : 'snapshotter');
      Object.assign(d.annotations, h.ctx.spec.metadata?.datasources?.[name]?.annotations ?? {});
      return handleFor(new DsRef(d, type), 'newDataSource');
    },

    getDataSource(addr: number, len: number): number {
      const name = str('getDataSource', addr, len);
      if (name === undefined) return 0;
      const d = h.ctx.datasource(name);
      if (!d) {
        h.warn('getDataSource', `datasource not found "${name}"`);
        return 0;
      }
      return handleFor(new DsRef(d, dsType(d)), 'getDataSource');
    },

    dataSourceSubscribe(dsh: number, type: number, prio: number, cbLo: number, cbHi: number): number {
      if (!h.callback) {
        h.warn('dataSourceSubscribe', 'the module exports no dataSourceCallback');
        return 1;
      }
      const ref = ds(dsh, 'dataSourceSubscribe');
      if (!ref) return 1;
      const cb = (BigInt(cbHi >>> 0) << 32n) | BigInt(cbLo >>> 0);
      const err = subscribe(ref, type >>> 0, prio | 0, BigInt.asIntN(64, cb), dsh);
      if (err) {
        h.warn('dataSourceSubscribe', `datasource ${ref.ds.name}: ${err}`);
        return 1;
      }
      return 0;
    },

    dataSourceGetField(dsh: number, addr: number, len: number): number {
      const ref = ds(dsh, 'dataSourceGetField');
      const name = str('dataSourceGetField', addr, len);
      if (!ref || name === undefined) return 0;
      const d = ref.ds;
      const f = d.field(name) ?? d.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
      if (!f) return 0; // IG: no field, no handle, no message
      return handleFor(new FieldAccess(d, f, guestKinds.get(d)?.get(f.name)), 'dataSourceGetField');
    },

    dataSourceAddField(dsh: number, addr: number, len: number, kind: number): number {
      kind >>>= 0;
      if (kind > Kind.Bytes) {
        h.warn('dataSourceAddField', `invalid field kind ${kind}`);
        return 0;
      }
      const ref = ds(dsh, 'dataSourceAddField');
      const name = str('dataSourceAddField', addr, len);
      if (!ref || name === undefined) return 0;
      const d = ref.ds;
      if (h.phase !== 'init') {
        h.warn('dataSourceAddField', `field "${name}" of datasource ${d.name}: fields can only be added in gadgetInit`);
        return 0;
      }
      if (!name || d.field(name)) {
        h.warn('dataSourceAddField', name ? `adding field "${name}" to datasource "${d.name}": field "${name}" already exists` : 'a field needs a name');
        return 0;
      }
      const f = d.addField({ name, kind: jsKind(kind), typeName: KIND_NAMES[kind], tags: [], ...fieldAttrs(h.ctx.spec.metadata, d.name, name) });
      let kinds = guestKinds.get(d);
      if (!kinds) guestKinds.set(d, (kinds = new Map()));
      kinds.set(name, kind);
      return handleFor(new FieldAccess(d, f, kind), 'dataSourceAddField');
    },

    dataSourceNewPacketSingle(dsh: number): number {
      const ref = ds(dsh, 'dataSourceNewPacketSingle');
      if (!ref) return 0;
      if (ref.type !== DataSourceType.Single) {
        h.warn('dataSourceNewPacketSingle', `datasource ${ref.ds.name}: only single datasources can create single packets`);
        return 0;
      }
      const rec = new DataRef(ref.ds, false);
      rec.b = newRecord(ref.ds);
      return handleFor(rec, 'dataSourceNewPacketSingle');
    },

    dataSourceNewPacketArray(dsh: number): number {
      const ref = ds(dsh, 'dataSourceNewPacketArray');
      if (!ref) return 0;
      if (ref.type !== DataSourceType.Array) {
        h.warn('dataSourceNewPacketArray', `datasource ${ref.ds.name}: only array datasources can create array packets`);
        return 0;
      }
      const n = h.handles.addLow(new ArrayRef(ref.ds, false));
      if (n === 0) h.warn('dataSourceNewPacketArray', 'too many open handles (4096)');
      return n;
    },

    dataSourceEmitAndRelease(dsh: number, ph: number): number {
      const ref = ds(dsh, 'dataSourceEmitAndRelease');
      if (!ref) return 1;
      const p = h.handles.get(ph);
      if (!(p instanceof DataRef || p instanceof ArrayRef)) {
        h.warn('dataSourceEmitAndRelease', `packet handle ${ph >>> 0} not found`);
        return 1;
      }
      if (p.delivered) {
        h.warn('dataSourceEmitAndRelease', 'a packet being delivered to the module cannot be emitted again');
        return 1;
      }
      if (p.ds !== ref.ds) {
        h.warn('dataSourceEmitAndRelease', `a packet of datasource ${p.ds.name} cannot be emitted into ${ref.ds.name}`);
        return 1;
      }
      h.handles.delete(ph);
      if (p instanceof DataRef) h.emit(ref.ds, p.b, false);
      else h.emit(ref.ds, p.result(ref.ds.recordSize), true);
      return 0;
    },

    dataSourceRelease(dsh: number, ph: number): number {
      if (!ds(dsh, 'dataSourceRelease')) return 1;
      const p = h.handles.get(ph);
      if (!(p instanceof DataRef || p instanceof ArrayRef)) return 1;
      h.handles.delete(ph);
      if (p.delivered) p.dropped = true;
      return 0;
    },

    dataSourceUnreference(dsh: number): number {
      const ref = ds(dsh, 'dataSourceUnreference');
      if (!ref) return 1;
      ref.ds.referenced = false;
      return 0;
    },

    dataSourceIsReferenced(dsh: number): number {
      const ref = ds(dsh, 'dataSourceIsReferenced');
      if (!ref) return 2;
      return ref.ds.referenced ? 1 : 0;
    },

    // ---- data arrays ----

    dataArrayNew(ah: number): number {
      const a = h.handles.get(ah);
      if (!(a instanceof ArrayRef)) return 0;
      const rec = new DataRef(a.ds, false);
      rec.b = newRecord(a.ds);
      return handleFor(rec, 'dataArrayNew');
    },

    dataArrayAppend(ah: number, dh: number): number {
      const a = h.handles.get(ah);
      if (!(a instanceof ArrayRef)) return 1;
      const d = h.handles.get(dh);
      if (!(d instanceof DataRef) || d.delivered) {
        h.warn('dataArrayAppend', `data handle ${dh >>> 0} not found`);
        return 1;
      }
      a.elems.push(d.b);
      h.handles.delete(dh);
      return 0;
    },

    dataArrayRelease(ah: number, dh: number): number {
      const a = h.handles.get(ah);
      if (!(a instanceof ArrayRef)) return 1;
      if (!(h.handles.get(dh) instanceof DataRef)) return 1;
      h.handles.delete(dh);
      return 0;
    },

    dataArrayLen(ah: number): number {
      const a = h.handles.get(ah);
      return a instanceof ArrayRef ? a.length : 0;
    },

    dataArrayGet(ah: number, index: number): number {
      const a = h.handles.get(ah);
      if (!(a instanceof ArrayRef)) return 0;
      if (index < 0 || index >= a.length) {
        h.warn('dataArrayGet', `index ${index} out of bounds for array with length ${a.length}`);
        return 0;
      }
      if (index > MAX_ARRAY_INDEX) {
        h.warn('dataArrayGet', `index ${index} is too large; max ${MAX_ARRAY_INDEX}`);
        return 0;
      }
      return (0x8000_0000 | (index << 16) | (ah & 0xffff)) | 0;
    },
  };
}

/** The IG kinds of the fields guests added, per datasource (their values are kept as that kind). */
const guestKinds = new WeakMap<RunDataSource, Map<string, number>>();
