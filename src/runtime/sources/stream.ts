import type { BpfObject, RecordBatch } from '../../../native/index.js';
import type { DataSourceSpec, SourceSpec } from '../../gadget/spec.js';
import { native } from '../native.js';
import type { RunningSource, SourceSink } from './types.js';

type StreamSpec = Extract<SourceSpec, { type: 'stream' }>;

/** How often the ring buffer's lost-sample counter is read while no batch comes. */
const LOST_POLL_MS = 1000;
/**
 * How often it is read with the batches: at most once per this many ms (a map lookup is a
 * syscall and a copy per CPU; at full rate batches come every ~0.5 ms, and a loss is still
 * reported within a few batches of where it happened).
 */
const LOST_BATCH_MS = 50;

/**
 * A tracer: the native consumer thread hands whole batches of record bytes, passed on as they
 * are (short records padded), with the events lost since the previous batch.
 */
export function startStream(obj: BpfObject, ds: DataSourceSpec, s: StreamSpec, how: { kind: 'ringbuf' | 'perf'; perfPagesPerCpu: number }, onBatch: SourceSink): RunningSource {
  const buffer = how.kind;
  const n = native();
  const recordSize = ds.recordSize ?? 0;
  const lost = s.lostMap ? lostCounter(obj, s.lostMap) : undefined;
  // In perf mode, a record the kernel could not write is counted twice: the perf ring reports it
  // (PERF_RECORD_LOST) and gadget_submit_buf() counts the helper's error in <map>_lost_samples.
  // Every ring loss is such an error, so with a lost-samples map the map alone is the count.
  const kernelLost = !(lost && buffer === 'perf');
  let lostReadAt = 0;
  const mapLostSince = () => {
    if (!lost) return 0;
    // process.uptime() (monotonic), not the global `performance`: its first use loads perf_hooks (~1 ms of a start)
    const now = process.uptime() * 1000;
    if (now - lostReadAt < LOST_BATCH_MS) return 0;
    lostReadAt = now;
    return lost.delta();
  };
  const lostSince = (b: RecordBatch) => (kernelLost ? b.lost : 0) + mapLostSince();

  const consumer = new n.RecordConsumer(obj.mapFd(s.map), buffer, (got: RecordBatch) => {
    const records = padShortRecords(got, recordSize);
    onBatch({ datasource: ds.name, records, lost: lostSince(records), snapshot: false });
  }, { perfPagesPerCpu: how.perfPagesPerCpu });
  const onlyLost = (d: number) => {
    if (d) onBatch({ datasource: ds.name, lost: d, snapshot: false });
  };
  const timer = lost ? setInterval(() => onlyLost(lost.delta()), LOST_POLL_MS) : undefined;

  let stopped: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  return {
    done,
    pause: (on) => consumer.pause(on),
    stop() {
      stopped ??= (async () => {
        if (timer) clearInterval(timer);
        await consumer.stop();
        onlyLost(lost?.delta() ?? 0);
        resolveDone();
      })();
      return stopped;
    },
  };
}

/**
 * The batch with every record at least `size` bytes: a shorter one (a variable-size tail) is
 * moved to a zero-padded copy at the end of the data, so no reader of the layout reads past
 * it. Batches without short records (nearly all) are returned as they are.
 */
export function padShortRecords(b: RecordBatch, size: number): RecordBatch {
  let extra = 0;
  for (let i = 0; i < b.sizes.length; i++) if (b.sizes[i]! < size) extra += size;
  if (extra === 0) return b;
  const data = Buffer.alloc(b.data.length + extra);
  b.data.copy(data);
  const offsets = Uint32Array.from(b.offsets);
  const sizes = Uint32Array.from(b.sizes);
  let end = b.data.length;
  for (let i = 0; i < sizes.length; i++) {
    if (sizes[i]! >= size) continue;
    b.data.copy(data, end, offsets[i]!, offsets[i]! + sizes[i]!);
    offsets[i] = end;
    sizes[i] = size;
    end += size;
  }
  return { data, offsets, sizes, lost: b.lost };
}

/** Sums the per-CPU `<map>_lost_samples` counter and returns what grew since the last call. */
function lostCounter(obj: BpfObject, map: string) {
  const n = native();
  const fd = obj.mapFd(map);
  const ncpu = n.numPossibleCpus();
  const key = Buffer.alloc(4);
  let last = 0n;
  return {
    delta(): number {
      const v = n.mapLookup(fd, key, 8 * ncpu);
      if (!v) return 0;
      let sum = 0n;
      for (let c = 0; c < ncpu; c++) sum += v.readBigUInt64LE(c * 8);
      const d = sum - last;
      last = sum;
      return Number(d);
    },
  };
}
