import type { Event, FieldDesc } from '../model/field.js';

export interface TextRecords {
  events: Event[];
  fields: FieldDesc[];
  /** records skipped because they were truncated or malformed, with the first reason */
  skipped: number;
  firstProblem?: string;
  /** pairs without `=` dropped from records that were otherwise kept, with the first one */
  droppedPairs: number;
  firstDroppedPair?: string;
}

const MARK = '[event]\n';

/**
 * Parse iterator output written with BPF_SEQ_PRINTF as `[event]\n` then
 * `name=value\0` pairs. NUL ends a pair because values (a comm) may hold `\n`;
 * a value may hold `=`, so only the first `=` splits. Field order is the first
 * good record's; a field whose every value is an integer is a number.
 * A record that is cut short (no NUL after its last pair) is skipped and counted;
 * a pair without `=` is dropped (and counted) but the rest of its record is kept.
 * Neither is fatal.
 */
export function parseTextRecords(out: Buffer | string): TextRecords {
  const text = typeof out === 'string' ? out : out.toString('utf8');
  const events: Event[] = [];
  const order: string[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  let firstProblem: string | undefined;
  let droppedPairs = 0;
  let firstDroppedPair: string | undefined;
  const skip = (why: string) => {
    skipped++;
    firstProblem ??= why;
  };

  let pos = text.indexOf(MARK);
  if (pos > 0 && text.slice(0, pos).trim() !== '') skip('output before the first [event] marker');
  if (pos < 0) {
    if (text.trim() !== '') skip('no [event] marker in iterator output');
    return { events, fields: [], skipped, firstProblem, droppedPairs };
  }
  while (pos >= 0) {
    const start = pos + MARK.length;
    const next = findNextMark(text, start);
    const body = text.slice(start, next < 0 ? text.length : next);
    pos = next;
    if (body === '') continue;
    if (!body.endsWith('\0')) {
      skip(`record ${events.length + skipped + 1} is truncated (its last pair has no NUL terminator)`);
      continue;
    }
    const ev: Event = {};
    for (const pair of body.slice(0, -1).split('\0')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) {
        droppedPairs++;
        firstDroppedPair ??= `record ${events.length + skipped + 1} has a pair without "=": ${JSON.stringify(pair.slice(0, 40))}`;
        continue;
      }
      ev[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    if (Object.keys(ev).length === 0) {
      skip(`record ${events.length + skipped + 1} has no name=value pair`);
      continue;
    }
    for (const k of Object.keys(ev)) if (!seen.has(k)) { seen.add(k); order.push(k); }
    events.push(ev);
  }

  const numeric = new Set(order.filter((k) => events.every((e) => e[k] === undefined || /^-?\d+$/.test(e[k] as string))));
  for (const e of events) {
    for (const k of numeric) {
      const v = e[k];
      if (typeof v !== 'string') continue;
      const n = Number(v);
      e[k] = Number.isSafeInteger(n) ? n : BigInt(v);
    }
  }
  const fields: FieldDesc[] = order.map((name) => ({ name, kind: numeric.has(name) ? 'number' : 'string' }));
  return { events, fields, skipped, firstProblem, droppedPairs, firstDroppedPair };
}

/**
 * The next `[event]\n` that starts a record: it must follow a pair's NUL (or be at
 * the start), so a value containing the text "[event]\n" cannot split a record.
 */
function findNextMark(text: string, from: number): number {
  let i = text.indexOf(MARK, from);
  while (i >= 0 && i > 0 && text[i - 1] !== '\0') i = text.indexOf(MARK, i + 1);
  return i;
}

/** Several reads' records as one table: fields in first-seen order; a field is a number only if every read says so. */
export function mergeTextRecords(parts: readonly TextRecords[]): TextRecords {
  if (parts.length === 1) return parts[0]!;
  const kinds = new Map<string, FieldDesc['kind']>();
  for (const p of parts) {
    for (const f of p.fields) kinds.set(f.name, kinds.get(f.name) === 'string' ? 'string' : f.kind);
  }
  const events = parts.flatMap((p) => p.events);
  for (const [name, kind] of kinds) {
    if (kind !== 'string') continue;
    for (const e of events) if (e[name] !== undefined && typeof e[name] !== 'string') e[name] = String(e[name]);
  }
  const first = <K extends 'firstProblem' | 'firstDroppedPair'>(k: K) => parts.find((p) => p[k] !== undefined)?.[k];
  return {
    events,
    fields: [...kinds].map(([name, kind]) => ({ name, kind })),
    skipped: parts.reduce((s, p) => s + p.skipped, 0),
    firstProblem: first('firstProblem'),
    droppedPairs: parts.reduce((s, p) => s + p.droppedPairs, 0),
    firstDroppedPair: first('firstDroppedPair'),
  };
}
