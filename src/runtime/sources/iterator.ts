import type { BpfObject } from '../../../native/index.js';
import type { DataSourceSpec, GadgetSpec, SourceSpec } from '../../gadget/spec.js';
import { annotateFields } from '../../gadget/metadata.js';
import type { Event, EventBatch } from '../../gadget/datasource.js';
import { parseTextRecords } from '../text-records.js';
import { IgError } from '../../errors.js';
import type { BatchSink, RunningSource } from './index.js';

type IterSpec = Extract<SourceSpec, { type: 'iter-text' | 'iter-typed' }>;

const SOCKET_ITER = /^iter(\.s)?\/(tcp|udp|unix)$/;

/**
 * A snapshotter: each iterator program is read once to the end and the records
 * (text pairs or raw structs) become one table.
 */
export function startIterator(
  obj: BpfObject, spec: GadgetSpec, ds: DataSourceSpec, s: IterSpec, onBatch: BatchSink, netnsPaths?: () => string[],
): RunningSource {
  const sections = new Map(spec.programs.map((p) => [p.name, p.section]));
  /** One read per network namespace for socket iterators (they see only the namespace they are created in). */
  const reads = (prog: string): { netnsPath?: string }[] => {
    const paths = SOCKET_ITER.test(sections.get(prog) ?? '') ? netnsPaths?.() : undefined;
    return paths?.length ? paths.map((netnsPath) => ({ netnsPath })) : [{}];
  };
  const run = async () => {
    const events: Event[] = [];
    const warnings: string[] = [];
    for (const prog of s.programs) for (const where of reads(prog)) {
      let out: Buffer;
      try {
        out = obj.readIter(prog, where);
      } catch (err) {
        if (where.netnsPath && (err as { errno?: number }).errno === 2) continue; // the container ended meanwhile
        throw new IgError('kernel', `reading iterator "${prog}" failed: ${(err as Error).message}`, { cause: err });
      }
      if (s.type === 'iter-text') {
        const r = parseTextRecords(out);
        // Text records carry no types: their fields appear now, and take gadget.yaml's column annotations.
        const learned = annotateFields(spec.metadata, ds.name, r.fields);
        for (const f of learned) if (!ds.fields.some((x) => x.name === f.name)) ds.fields.push(f);
        events.push(...r.events);
        if (r.skipped) warnings.push(`skipped ${r.skipped} malformed iterator record(s) from ${prog}: ${r.firstProblem}`);
        if (r.droppedPairs) warnings.push(`dropped ${r.droppedPairs} field(s) without "=" from ${prog}'s records: ${r.firstDroppedPair}`);
      } else {
        const size = ds.recordSize!;
        if (out.length % size !== 0) {
          warnings.push(`iterator ${prog} wrote ${out.length} bytes, not a whole number of ${size}-byte records; the tail was skipped`);
        }
        const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
        for (let o = 0; o + size <= out.length; o += size) events.push(ds.layout!.decode(dv, out, o));
      }
    }
    const batch: EventBatch = { datasource: ds.name, events, snapshot: true };
    if (warnings.length) batch.warnings = warnings;
    onBatch(batch);
  };
  const done = run();
  return { done, stop: async () => { await done.catch(() => undefined); } };
}
