import type { BpfObject } from '../../../native/index.js';
import type { DataSourceSpec, GadgetSpec, SourceSpec } from '../../gadget/spec.js';
import type { Event } from '../../gadget/datasource.js';
import { PERCPU_MAPS } from '../kernel-constants.js';
import { native } from '../native.js';
import type { InstanceOptions } from '../instance.js';
import type { BatchSink, RunningSource } from './index.js';

type MapSpec = Extract<SourceSpec, { type: 'map' }>;

/**
 * A topper: every interval the map is read whole (and emptied, for GADGET_MAPITER
 * maps, so each table shows one interval), decoded key + value, and emitted as
 * one snapshot batch. Per-CPU values are summed across CPUs.
 */
export function startMapFetch(obj: BpfObject, spec: GadgetSpec, ds: DataSourceSpec, s: MapSpec, onBatch: BatchSink, opts: InstanceOptions): RunningSource {
  const n = native();
  const info = spec.maps.find((m) => m.name === s.map)!;
  const fd = obj.mapFd(s.map);
  const perCpu = PERCPU_MAPS.has(info.type);
  const ncpu = perCpu ? n.numPossibleCpus() : 1;
  const stride = perCpu ? Math.ceil(info.valueSize / 8) * 8 : info.valueSize;
  const decodeKey = ds.keyLayout!.decode;
  const decodeValue = ds.layout!.decode;
  const interval = opts.mapFetchIntervalMs ?? 1000;
  const count = opts.mapFetchCount ?? 0;

  const fetchOnce = () => {
    const d = n.mapDump(fd, info.keySize, info.valueSize, { andDelete: s.drain, perCpu });
    const kv = new DataView(d.keys.buffer, d.keys.byteOffset, d.keys.byteLength);
    const vv = new DataView(d.values.buffer, d.values.byteOffset, d.values.byteLength);
    const events: Event[] = [];
    for (let i = 0; i < d.count; i++) {
      const ev = decodeKey(kv, d.keys, i * info.keySize);
      const base = i * stride * ncpu;
      const value = decodeValue(vv, d.values, base);
      for (let c = 1; c < ncpu; c++) addNumbers(value, decodeValue(vv, d.values, base + c * stride));
      events.push(Object.assign(ev, value));
    }
    onBatch({ datasource: ds.name, events, snapshot: true });
  };

  let fetched = 0;
  let timer: NodeJS.Timeout | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const tick = () => {
    try {
      fetchOnce();
    } catch (err) {
      process.stderr.write(`warning: reading map ${s.map} failed: ${(err as Error).message}\n`);
    }
    fetched++;
    if (count > 0 && fetched >= count) {
      clearInterval(timer);
      resolveDone();
    }
  };
  timer = setInterval(tick, interval);
  return {
    done,
    async stop() {
      clearInterval(timer);
      resolveDone();
    },
  };
}

function addNumbers(into: Event, from: Event): void {
  for (const k in from) {
    const a = into[k], b = from[k];
    if (typeof a === 'number' && typeof b === 'number') into[k] = a + b;
    else if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) into[k] = BigInt(a) + BigInt(b);
  }
}
