/**
 * IG's perf reader functions (perf.go) over the addon's PerfReader: a guest reads a perf event
 * array synchronously. Overwritable readers are read while paused, newest record first, and say
 * "deadline exceeded" (2) once drained, as IG's reader whose deadline is its creation time. A
 * non-overwritable reader, which in IG blocks until a record comes, waits here at most until the
 * guest's call runs out of time budget, then also answers 2: ig never blocks on a guest's behalf
 * past its budget.
 */
import { native } from '../../runtime/native.js';
import type { PerfReader } from '../../../native/index.js';
import { BadPointer } from '../memory.js';
import type { Host } from './host.js';
import { MapRef } from './maps.js';

const PERF_EVENT_ARRAY = 4;
/** keep this much of the budget for the guest to use what it read */
const READ_MARGIN_MS = 50;

class PerfRef {
  constructor(readonly reader: PerfReader) {}
}

export function perfFunctions(h: Host) {
  const readerOf = (handle: number, call: string): PerfRef | undefined => {
    const r = h.handles.get(handle);
    if (r instanceof PerfRef) return r;
    h.warn(call, r ? `handle ${handle >>> 0} is not a perf reader` : `handle ${handle >>> 0} not found`);
    return undefined;
  };
  const op = (call: string, handle: number, fn: (r: PerfRef) => void): number => {
    const r = readerOf(handle, call);
    if (!r) return 1;
    try {
      fn(r);
      return 0;
    } catch (e) {
      h.warn(call, (e as Error).message);
      return 1;
    }
  };

  return {
    newPerfReader(mh: number, size: number, overwritable: number): number {
      const m = h.handles.get(mh);
      // IG answers 1 here, which a guest would take for a handle; 0 is the API's "no handle"
      if (!(m instanceof MapRef) || m.closed) {
        h.warn('newPerfReader', `handle ${mh >>> 0} is not a map`);
        return 0;
      }
      if (m.type !== PERF_EVENT_ARRAY) {
        h.warn('newPerfReader', `creating perf reader: map ${m.name} is not a perf event array`);
        return 0;
      }
      let reader: PerfReader;
      try {
        reader = new (native().PerfReader)(m.fd, size >>> 0, overwritable !== 0);
      } catch (e) {
        h.warn('newPerfReader', `creating perf reader: ${(e as Error).message}`);
        return 0;
      }
      const handle = h.handles.add(new PerfRef(reader));
      if (handle === 0) {
        reader.close();
        h.warn('newPerfReader', 'too many open handles (4096)');
        return 0;
      }
      h.closers.add(() => reader.close());
      return handle;
    },

    perfReaderPause: (handle: number) => op('perfReaderPause', handle, (r) => r.reader.pause()),
    perfReaderResume: (handle: number) => op('perfReaderResume', handle, (r) => r.reader.resume()),

    perfReaderRead(handle: number, dst: number, cap: number): number {
      const r = readerOf(handle, 'perfReaderRead');
      if (!r) return 1;
      try {
        const sample = r.reader.read(Math.max(0, h.remainingMs() - READ_MARGIN_MS));
        if (!sample) return 2;
        if (!h.mem.write(dst, cap, sample)) {
          h.warn('perfReaderRead', `writing record raw bytes to guest memory: writing ${sample.length} bytes to guest memory buffer of ${cap >>> 0} bytes: not enough memory`);
          return 1;
        }
        return 0;
      } catch (e) {
        if (e instanceof BadPointer || (e as { op?: string }).op) {
          h.warn('perfReaderRead', `reading perf buffer: ${(e as Error).message}`);
          return 1;
        }
        throw e;
      }
    },

    perfReaderClose: (handle: number) => {
      const ret = op('perfReaderClose', handle, (r) => r.reader.close());
      if (ret === 0) h.handles.delete(handle);
      return ret;
    },
  };
}
