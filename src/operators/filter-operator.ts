/**
 * The filter operator (-F): per datasource, the expressions are checked against its fields and
 * compiled once; each record is tested on an object holding only the fields the filter reads,
 * so nothing else is decoded. Equality filters the kernel can apply (targ_pid, targ_uid, …) are
 * also asked of the kernel side; userspace still applies every filter.
 */
import type { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import { Priority, type DataOperator, type RunContext } from '../datasource/operator.js';
import { compileFilter, kernelPushdown, parseFilters } from './filter.js';

export function filterOperator(filters: readonly string[]): DataOperator {
  return {
    name: 'filter',
    instantiate(ctx: RunContext) {
      if (filters.length === 0) return undefined;
      for (const ds of ctx.datasources) {
        if (ds.fields.length > 0) {
          // fail now on a bad expression, and let the kernel drop what it can
          const push = kernelPushdown(parseFilters(filters, ds.fields)) as Record<string, string | number | undefined>;
          for (const [key, v] of Object.entries(push)) {
            if (v !== undefined && ctx.spec.params.some((p) => p.key === key) && !ctx.kernelRequests.params.has(key)) {
              ctx.kernelRequests.params.set(key, String(v));
            }
          }
        }
        if (ctx.mode === 'run') ds.subscribe(predicateStage(ds, filters), Priority.filter, 'filter');
      }
      return {};
    },
  };
}

/** Compiled on the first batch of each field list (text iterators learn their fields from their records). */
function predicateStage(ds: RunDataSource, filters: readonly string[]): (b: Batch) => void {
  let version = -1;
  let keep: (b: Batch, r: number) => boolean = () => true;
  return (b) => {
    if (version !== ds.version) {
      version = ds.version;
      const exprs = parseFilters(filters, ds.fields);
      const decode = ds.decoder([...new Set(exprs.map((e) => e.field.name))]);
      const pred = compileFilter(exprs);
      keep = (batch, r) => pred(decode(batch, r));
    }
    b.keep((r) => keep(b, r));
  };
}
