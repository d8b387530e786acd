import type { BtfSpec } from '../btf/spec.js';
import { IgError } from '../errors.js';
import type { GadgetMetadata } from './metadata.js';

/** A run flag backed by a `const volatile` variable (GADGET_PARAM). */
export interface ParamSpec {
  /** the flag, without dashes: `failed`, `pid` */
  key: string;
  /** the C variable */
  variable: string;
  /** data section holding it (`.rodata`) and its place there */
  section: string;
  offset: number;
  size: number;
  kind: 'bool' | 'int' | 'uint' | 'string' | 'enum';
  /** enum params: accepted names */
  choices?: { name: string; value: number | bigint }[];
  description?: string;
  /** gadget.yaml's default, as text (written into the object at load) */
  defaultValue?: string;
  /** the value before any flag: gadget.yaml's default, else the object's initial value */
  default: string;
  /** a param of the runtime (how it attaches: `--iface`), not a variable of the object */
  runtime?: boolean;
  /** `wasm`: a param of the gadget's wasm module (gadget.yaml params.wasm), not an eBPF variable */
  operator?: 'wasm';
  /** wasm params: the run fails without a value */
  mandatory?: boolean;
}

/** IG's well-known variables (filter.h, user_stack_map.h) have fixed flags. */
const BUILTIN_KEYS: Record<string, { key: string; description: string }> = {
  targ_pid: { key: 'pid', description: 'show only events of this process id' },
  targ_tid: { key: 'tid', description: 'show only events of this thread id' },
  targ_uid: { key: 'uid', description: 'show only events of this user id' },
  targ_gid: { key: 'gid', description: 'show only events of this group id' },
  targ_comm: { key: 'comm', description: 'show only events of processes with this command name' },
  // IG's well-known params of gadget/user_stack_map.h (pkg/operators/ebpf/params.go)
  collect_ustack: { key: 'collect-ustack', description: 'collect user stack traces' },
  collect_build_id: { key: 'collect-build-id', description: 'collect build IDs' },
  collect_otel_stack: { key: 'collect-otel-stack', description: 'collect OpenTelemetry stack traces' },
};

export function findParams(btf: BtfSpec, meta: GadgetMetadata | null, sectionBytes: (section: string) => Buffer | undefined): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (const name of btf.variableNames()) {
    const m = name.match(/^gadget_param_(.+)$/);
    if (!m) continue;
    const variable = m[1];
    const v = btf.findVariable(variable);
    if (!v || v.offset < 0) {
      throw new IgError('invalid-object', `GADGET_PARAM(${variable}) names a variable that is not a global in a data section`, {
        hint: `declare it as "const volatile <type> ${variable} = <default>;"`,
      });
    }
    const { type } = btf.resolve(v.typeId);
    let kind: ParamSpec['kind'];
    let choices: ParamSpec['choices'];
    if (type?.kind === 'int') kind = type.intEncoding!.bool || type.name === '_Bool' ? 'bool' : type.intEncoding!.signed ? 'int' : 'uint';
    else if (type?.kind === 'enum' || type?.kind === 'enum64') { kind = 'enum'; choices = type.values; }
    else if (type?.kind === 'array') kind = 'string';
    else throw new IgError('invalid-object', `param "${variable}" has a type the runtime cannot set (${type?.kind ?? 'void'})`);
    const ym = meta?.params?.ebpf?.[variable];
    const builtin = BUILTIN_KEYS[variable];
    const p: ParamSpec = {
      key: ym?.key ?? builtin?.key ?? variable,
      variable, section: v.section, offset: v.offset, size: v.size, kind, choices,
      description: ym?.description ?? builtin?.description,
      defaultValue: yamlDefault(kind, ym?.defaultValue),
      default: '',
    };
    const initial = sectionBytes(v.section);
    p.default = p.defaultValue ?? (initial ? decodeParam(p, initial) : '');
    out.push(p);
  }
  return out;
}

/**
 * gadget.yaml's default as text. An empty default of a number param (IG's trace_signal has
 * `defaultValue: ""` for an int) means "none given": the object's initial value stays, as IG does.
 */
