/**
 * `-F/--filter`: `field==v`, `!=`, `>=`, `>`, `<=`, `<`, `~regex`, `!~regex`; a comma separates
 * expressions that must all hold (AND), `\,` is a literal comma; several -F flags AND together.
 * Expressions are checked against the datasource's fields and compiled once into a predicate.
 */
import { IgError } from '../errors.js';
import type { Event, FieldDesc } from '../model/field.js';
import { splitCommaList } from '../text/comma-list.js';

type FilterOp = '==' | '!=' | '>=' | '>' | '<=' | '<' | '~' | '!~';

export interface FilterExpr {
  field: FieldDesc;
  op: FilterOp;
  /** the operand as the user wrote it (comma escapes removed) */
  value: string;
  /** the whole expression, for messages */
  text: string;
}

// longest operators first so `>=` is not read as `>` followed by "=v"
const OPS: FilterOp[] = ['==', '!=', '!~', '>=', '<=', '>', '<', '~'];

/** Split one -F value on unescaped commas; `\,` becomes `,` (other backslashes are kept for regexes). */
export const splitFilterSpec = splitCommaList;

function availableHint(fields: readonly FieldDesc[]): string {
  return `available fields: ${fields.map((f) => f.name).join(', ')}`;
}

const isNumericKind = (f: FieldDesc): boolean => f.kind === 'number' || f.kind === 'bigint';

function parseInteger(s: string): bigint | undefined {
  const t = s.trim();
  if (!/^[-+]?(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)$/i.test(t)) return undefined;
  const neg = t.startsWith('-');
  const body = t.replace(/^[-+]/, '');
  try {
    const b = BigInt(body);
    return neg ? -b : b;
  } catch {
    return undefined;
  }
}

/** Parse -F values (one string or one per flag) against a datasource's fields. */
export function parseFilters(specs: string | readonly string[] | undefined, fields: readonly FieldDesc[]): FilterExpr[] {
  const list = specs === undefined ? [] : typeof specs === 'string' ? [specs] : specs;
  const byName = new Map(fields.map((f) => [f.name, f]));
  const exprs: FilterExpr[] = [];
  for (const spec of list) {
    for (const raw of splitFilterSpec(spec)) {
      const text = raw.trim();
      if (text === '') {
        if (list.length === 1 && spec.trim() === '') continue;
        throw new IgError('usage', `filter: empty expression in "${spec}"`, {
          hint: 'write field==value, separate expressions with "," (use \\, for a literal comma)',
        });
      }
      const m = /^([A-Za-z_][\w.]*)\s*/.exec(text);
      if (!m) {
        throw new IgError('usage', `filter: expression "${text}" does not start with a field name`, {
          hint: 'write field==value, field!=value, field>=value, field~regex, …',
        });
      }
      const name = m[1]!;
      let rest = text.slice(m[0].length);
      const op = OPS.find((o) => rest.startsWith(o));
      if (!op) {
        const got = rest === '' ? 'nothing' : `"${rest}"`;
        throw new IgError('usage', `filter: expected an operator after "${name}" in "${text}", got ${got}`, {
          hint: 'operators: == != >= > <= < ~ (regex) !~ (regex does not match)',
        });
      }
      const field = byName.get(name);
      if (!field) {
        throw new IgError('usage', `filter: unknown field "${name}"`, { hint: availableHint(fields) });
      }
      rest = rest.slice(op.length);
      const value = rest;
      if (op === '~' || op === '!~') {
        try {
          new RegExp(value);
        } catch (e) {
          throw new IgError('usage', `filter: invalid regular expression "${value}" in "${text}": ${(e as Error).message}`);
        }
      } else if (isNumericKind(field) && parseInteger(value) === undefined && !(field.kind === 'number' && value.trim() !== '' && Number.isFinite(Number(value)))) {
        throw new IgError('usage', `filter: field "${name}" is numeric but "${value}" is not a number (in "${text}")`, {
          hint: `compare ${name} with a number, e.g. ${name}${op}1000`,
        });
      } else if (field.kind === 'bool' && (op === '==' || op === '!=') && !/^(true|false|1|0)$/i.test(value.trim())) {
        throw new IgError('usage', `filter: field "${name}" is a boolean but "${value}" is not true or false (in "${text}")`);
      }
      exprs.push({ field, op, value, text });
    }
  }
  return exprs;
}

