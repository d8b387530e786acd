import type { BtfType } from '../../native/index.js';
import { IgError } from '../errors.js';

export type { BtfType } from '../../native/index.js';

/** Multi-dimensional arrays in C have a few levels; a deeper chain is damage or a cycle. */
const MAX_ARRAY_NESTING = 32;

/** Qualifiers that never change a value's layout. */
const QUALIFIERS = new Set(['const', 'volatile', 'restrict', 'type_tag']);

/**
 * A parsed BTF type table (the spec side, in cilium/ebpf's terms): lookups by id and
 * name, and resolution through typedefs and qualifiers. Built once per object.
 */
export class BtfSpec {
  private readonly byId: (BtfType | undefined)[] = [];
  private readonly byName = new Map<string, BtfType[]>();

  constructor(readonly types: BtfType[]) {
    for (const t of types) {
      this.byId[t.id] = t;
      if (t.name) {
        const list = this.byName.get(t.name);
        if (list) list.push(t);
        else this.byName.set(t.name, [t]);
      }
    }
  }

  get(id: number): BtfType {
    const t = this.byId[id];
    if (!t) throw new IgError('invalid-object', `BTF type id ${id} does not exist in the object`);
    return t;
  }

  /** Every type of a kind with that name. */
  named(name: string, kind?: BtfType['kind']): BtfType[] {
    const list = this.byName.get(name) ?? [];
    return kind ? list.filter((t) => t.kind === kind) : list;
  }

  /**
   * Follow typedefs and qualifiers to the type that decides the layout. Returns
   * that type and the typedef names met on the way, outermost first, because
   * `gadget_errno` → `__u32` → `unsigned int` must be formatted as an errno.
   */
  resolve(id: number): { type: BtfType | null; typedefs: string[] } {
    const typedefs: string[] = [];
    const start = id;
    for (let guard = 0; guard < 64; guard++) {
      if (id === 0) return { type: null, typedefs };
      const t = this.get(id);
      if (t.kind === 'typedef') typedefs.push(t.name);
      else if (!QUALIFIERS.has(t.kind)) return { type: t, typedefs };
      id = t.type ?? 0;
    }
    throw new IgError('invalid-object', `BTF type ${this.describe(start)} has a typedef/qualifier chain longer than 64 (a cycle?)`, {
      hint: 'the object\'s BTF is damaged or crafted; rebuild the gadget',
    });
  }

  /**
   * Byte size of a type (after resolution). Arrays of arrays are followed at most
   * MAX_ARRAY_NESTING deep, so a type that contains itself (a crafted object) is an error
   * naming it, not a stack overflow.
   */
  sizeOf(id: number): number {
    let size = 1;
    for (let depth = 0; ; depth++) {
      const { type } = this.resolve(id);
      if (!type) return 0;
      if (type.kind === 'ptr') return size * 8;
      if (type.kind !== 'array') return size * (type.size ?? 0);
      if (depth >= MAX_ARRAY_NESTING) {
        throw new IgError('invalid-object', `BTF type ${this.describe(type.id)} nests arrays more than ${MAX_ARRAY_NESTING} deep (or contains itself)`, {
          hint: 'the object\'s BTF is damaged or crafted; rebuild the gadget',
        });
      }
      size *= type.array!.nelems;
      id = type.array!.type;
    }
  }

  /** How errors name a type: `struct event [12]`, `array [7]`. */
  describe(id: number): string {
    const t = this.byId[id];
    if (!t) return `[${id}]`;
    const kind = t.kind === 'struct' || t.kind === 'union' || t.kind === 'enum' ? `${t.kind} ` : '';
    return t.name ? `${kind}${t.name} [${id}]` : `${t.kind} [${id}]`;
  }

  /** Name of a struct/union type, or of the first typedef naming it. */
  displayName(id: number): string {
    const t = this.get(id);
    if (t.name) return t.name;
    const r = this.resolve(id);
    return r.typedefs[0] ?? r.type?.name ?? `type#${id}`;
  }

  /** The struct or union named `name` (a typedef to one counts too). */
  findStruct(name: string): BtfType | undefined {
    for (const t of this.named(name)) {
      const r = t.kind === 'typedef' ? this.resolve(t.id).type : t;
      if (r && (r.kind === 'struct' || r.kind === 'union')) return r;
    }
    return undefined;
  }

  /** A global variable's type id and its place in a data section (e.g. `.rodata`). */
  findVariable(name: string): { typeId: number; section: string; offset: number; size: number } | undefined {
    const v = this.named(name, 'var')[0];
    if (!v) return undefined;
    for (const sec of this.types) {
      if (sec.kind !== 'datasec') continue;
      const info = sec.vars?.find((s) => s.type === v.id);
      if (info) return { typeId: v.type!, section: sec.name, offset: info.offset, size: info.size };
    }
    return { typeId: v.type!, section: '', offset: -1, size: this.sizeOf(v.type!) };
  }

  /** Names of all global variables (markers such as `gadget_tracer_*` are found this way). */
  variableNames(): string[] {
    return this.types.filter((t) => t.kind === 'var').map((t) => t.name);
  }
}