function yamlDefault(kind: ParamSpec['kind'], v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const text = String(v);
  return text === '' && kind !== 'string' && kind !== 'bool' ? undefined : text;
}

/** Turn a flag's text into the bytes of its variable; any doubt is a usage error naming the flag. */
export function encodeParam(p: ParamSpec, text: string): Buffer {
  const bad = (why: string) => new IgError('usage', `--${p.key}: ${why}`, { hint: `run with --help to see what --${p.key} takes` });
  const buf = Buffer.alloc(p.size);
  switch (p.kind) {
    case 'bool': {
      const t = text.toLowerCase();
      if (!['true', 'false', '1', '0', ''].includes(t)) throw bad(`"${text}" is not true or false`);
      buf.writeUInt8(t === 'true' || t === '1' || t === '' ? 1 : 0, 0);
      return buf;
    }
    case 'string': {
      const bytes = Buffer.from(text, 'utf8');
      if (bytes.length >= p.size) throw bad(`"${text}" is longer than ${p.size - 1} bytes`);
      bytes.copy(buf);
      return buf;
    }
    case 'enum': {
      const c = p.choices?.find((x) => x.name === text || x.name.toLowerCase().endsWith(text.toLowerCase()));
      const v = c ? BigInt(c.value) : /^-?\d+$/.test(text) ? BigInt(text) : undefined;
      if (v === undefined) throw bad(`"${text}" is not one of ${p.choices?.map((x) => x.name).join(', ')}`);
      return writeInt(buf, v, true, bad);
    }
    default: {
      if (!/^[-+]?(0x[0-9a-f]+|\d+)$/i.test(text.trim())) throw bad(`"${text}" is not an integer`);
      const neg = text.trim().startsWith('-');
      const v = BigInt(text.trim().replace(/^[-+]/, ''));
      return writeInt(buf, neg ? -v : v, p.kind === 'int', bad);
    }
  }
}

function writeInt(buf: Buffer, v: bigint, signed: boolean, bad: (w: string) => Error): Buffer {
  const bits = BigInt(buf.length * 8);
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (v < min || v > max) throw bad(`${v} is out of range ${min}..${max}`);
  const u = v < 0n ? (1n << bits) + v : v;
  for (let i = 0; i < buf.length; i++) buf[i] = Number((u >> BigInt(8 * i)) & 0xffn);
  return buf;
}

/** The current value of a param as text, read from its section's bytes (the default before any flag). */
function decodeParam(p: ParamSpec, section: Buffer): string {
  const b = section.subarray(p.offset, p.offset + p.size);
  if (b.length < p.size) return '';
  switch (p.kind) {
    case 'bool': return b[0] ? 'true' : 'false';
    case 'string': { const e = b.indexOf(0); return b.toString('utf8', 0, e < 0 ? b.length : e); }
    default: {
      let u = 0n;
      for (let i = b.length - 1; i >= 0; i--) u = (u << 8n) | BigInt(b[i]);
      if ((p.kind === 'int' || p.kind === 'enum') && b.length && b[b.length - 1] & 0x80) u -= 1n << BigInt(b.length * 8);
      if (p.kind === 'enum') return p.choices?.find((c) => BigInt(c.value) === u)?.name ?? String(u);
      return String(u);
    }
  }
}

/** gadget.yaml's `params.wasm`: params the wasm module reads with getParamValue (IG's wasm operator params). */
export function findWasmParams(meta: GadgetMetadata | null): ParamSpec[] {
  return Object.entries(meta?.params?.wasm ?? {}).map(([name, m]) => {
    const defaultValue = m?.defaultValue === undefined ? undefined : String(m.defaultValue);
    return {
      key: m?.key ?? name, variable: '', section: '', offset: 0, size: 0,
      kind: m?.typeHint === 'bool' ? 'bool' : 'string',
      choices: m?.possibleValues?.map((v, i) => ({ name: String(v), value: i })),
      description: m?.description, defaultValue, default: defaultValue ?? '',
      operator: 'wasm', mandatory: m?.isMandatory === true,
    };
  });
}
