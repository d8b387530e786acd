/**
 * The `-o json` fast path: when nothing between the ring buffer and stdout needs an event as
 * an object (no container selection, output to our stdout), a tracer's records go from the
 * native batch straight into JSON text (output/json-records.ts), with no event objects at all;
 * container fields come encoded, once per container, and a -F filter reads only its own fields.
 * Same bytes as the decoded path; `IG_DIRECT_JSON=0` turns it off (to compare the two).
 */
import type { GadgetInstance } from '../../runtime/instance.js';
import { compileFieldReader, compilePartialDecoder } from '../../btf/decoder.js';
import { compileFilter, parseFilters } from '../../operators/filter.js';
import type { ContainerStage } from './containers.js';
import type { LostCounter } from '../../operators/lost.js';
import { compileRecordWriter } from '../../output/json-records.js';
import { DirectJsonSink } from '../../output/json-direct.js';
import { stdoutFd } from '../../output/stdout.js';
import { outputFields } from './sinks.js';

export interface DirectOptions {
  output: string;
  fieldsSpec: string | undefined;
  filters: readonly string[];
  /** the session prints to our stdout (not the daemon's remote client) */
  toStdout: boolean;
  containers: ContainerStage | null;
}

/** The direct sinks by datasource name, for the tracers that can take the fast path (may be none). */
export function directJsonSinks(inst: GadgetInstance, o: DirectOptions, lost: LostCounter): Map<string, DirectJsonSink> {
  const sinks = new Map<string, DirectJsonSink>();
  if (o.output !== 'json' || !o.toStdout || o.containers?.selects || process.env.IG_DIRECT_JSON === '0') return sinks;
  for (const ds of inst.spec.datasources) {
    if (ds.source.type !== 'stream' || !ds.layout) continue;
    const names = outputFields(o.output, ds.fields, o.fieldsSpec).map((f) => f.name);
    const known = new Set(ds.layout.codes.map((c) => c.name));
    const external = names.filter((n) => !known.has(n));
    let values: ((dv: DataView, u8: Buffer, o: number) => Buffer[]) | undefined;
    if (external.length) {
      const enrichment = o.containers?.encodedEnrichment(ds, external);
      if (!enrichment) continue;
      const ownerOf = compileFieldReader(ds.layout, enrichment.owner)!;
      values = (dv, u8, at) => enrichment.valuesOf(ownerOf(dv, u8, at));
    }
    let keep: ((dv: DataView, u8: Buffer, o: number) => boolean) | undefined;
    if (o.filters.length) {
      const exprs = parseFilters(o.filters, ds.fields);
      const decodeSome = compilePartialDecoder(ds.layout, [...new Set(exprs.map((e) => e.field.name))]);
      if (!decodeSome) continue; // a filter on container fields: the decoded path has them
      const pred = compileFilter(exprs);
      keep = (dv, u8, at) => pred(decodeSome(dv, u8, at));
    }
    sinks.set(ds.name, new DirectJsonSink({
      writer: compileRecordWriter(ds.layout, names, external),
      external: values,
      keep,
      fieldNames: names,
      fd: stdoutFd(),
      lost,
    }));
  }
  return sinks;
}
