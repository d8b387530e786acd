/**
 * Sorting and cutting tables (--sort, --max-entries): for snapshot batches (toppers,
 * snapshotters) only, as in IG. Sorting reorders the batch's selection, reading only the sort
 * keys; nothing else is decoded.
 */
import type { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import { Priority, type DataOperator, type RunContext } from '../datasource/operator.js';
import { compileComparator, parseSort } from './sort.js';

export function sortOperator(spec: string | undefined): DataOperator {
  return {
    name: 'sort',
    instantiate(ctx: RunContext) {
      if (spec === undefined) return undefined;
      for (const ds of ctx.datasources) {
        if (ds.fields.length > 0) parseSort(spec, ds.fields); // fail now on an unknown field
        if (ctx.mode === 'run') ds.subscribe(sortStage(ds, spec), Priority.sort, 'sort');
      }
      return {};
    },
  };
}

function sortStage(ds: RunDataSource, spec: string): (b: Batch) => void {
  let version = -1;
  let sort: (b: Batch) => void = () => {};
  return (b) => {
    if (!b.snapshot) return;
    if (version !== ds.version) {
      version = ds.version;
      const keys = parseSort(spec, ds.fields);
      const decode = ds.decoder([...new Set(keys.map((k) => k.field))]);
      const cmp = compileComparator(keys);
      sort = (batch) => {
        const rows = batch.liveRows();
        const keyOf = new Map<number, Record<string, unknown>>();
        for (const r of rows) keyOf.set(r, decode(batch, r));
        const sorted = Array.from(rows).sort((x, y) => cmp(keyOf.get(x)!, keyOf.get(y)!)); // stable
        batch.setRows(Uint32Array.from(sorted));
      };
    }
    sort(b);
  };
}

export function limitOperator(max: number | undefined): DataOperator {
  return {
    name: 'limit',
    instantiate(ctx: RunContext) {
      if (max === undefined || ctx.mode !== 'run') return undefined;
      for (const ds of ctx.datasources) {
        ds.subscribe((b) => {
          if (b.snapshot) b.truncate(max);
        }, Priority.limit, 'limit');
      }
      return {};
    },
  };
}
