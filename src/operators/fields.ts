/**
 * `--fields a,b,c` (exactly these, in this order) or `--fields +x,-y` (change the default set =
 * the fields that are not hidden). Mixing both styles is an error.
 */
import { IgError } from '../errors.js';
import type { FieldDesc } from '../model/field.js';

function defaultFields(fields: readonly FieldDesc[]): FieldDesc[] {
  return fields.filter((f) => !f.hidden);
}

export function selectFields(fields: readonly FieldDesc[], spec?: string | readonly string[]): FieldDesc[] {
  const parts = (spec === undefined ? [] : typeof spec === 'string' ? [spec] : spec)
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) return defaultFields(fields);
  const byName = new Map(fields.map((f) => [f.name, f]));
  const hint = `available fields: ${fields.map((f) => f.name).join(', ')}`;
  const get = (n: string): FieldDesc => {
    const f = byName.get(n);
    if (!f) throw new IgError('usage', `--fields: unknown field "${n}"`, { hint });
    return f;
  };
  const modifiers = parts.filter((p) => p.startsWith('+') || p.startsWith('-'));
  if (modifiers.length === 0) {
    const seen = new Set<string>();
    const out: FieldDesc[] = [];
    for (const p of parts) {
      const f = get(p);
      if (!seen.has(f.name)) {
        seen.add(f.name);
        out.push(f);
      }
    }
    return out;
  }
  if (modifiers.length !== parts.length) {
    const plain = parts.find((p) => !p.startsWith('+') && !p.startsWith('-'));
    throw new IgError('usage', `--fields: "${plain}" mixes an exact field list with +/- changes`, {
      hint: 'either list the fields to show (a,b,c) or change the default set (+x,-y)',
    });
  }
  const selected = new Set(defaultFields(fields).map((f) => f.name));
  const added: string[] = [];
  for (const p of parts) {
    const f = get(p.slice(1));
    if (p[0] === '+') {
      if (!selected.has(f.name)) {
        selected.add(f.name);
        added.push(f.name);
      }
    } else {
      selected.delete(f.name);
      const i = added.indexOf(f.name);
      if (i >= 0) added.splice(i, 1);
    }
  }
  // defaults keep their place; added fields go at the end in the order given
  const out = fields.filter((f) => selected.has(f.name) && !added.includes(f.name));
  for (const n of added) out.push(byName.get(n)!);
  return out;
}
