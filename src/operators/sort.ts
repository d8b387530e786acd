/** `--sort a,-b`: multi-key sort, `-` = descending; numbers and bigints compare numerically. */
import { IgError } from '../errors.js';
import type { Event, FieldDesc } from '../model/field.js';

export interface SortKey {
  field: string;
  descending: boolean;
}

export function parseSort(spec: string | undefined, fields?: readonly FieldDesc[]): SortKey[] {
  if (spec === undefined) return [];
  const keys: SortKey[] = [];
  const names = fields ? new Set(fields.map((f) => f.name)) : undefined;
  for (const raw of spec.split(',')) {
    const p = raw.trim();
    if (p === '') continue;
    const descending = p.startsWith('-');
    const field = p.replace(/^[-+]/, '');
    if (names && !names.has(field)) {
      throw new IgError('usage', `--sort: unknown field "${field}"`, {
        hint: `available fields: ${fields!.map((f) => f.name).join(', ')}`,
      });
    }
    keys.push({ field, descending });
  }
  return keys;
}

export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) {
    if (ta === tb) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    // mixed: compare exactly unless a number is not an integer
    const x = a as number | bigint;
    const y = b as number | bigint;
    if (typeof x === 'number' && !Number.isInteger(x)) return x < Number(y) ? -1 : x > Number(y) ? 1 : 0;
    if (typeof y === 'number' && !Number.isInteger(y)) return Number(x) < y ? -1 : Number(x) > y ? 1 : 0;
    const bx = BigInt(x);
    const by = BigInt(y);
    return bx < by ? -1 : bx > by ? 1 : 0;
  }
  if (ta === 'boolean' && tb === 'boolean') return (a ? 1 : 0) - (b ? 1 : 0);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function compileComparator(keys: readonly SortKey[]): (a: Event, b: Event) => number {
  return (a, b) => {
    for (const k of keys) {
      const c = compareValues(a[k.field], b[k.field]);
      if (c !== 0) return k.descending ? -c : c;
    }
    return 0;
  };
}

