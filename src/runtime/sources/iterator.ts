import type { BpfObject } from '../../../native/index.js';
import type { DataSourceSpec, GadgetSpec, SourceSpec } from '../../gadget/spec.js';
import { parseTextRecords, mergeTextRecords, type TextRecords } from '../text-records.js';
import { IgError } from '../../errors.js';
import { mark } from '../../timings.js';
import type { RunningSource, SourceSink } from './types.js';

type IterSpec = Extract<SourceSpec, { type: 'iter-text' | 'iter-typed' }>;

const SOCKET_ITER = /^iter(\.s)?\/(tcp|udp|unix)$/;

/** IG's GADGET_ITER_TARGET_MAP(prog, map): the map an iter/bpf_map_elem program walks. */
function targetMap(spec: GadgetSpec, prog: string): string {
  const prefix = `gadget_mapelem_iter_target_${prog}___`;
  const v = spec.btf.variableNames().find((n) => n.startsWith(prefix));
  if (!v) {
    throw new IgError('invalid-object', `iter/bpf_map_elem program ${prog} has no target map`, {
      hint: `declare GADGET_ITER_TARGET_MAP(${prog}, <map_name>) in the eBPF source, as Inspektor Gadget requires`,
    });
  }
  return v.slice(prefix.length);
}

/**
 * A snapshotter: each iterator program is read once to the end and the records (text pairs or
 * raw structs) become one table.
 */
export function startIterator(
  obj: BpfObject, spec: GadgetSpec, ds: DataSourceSpec, s: IterSpec, onBatch: SourceSink, netnsPaths?: () => string[],
): RunningSource {
  const sections = new Map(spec.programs.map((p) => [p.name, p.section]));
  /** One read per network namespace for socket iterators (they see only the namespace they are created in). */
  const reads = (prog: string): { netnsPath?: string; mapFd?: number }[] => {
    if (/^iter(\.s)?\/bpf_map_elem$/.test(sections.get(prog) ?? '')) return [{ mapFd: obj.mapFd(targetMap(spec, prog)) }];
    const paths = SOCKET_ITER.test(sections.get(prog) ?? '') ? netnsPaths?.() : undefined;
    return paths?.length ? paths.map((netnsPath) => ({ netnsPath })) : [{}];
  };
  const run = async () => {
    const chunks: Buffer[] = [];
    const texts: TextRecords[] = [];
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
        texts.push(r);
        if (r.skipped) warnings.push(`skipped ${r.skipped} malformed iterator record(s) from ${prog}: ${r.firstProblem}`);
        if (r.droppedPairs) warnings.push(`dropped ${r.droppedPairs} field(s) without "=" from ${prog}'s records: ${r.firstDroppedPair}`);
      } else {
        const size = ds.recordSize!;
        if (out.length % size !== 0) {
          warnings.push(`iterator ${prog} wrote ${out.length} bytes, not a whole number of ${size}-byte records; the tail was skipped`);
        }
        chunks.push(out.subarray(0, out.length - (out.length % size)));
      }
    }
    mark('snapshot read');
    const w = warnings.length ? warnings : undefined;
    if (s.type === 'iter-text') {
      onBatch({ datasource: ds.name, text: mergeTextRecords(texts), lost: 0, snapshot: true, warnings: w });
      mark('snapshot shown');
      return;
    }
    const data = Buffer.concat(chunks);
    const size = ds.recordSize!;
    const count = data.length / size;
    const offsets = new Uint32Array(count);
    for (let i = 0; i < count; i++) offsets[i] = i * size;
    onBatch({ datasource: ds.name, records: { data, offsets, sizes: new Uint32Array(count).fill(size), lost: 0 }, lost: 0, snapshot: true, warnings: w });
    mark('snapshot shown');
  };
  const done = run();
  return { done, stop: async () => { await done.catch(() => undefined); } };
}
