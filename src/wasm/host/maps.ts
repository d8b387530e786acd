/**
 * IG's eBPF map functions (maps.go) and releaseHandle (handle.go). A guest reaches the gadget's
 * own maps (getMap, once they are loaded: from gadgetStart on), maps it creates (newMap, closed by
 * mapRelease or at the end of the run) and the inner maps of a map of maps, which a lookup hands
 * over as handles (the kernel gives ids; the guest never sees an fd). Map types past cilium/ebpf's
 * list are refused, and so is reading or writing fd arrays (program, perf event, cgroup arrays),
 * as IG does, so no fd leaks into a guest. Keys and values must be the map's sizes exactly.
 */
import { native } from '../../runtime/native.js';
import { FD_ARRAY_MAP_TYPES, MAP_OF_MAPS_TYPES, MAX_MAP_TYPE, MAX_UPDATE_FLAGS } from '../abi.js';
import { BadPointer } from '../memory.js';
import type { Host } from './host.js';

export class MapRef {
  constructor(
    readonly name: string,
    readonly fd: number,
    readonly type: number,
    readonly keySize: number,
    readonly valueSize: number,
    /** `created`: by newMap; `inner`: opened from a map of maps' value; `gadget`: the gadget's own */
    readonly origin: 'created' | 'inner' | 'gadget',
  ) {}
  closed = false;
}

const PERCPU_TYPES = new Set([5, 6, 10, 21]); // percpu hash, percpu array, lru percpu hash, percpu cgroup storage

