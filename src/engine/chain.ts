/**
 * The operators of a run, in the order they are asked to take part: those that add fields
 * first (so filters, sorting and outputs see every field), the output last. Where each one's
 * subscription sits in a datasource's chain is its own priority (datasource/operator.ts).
 */
import type { DataOperator } from '../datasource/operator.js';
import { containersOperator } from '../operators/containers.js';
import { formattersOperator } from '../operators/formatters.js';
import { stacksOperator } from '../operators/stacks.js';
import { processOperator } from '../operators/process.js';
import { bpfstatsOperator } from '../operators/bpfstats.js';
import { filterOperator } from '../operators/filter-operator.js';
import { sortOperator, limitOperator } from '../operators/sort-limit.js';
import { metricsOperator } from '../metrics/operator.js';
import { wasmOperator } from '../wasm/operator.js';
import type { RunConfig } from './config.js';

/** Operators an operator-only gadget (gadget.yaml alone) may name under `operator:`, with the params they take. */
export const OPERATOR_ONLY = {
  process: [],
  ebpf: [{ key: 'statistics-interval', description: 'interval of the eBPF statistics (bpfstats)', defaultValue: '1000ms' }],
} as const;

export function operatorChain(cfg: RunConfig, output: DataOperator): DataOperator[] {
  return [
    processOperator(cfg.params),
    bpfstatsOperator(cfg.params),
    containersOperator({ selection: cfg.selection, runtimes: cfg.runtimes, fields: cfg.fields, filters: cfg.filters }),
    formattersOperator,
    stacksOperator,
    // after the formatters (a guest reads `flags` made from `flags_raw`, as in IG), before what
    // reads fields: filters, sorting and outputs see the fields a guest adds
    wasmOperator({ params: cfg.params }),
    filterOperator(cfg.filters),
    sortOperator(cfg.sort),
    limitOperator(cfg.maxEntries),
    metricsOperator({ listen: cfg.metricsListen, otel: cfg.otel }),
    output,
  ];
}
