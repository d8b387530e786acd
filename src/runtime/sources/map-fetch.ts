import type { BpfObject, RecordBatch } from '../../../native/index.js';
import type { DataSourceSpec, GadgetSpec, SourceSpec } from '../../gadget/spec.js';
import { PERCPU_MAPS } from '../../model/kernel.js';
import { native } from '../native.js';
import type { RunningSource, SourceOptions, SourceSink } from './types.js';

type MapSpec = Extract<SourceSpec, { type: 'map' }>;

/**
 * A topper: every interval the map is read whole (and emptied, for GADGET_MAPITER maps, so each
 * table shows one interval) and emitted as one snapshot batch of records, each the entry's key
 * followed by its value (the layout the spec compiled). Per-CPU values are summed across CPUs.
 */
export function startMapFetch(obj: BpfObject, spec: GadgetSpec, ds: DataSourceSpec, s: MapSpec, onBatch: SourceSink, opts: SourceOptions): RunningSource {
  const n = native();
  const info = spec.maps.find((m) => m.name === s.map)!;
  const fd = obj.mapFd(s.map);
  const perCpu = PERCPU_MAPS.has(info.type);
  const ncpu = perCpu ? n.numPossibleCpus() : 1;
  const stride = perCpu ? Math.ceil(info.valueSize / 8) * 8 : info.valueSize;
  const size = ds.recordSize!;
  const valueAt = s.valueOffset ?? 0;
  const valueBytes = Math.min(info.valueSize, size - valueAt);

  const fetchOnce = () => {
    const d = n.mapDump(fd, info.keySize, info.valueSize, { andDelete: s.drain, perCpu });
    const data = Buffer.alloc(d.count * size);
    const offsets = new Uint32Array(d.count);
    const sizes = new Uint32Array(d.count).fill(size);
    for (let i = 0; i < d.count; i++) {
      const o = i * size;
      offsets[i] = o;
      d.keys.copy(data, o, i * info.keySize, (i + 1) * info.keySize);
      const base = i * stride * ncpu;
      d.values.copy(data, o + valueAt, base, base + valueBytes);
      for (let c = 1; c < ncpu; c++) addNumbers(data, o + valueAt, d.values, base + c * stride, s.numbers ?? []);
    }
    const records: RecordBatch = { data, offsets, sizes, lost: 0 };
    onBatch({ datasource: ds.name, records, lost: 0, snapshot: true });
  };

  let fetched = 0;
  let timer: NodeJS.Timeout | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const tick = () => {
    try {
      fetchOnce();
    } catch (err) {
      opts.warn(`reading map ${s.map} failed: ${(err as Error).message}`);
    }
    fetched++;
    if (opts.mapFetchCount > 0 && fetched >= opts.mapFetchCount) {
      clearInterval(timer);
      resolveDone();
    }
  };
  timer = setInterval(tick, opts.mapFetchIntervalMs);
  return {
    done,
    async stop() {
      clearInterval(timer);
      resolveDone();
    },
  };
}

/** Add one CPU's copy of a value into the summed one, number by number (as the value's layout says). */
function addNumbers(into: Buffer, at: number, from: Buffer, fromAt: number, numbers: NonNullable<MapSpec['numbers']>): void {
  for (const x of numbers) {
    const a = at + x.offset, b = fromAt + x.offset;
    if (x.float) {
      if (x.size === 4) into.writeFloatLE(into.readFloatLE(a) + from.readFloatLE(b), a);
      else into.writeDoubleLE(into.readDoubleLE(a) + from.readDoubleLE(b), a);
      continue;
    }
    switch (x.size) {
      case 1: into[a] = (into[a]! + from[b]!) & 0xff; break;
      case 2: into.writeUInt16LE((into.readUInt16LE(a) + from.readUInt16LE(b)) & 0xffff, a); break;
      case 4: into.writeUInt32LE((into.readUInt32LE(a) + from.readUInt32LE(b)) >>> 0, a); break;
      case 8: into.writeBigUInt64LE(BigInt.asUintN(64, into.readBigUInt64LE(a) + from.readBigUInt64LE(b)), a); break;
    }
  }
}
