/**
 * IG's field functions (pkg/operators/wasm/fields.go): read a scalar (its error through a
 * pointer), read a string or bytes into the guest's buffer, set any kind, add a tag. Scalars
 * cross the shim as two i32 halves, so the per-record path allocates nothing.
 */
import { Kind } from '../abi.js';
import { BadPointer } from '../memory.js';
import { AccessError, FieldAccess } from './field-access.js';
import type { Host } from './host.js';
import type { RecordResolver } from './records.js';

export function fieldFunctions(h: Host, records: RecordResolver) {
  const field = (handle: number): FieldAccess | undefined => {
    const f = h.handles.get(handle);
    return f instanceof FieldAccess ? f : undefined;
  };
  const fail = (call: string, e: unknown): void => {
    if (e instanceof AccessError || e instanceof BadPointer) h.warn(call, e.message);
    else throw e;
  };
  /** IG writes 1 to the error pointer (0: none wanted); a pointer outside memory closes the module. */
  const writeErr = (errPtr: number): number => {
    if (errPtr === 0) return 0;
    try {
      h.mem.writeU32(errPtr, 1);
    } catch (e) {
      if (e instanceof BadPointer) h.fatal('fieldGetScalar', `its error pointer is bad: ${e.message}`);
      throw e;
    }
    return 0;
  };

  return {
    fieldGetScalar(fh: number, dh: number, kind: number, errPtr: number): number {
      const f = field(fh);
      const rec = f && records.resolve(dh);
      if (!f || !rec) {
        if (!f) h.warn('fieldGetScalar', `handle ${fh >>> 0} is not a field`);
        else h.warn('fieldGetScalar', `handle ${dh >>> 0} is not a record`);
        return writeErr(errPtr);
      }
      try {
        const lo = f.scalar(rec.b, rec.r, kind);
        h.hi(f.hi);
        return lo;
      } catch (e) {
        fail('fieldGetScalar', e);
        return writeErr(errPtr);
      }
    },

    fieldGetBuffer(fh: number, dh: number, kind: number, dst: number, cap: number): number {
      const f = field(fh);
      const rec = f && records.resolve(dh);
      if (!f || !rec) return -1;
      if (kind !== Kind.String && kind !== Kind.Bytes) {
        h.warn('fieldGetBuffer', `unknown field kind: ${kind >>> 0}`);
        return -1;
      }
      try {
        const bytes = f.buffer(rec.b, rec.r);
        if (!h.mem.write(dst, cap, bytes)) {
          h.warn('fieldGetBuffer', `field "${f.name}": writing ${bytes.length} bytes to guest memory buffer of ${cap >>> 0} bytes: not enough memory`);
          return -1;
        }
        return bytes.length;
      } catch (e) {
        fail('fieldGetBuffer', e);
        return -1;
      }
    },

    fieldSet(fh: number, dh: number, kind: number, lo: number, hi: number): number {
      const f = field(fh);
      const rec = f && records.resolve(dh);
      if (!f || !rec) return 1;
      try {
        if (kind === Kind.String || kind === Kind.Bytes) f.setBuffer(rec.b, rec.r, kind, lo === 0 && hi === 0 ? new Uint8Array(0) : h.mem.view(lo, hi));
        else f.setScalar(rec.b, rec.r, kind, lo, hi);
        return 0;
      } catch (e) {
        fail('fieldSet', e);
        return 1;
      }
    },

    fieldAddTag(fh: number, addr: number, len: number): number {
      const f = field(fh);
      if (!f) return 1;
      try {
        const tag = h.mem.string(addr, len);
        const cur = f.ds.field(f.name);
        if (cur) f.ds.updateField(f.name, { tags: [...(cur.tags ?? []), tag] });
        return 0;
      } catch (e) {
        fail('fieldAddTag', e);
        return 1;
      }
    },
  };
}
