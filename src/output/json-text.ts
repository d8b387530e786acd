/**
 * JSON text of values and events, the rules every JSON path shares: dotted field names re-nested
 * (`k8s.podName` → `{"k8s":{"podName":…}}`), bigint → a number when it is a safe integer, else a
 * string; the lost-events line. The serializer turns a flat event object into the same text the
 * record writer (json-records.ts) writes from bytes.
 */
import type { Event } from '../model/field.js';

// characters JSON.stringify would escape (surrogates: lone ones are escaped, so let it decide)
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON text of one value (bigint-safe; typed arrays → arrays; undefined → null). */
export function encodeValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      // most values (comm, paths, names) need no escaping: skip JSON.stringify, ~3x faster
      return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : '"' + v + '"';
    case 'number':
      return v - v === 0 ? '' + v : 'null'; // finite
    case 'bigint':
      return v <= 9007199254740991n && v >= -9007199254740991n ? String(v) : '"' + String(v) + '"';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) return '[' + v.map(encodeValue).join(',') + ']';
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
        return '[' + Array.from(v as unknown as ArrayLike<number | bigint>, encodeValue).join(',') + ']';
      }
      const o = v as Record<string, unknown>;
      return '{' + Object.keys(o).map((k) => JSON.stringify(k) + ':' + encodeValue(o[k])).join(',') + '}';
    }
    default:
      return 'null';
  }
}

export interface Node {
  key: string;
  field?: string; // leaf: the flat field name
  children?: Node[];
}

/** Field names as the JSON nesting: `a.b` and `a.c` become one `a` object, in first-seen order. */
export function buildTree(names: readonly string[]): Node[] {
  const root: Node = { key: '', children: [] };
  for (const name of names) {
    const parts = name.split('.');
    let cur = root;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      let next = cur.children!.find((c) => c.key === p);
      if (!next) {
        next = { key: p };
        cur.children!.push(next);
      }
      if (i === parts.length - 1) {
        if (!next.children) next.field = name;
      } else {
        // a name that is both a value and a parent: the nested members win
        if (!next.children) next.children = [];
        delete next.field;
      }
      cur = next;
    }
  }
  return root.children!;
}

export type Serializer = (e: Event) => string;

/** Compile a serializer for the given field names (in this order, re-nested on dots). */
export function compileSerializer(fieldNames: readonly string[]): Serializer {
  const tree = buildTree(fieldNames);
  const emit = (nodes: Node[]): string => {
    const parts: string[] = [];
    for (const n of nodes) {
      const k = JSON.stringify(JSON.stringify(n.key) + ':');
      if (n.children) parts.push(`${k}+${emit(n.children)}`);
      else parts.push(`${k}+enc(e[${JSON.stringify(n.field)}])`);
    }
    if (parts.length === 0) return "'{}'";
    return `'{'+` + parts.join(`+','+`) + `+'}'`;
  };
  const body = `return function serialize(e){return ${emit(tree)};};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('enc', body)(encodeValue) as Serializer;
}

/** Re-nest a flat event into a plain object (bigint → number or string as in JSON output). */
export function nestEvent(e: Event, fieldNames: readonly string[]): Record<string, unknown> {
  return JSON.parse(compileSerializer(fieldNames)(e)) as Record<string, unknown>;
}

/** The line JSON output carries when events were lost: since the previous one, and in all. */
export function lostLine(lost: number, lostTotal: number): string {
  return `{"lost":${lost},"lostTotal":${Math.max(lostTotal, lost)}}\n`;
}

