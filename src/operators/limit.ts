/** `--max-entries N`: keep the first N events of a (sorted) snapshot batch. */
import { IgError } from '../errors.js';
import type { EventBatch } from '../gadget/datasource.js';

/** Validate a --max-entries value; undefined/0/negative… → error, undefined stays undefined (no limit). */
export function parseMaxEntries(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new IgError('usage', `--max-entries: "${String(v)}" is not a non-negative integer`);
  }
  return n === 0 ? undefined : n;
}

export function limitBatch(batch: EventBatch, max: number | undefined): EventBatch {
  if (max === undefined || batch.events.length <= max) return batch;
  return { ...batch, events: batch.events.slice(0, max) };
}