export function mapFunctions(h: Host) {
  const n = native();
  const guestBuf = (addr: number, len: number): Buffer => {
    const v = h.mem.view(addr, len);
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  };
  const mapOf = (handle: number, call: string): MapRef | undefined => {
    const m = h.handles.get(handle);
    if (m instanceof MapRef && !m.closed) return m;
    h.warn(call, m ? `handle ${handle >>> 0} is not a map` : `handle ${handle >>> 0} not found`);
    return undefined;
  };
  const accessible = (m: MapRef, call: string): boolean => {
    if (m.type > MAX_MAP_TYPE) h.warn(call, `unknown map type ${m.type}`);
    else if (FD_ARRAY_MAP_TYPES.has(m.type)) h.warn(call, `FD array maps like ${m.name} (type ${m.type}) are not supported`);
    else return true;
    return false;
  };
  const valueBytes = (m: MapRef) => (PERCPU_TYPES.has(m.type) ? Math.ceil(m.valueSize / 8) * 8 * n.numPossibleCpus() : m.valueSize);
  const sized = (call: string, what: string, b: Buffer, want: number): boolean => {
    if (b.length === want) return true;
    h.warn(call, `${what} is ${b.length} bytes; the map's ${what}s are ${want}`);
    return false;
  };
  const guarded = (call: string, fn: () => number): number => {
    try {
      return fn();
    } catch (e) {
      const err = e as Error & { errno?: number };
      if (e instanceof BadPointer || err.errno !== undefined || (err as { op?: string }).op !== undefined) {
        h.warn(call, err.message);
        return call === 'newMap' || call === 'getMap' ? 0 : 1;
      }
      throw e;
    }
  };
  const closeRef = (m: MapRef) => {
    if (m.closed || m.origin === 'gadget') return;
    m.closed = true;
    n.closeFd(m.fd);
  };

  return {
    newMap(addr: number, len: number, type: number, keySize: number, valueSize: number, maxEntries: number): number {
      return guarded('newMap', () => {
        type >>>= 0;
        if (type > MAX_MAP_TYPE) {
          h.warn('newMap', `unknown map type ${type}`);
          return 0;
        }
        const name = h.mem.string(addr, len);
        const fd = n.mapCreate(type, keySize >>> 0, valueSize >>> 0, maxEntries >>> 0, name);
        const m = new MapRef(name, fd, type, keySize >>> 0, valueSize >>> 0, 'created');
        const handle = h.handles.add(m);
        if (handle === 0) {
          n.closeFd(fd);
          h.warn('newMap', 'too many open handles (4096)');
          return 0;
        }
        h.closers.add(() => closeRef(m));
        return handle;
      });
    },

    getMap(addr: number, len: number): number {
      return guarded('getMap', () => {
        const name = h.mem.string(addr, len);
        const info = h.ctx.spec.maps.find((m) => m.name === name);
        let fd = -1;
        try {
          if (info) fd = h.ctx.kernel.mapFd(name);
        } catch {
          fd = -1; // not loaded yet (gadgetInit, gadgetPreStart)
        }
        if (!info || fd < 0) {
          h.warn('getMap', `no map for name "${name}"`);
          return 0;
        }
        if (info.type > MAX_MAP_TYPE) {
          h.warn('getMap', `unknown map type ${info.type}`);
          return 0;
        }
        const handle = h.handles.add(new MapRef(name, fd, info.type, info.keySize, info.valueSize, 'gadget'));
        if (handle === 0) h.warn('getMap', 'too many open handles (4096)');
        return handle;
      });
    },

    mapLookup(mh: number, kAddr: number, kLen: number, vAddr: number, vLen: number): number {
      const m = mapOf(mh, 'mapLookup');
      if (!m || !accessible(m, 'mapLookup')) return 1;
      return guarded('mapLookup', () => {
        const key = guestBuf(kAddr, kLen);
        if (!sized('mapLookup', 'key', key, m.keySize)) return 1;
        const value = n.mapLookup(m.fd, key, valueBytes(m));
        if (!value) {
          h.warn('mapLookup', `getting value: key does not exist in ${m.name}`);
          return 1;
        }
        let inner: MapRef | undefined;
        if (MAP_OF_MAPS_TYPES.has(m.type)) {
          const id = value.readUInt32LE(0);
          const fd = n.mapFdById(id);
          const info = n.mapInfo(fd);
          inner = new MapRef(info.name, fd, info.type, info.keySize, info.valueSize, 'inner');
          const handle = h.handles.add(inner);
          if (handle === 0) {
            n.closeFd(fd);
            h.warn('mapLookup', 'too many open handles (4096)');
            return 1;
          }
          h.closers.add(() => closeRef(inner!));
          value.writeUInt32LE(handle, 0);
        }
        if (!h.mem.write(vAddr, vLen, value)) {
          h.warn('mapLookup', `writing back value to stack: buffer size ${value.length} is bigger than ${vLen >>> 0}`);
          if (inner) {
            h.handles.delete(value.readUInt32LE(0));
            closeRef(inner);
          }
          return 1;
        }
        return 0;
      });
    },

    mapUpdate(mh: number, kAddr: number, kLen: number, vAddr: number, vLen: number, flagsLo: number, flagsHi: number): number {
      if (flagsHi !== 0 || flagsLo >>> 0 > MAX_UPDATE_FLAGS) {
        h.warn('mapUpdate', `invalid flags value ${flagsHi ? '(64-bit)' : flagsLo >>> 0}, expected no more than ${MAX_UPDATE_FLAGS}`);
        return 1;
      }
      const m = mapOf(mh, 'mapUpdate');
      if (!m || !accessible(m, 'mapUpdate')) return 1;
      return guarded('mapUpdate', () => {
        const key = guestBuf(kAddr, kLen);
        let value = guestBuf(vAddr, vLen);
        if (!sized('mapUpdate', 'key', key, m.keySize)) return 1;
        if (MAP_OF_MAPS_TYPES.has(m.type)) {
          // the guest gives a map handle; the kernel wants that map's fd
          if (value.length !== 4) return (h.warn('mapUpdate', `a map of maps' value is a map handle (4 bytes), got ${value.length}`), 1);
          const target = mapOf(value.readUInt32LE(0), 'mapUpdate');
          if (!target) return 1;
          value = Buffer.alloc(4);
          value.writeUInt32LE(target.fd, 0);
        } else if (!sized('mapUpdate', 'value', value, valueBytes(m))) {
          return 1;
        }
        n.mapUpdate(m.fd, key, value, flagsLo >>> 0);
        return 0;
      });
    },

    mapDelete(mh: number, kAddr: number, kLen: number): number {
      const m = mapOf(mh, 'mapDelete');
      if (!m || !accessible(m, 'mapDelete')) return 1;
      return guarded('mapDelete', () => {
        const key = guestBuf(kAddr, kLen);
        if (!sized('mapDelete', 'key', key, m.keySize)) return 1;
        if (!n.mapDelete(m.fd, key)) {
          h.warn('mapDelete', `deleting value: key does not exist in ${m.name}`);
          return 1;
        }
        return 0;
      });
    },

    mapRelease(mh: number): number {
      const m = mapOf(mh, 'mapRelease');
      if (!m) return 1;
      if (m.origin !== 'created') {
        h.warn('mapRelease', `map ${mh >>> 0} was not created by newMap() or was already closed`);
        return 1;
      }
      closeRef(m);
      h.handles.delete(mh);
      return 0;
    },

    releaseHandle(handle: number): number {
      const o = h.handles.get(handle);
      if (!o) {
        h.warn('releaseHandle', `handle ${handle >>> 0} not found`);
        return 1;
      }
      // an inner map's fd is ours alone; the gadget's maps and newMap's stay until the run ends (as in IG)
      if (o instanceof MapRef && o.origin === 'inner') closeRef(o);
      h.handles.delete(handle);
      return 0;
    },
  };
}
