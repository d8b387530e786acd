import type { BtfType } from '../../native/index.js';
import { IgError } from '../errors.js';

export type { BtfType, BtfMember } from '../../native/index.js';

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
    for (let guard = 0; guard < 64; guard++) {
      if (id === 0) return { type: null, typedefs };
      const t = this.get(id);
      if (t.kind === 'typedef') typedefs.push(t.name);
      else if (!QUALIFIERS.has(t.kind)) return { type: t, typedefs };
      id = t.type ?? 0;
    }
    throw new IgError('invalid-object', `BTF type ${id} has a typedef/qualifier cycle`);
  }

  /** Byte size of a type (after resolution). */
  sizeOf(id: number): number {
    const { type } = this.resolve(id);
    if (!type) return 0;
    switch (type.kind) {
      case 'ptr':
        return 8;
      case 'array':
        return this.sizeOf(type.array!.type) * type.array!.nelems;
      default:
        return type.size ?? 0;
    }
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