type Pred = (e: Event) => boolean;

function cmpResult(op: FilterOp, c: number): boolean {
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    default:
      return false;
  }
}

function valueString(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map(valueString).join(',');
  return String(v);
}

function compileOne(x: FilterExpr): Pred {
  const key = x.field.name;
  const { op } = x;
  if (op === '~' || op === '!~') {
    const re = new RegExp(x.value);
    const want = op === '~';
    return (e) => re.test(valueString(e[key])) === want;
  }
  if (isNumericKind(x.field)) {
    const asInt = parseInteger(x.value);
    if (asInt !== undefined) {
      const asNum = Number(asInt);
      return (e) => {
        const v = e[key];
        let c: number;
        if (typeof v === 'bigint') c = v < asInt ? -1 : v > asInt ? 1 : 0;
        else if (typeof v === 'number') {
          if (Number.isNaN(v)) return op === '!=';
          // exact for integers beyond 2^53 too
          if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
            const bv = BigInt(v);
            c = bv < asInt ? -1 : bv > asInt ? 1 : 0;
          } else c = v < asNum ? -1 : v > asNum ? 1 : 0;
        } else return op === '!=';
        return cmpResult(op, c);
      };
    }
    const num = Number(x.value);
    return (e) => {
      const v = e[key];
      const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : NaN;
      if (Number.isNaN(n)) return op === '!=';
      return cmpResult(op, n < num ? -1 : n > num ? 1 : 0);
    };
  }
  if (x.field.kind === 'bool') {
    const want = /^(true|1)$/i.test(x.value.trim());
    return (e) => cmpResult(op, Boolean(e[key]) === want ? 0 : Boolean(e[key]) ? 1 : -1);
  }
  const s = x.value;
  return (e) => {
    const v = valueString(e[key]);
    return cmpResult(op, v < s ? -1 : v > s ? 1 : 0);
  };
}

/** All expressions must hold. No expressions → always true. */
export function compileFilter(exprs: readonly FilterExpr[]): Pred {
  const preds = exprs.map(compileOne);
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0]!;
  return (e) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i]!(e)) return false;
    return true;
  };
}

export interface KernelFilters {
  pid?: number;
  tid?: number;
  uid?: number;
  gid?: number;
  comm?: string;
}

const PUSH_TYPES: Record<string, keyof KernelFilters> = {
  gadget_pid: 'pid',
  gadget_tid: 'tid',
  gadget_uid: 'uid',
  gadget_gid: 'gid',
  gadget_comm: 'comm',
};

function pushKey(f: FieldDesc): keyof KernelFilters | undefined {
  // a formatted field (`uid` = user name from `uid_raw`) cannot be pushed down
  if (f.rawOf !== undefined) return undefined;
  if (f.typeName && PUSH_TYPES[f.typeName]) return PUSH_TYPES[f.typeName];
  const n = f.name.replace(/_raw$/, '');
  for (const k of ['pid', 'tid', 'uid', 'gid', 'comm'] as const) {
    if (n === k || n === `proc.${k}` || n === `proc.creds.${k}`) return k;
  }
  return undefined;
}

/**
 * The `==` filters the kernel can apply itself (targ_pid, targ_uid, … of the gadget). Userspace still
 * applies every filter, so this is only an optimisation. The first equality per key wins.
 */
export function kernelPushdown(exprs: readonly FilterExpr[]): KernelFilters {
  const out: KernelFilters = {};
  for (const x of exprs) {
    if (x.op !== '==') continue;
    const k = pushKey(x.field);
    if (!k || out[k] !== undefined) continue;
    if (k === 'comm') {
      // task comm is at most 15 characters; a longer value could never match
      if (x.field.kind === 'string' && x.value.length <= 15) out.comm = x.value;
    } else {
      const b = parseInteger(x.value);
      if (b !== undefined && b >= 0n && b <= 0xffffffffn) out[k] = Number(b);
    }
  }
  return out;
}
