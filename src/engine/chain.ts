/**
 * The operators of a run, in the order they are asked to take part: those that add fields
 * first (so filters, sorting and outputs see every field), the output last. Where each one's
 * subscription sits in a datasource's chain is its own priority (datasource/operator.ts).
 */
import type { DataOperator } from '../datasource/operator.js';
import { containersOperator } from '../operators/containers.js';
import { formattersOperator } from '../operators/formatters.js';
import { filterOperator } from '../operators/filter-operator.js';
import { sortOperator, limitOperator } from '../operators/sort-limit.js';
import { metricsOperator } from '../metrics/operator.js';
import { wasmOperator } from '../wasm/operator.js';
import type { RunConfig } from './config.js';

export function operatorChain(cfg: RunConfig, output: DataOperator): DataOperator[] {
  return [
    containersOperator({ selection: cfg.selection, runtimes: cfg.runtimes, fields: cfg.fields, filters: cfg.filters }),
    formattersOperator,
    // after the formatters (a guest reads `flags` made from `flags_raw`, as in IG), before what
    // reads fields: filters, sorting and outputs see the fields a guest adds
    wasmOperator({ params: cfg.params }),
    filterOperator(cfg.filters),
    sortOperator(cfg.sort),
    limitOperator(cfg.maxEntries),
    metricsOperator(cfg.metricsListen),
    output,
  ];
}
