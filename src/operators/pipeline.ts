/**
 * The operator chain for one datasource: filter → (snapshot batches only) sort → limit.
 * Field projection is the sink's job (output/), enrichment happens before this.
 *
 *   const p = createPipeline({ fields: ds.fields, filter: args.filter, sort: args.sort, maxEntries: args['max-entries'] });
 *   params.targ_pid ??= p.kernelFilters.pid;      // optional in-kernel pre-filtering
 *   source.onBatch = (b) => { lost.add(b.lost); const out = p.process(b); if (out.events.length || out.snapshot) sink.write(out); };
 *
 * Flags are validated when the pipeline is created (bad -F/--sort/--max-entries → IgError 'usage').
 * When the fields are only known later (text iterators learn them from the first records), pass
 * a function; parsing then happens on the first batch.
 */
import type { EventBatch, FieldDesc } from '../gadget/datasource.js';
import { compileFilter, kernelPushdown, parseFilters, type FilterExpr, type KernelFilters } from './filter.js';
import { parseMaxEntries } from './limit.js';
import { compileComparator, parseSort, type SortKey } from './sort.js';

export interface PipelineOptions {
  fields: readonly FieldDesc[] | (() => readonly FieldDesc[]);
  /** -F values (one per flag) */
  filter?: string | readonly string[];
  /** --sort */
  sort?: string;
  /** --max-entries (number or flag string; 0/undefined = no limit) */
  maxEntries?: unknown;
}

export interface Pipeline {
  /** the parsed filters ([] until the fields are known) */
  readonly filters: readonly FilterExpr[];
  /** equality filters the kernel can apply (pid, tid, uid, gid, comm) */
  readonly kernelFilters: KernelFilters;
  readonly sortKeys: readonly SortKey[];
  readonly maxEntries: number | undefined;
  /** run one batch through the chain; returns a new batch (or the same one when nothing applies) */
  process(batch: EventBatch): EventBatch;
}

export function createPipeline(opts: PipelineOptions): Pipeline {
  const maxEntries = parseMaxEntries(opts.maxEntries);
  let filters: FilterExpr[] = [];
  let sortKeys: SortKey[] = [];
  let pred: ((e: Record<string, unknown>) => boolean) | undefined;
  let cmp: ((a: Record<string, unknown>, b: Record<string, unknown>) => number) | undefined;
  let ready = false;

  const prepare = (): void => {
    if (ready) return;
    const fields = typeof opts.fields === 'function' ? opts.fields() : opts.fields;
    if (typeof opts.fields === 'function' && fields.length === 0) return; // not known yet
    filters = parseFilters(opts.filter, fields);
    sortKeys = parseSort(opts.sort, fields);
    pred = filters.length ? compileFilter(filters) : undefined;
    cmp = sortKeys.length ? compileComparator(sortKeys) : undefined;
    ready = true;
  };
  if (typeof opts.fields !== 'function') prepare();

  return {
    get filters() {
      return filters;
    },
    get kernelFilters() {
      return kernelPushdown(filters);
    },
    get sortKeys() {
      return sortKeys;
    },
    maxEntries,
    process(batch: EventBatch): EventBatch {
      prepare();
      let events = batch.events;
      if (pred) events = events.filter(pred);
      if (batch.snapshot) {
        if (cmp) {
          if (events === batch.events) events = [...events];
          events.sort(cmp);
        }
        if (maxEntries !== undefined && events.length > maxEntries) events = events.slice(0, maxEntries);
      }
      return events === batch.events ? batch : { ...batch, events };
    },
  };
}

