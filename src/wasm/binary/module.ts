/**
 * A guest module as the host prepares it once (and caches, see ../cache.ts): its imports and
 * exports read, its memory capped, and an interrupt check put after every loop header and at the
 * entry of every function that calls, so a guest that never returns can be stopped when its time
 * budget is spent (../interrupt.ts). The check costs a few instructions per loop iteration; the
 * host is called once per INTERRUPT_EVERY checks. This is what wazero does for IG with
 * WithCloseOnContextDone (checks at function entries and loop headers), with a clock instead of
 * a cancelled context.
 *
 * DWARF custom sections (.debug_*) are dropped: V8 does not use them.
 *
 * The interrupt is a function import added after the module's own imports, so every defined
 * function's index moves up by one: calls, `ref.func`, element segments, exports, the start
 * function and the name section are renumbered.
 */
import { Reader, Writer, WasmFormatError } from './bytes.js';
import { copyExpr, type CodeRewrite } from './code.js';

type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export interface FuncType { params: ValType[]; results: ValType[] }
type ExternKind = 'func' | 'table' | 'memory' | 'global' | 'tag';

export interface ModuleSummary {
  imports: { module: string; name: string; kind: ExternKind; type?: FuncType }[];
  exports: { name: string; kind: ExternKind; type?: FuncType }[];
  /** the memory the module defines (pages of 64 KiB), after the cap */
  memory?: { min: number; max: number };
  /** how many loop headers and functions got an interrupt check */
  checks: number;
}

export interface PrepareOptions {
  /** memory pages the guest may grow to */
  maxPages: number;
  /** the interrupt import: `module`.`name`, type () -> () */
  interrupt: { module: string; name: string };
  /** checks between two calls to the interrupt */
  every: number;
}

const VALTYPES: Record<number, ValType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KINDS: ExternKind[] = ['func', 'table', 'memory', 'global', 'tag'];
/** where each known section goes (a new global section is put in order) */
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

function valType(r: Reader): ValType {
  const b = r.u8();
  const t = VALTYPES[b];
  if (!t) r.fail(`value type 0x${b.toString(16)} is not supported`);
  return t;
}

function limits(r: Reader): { flags: number; min: number; max?: number } {
  const flags = r.u8();
  if (flags > 1) r.fail(flags & 2 ? 'shared memory (threads) is not supported' : 'memory64 is not supported');
  const min = r.u32();
  return flags === 1 ? { flags, min, max: r.u32() } : { flags, min };
}

interface Section { id: number; content: Uint8Array }

function sections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes);
  const magic = r.bytes(4);
  if (magic[0] !== 0 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) r.fail('no \\0asm header');
  const version = r.bytes(4);
  if (version[0] !== 1 || version[1] !== 0 || version[2] !== 0 || version[3] !== 0) r.fail('not a version 1 (core) module');
  const out: Section[] = [];
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    out.push({ id, content: r.bytes(size) });
  }
  return out;
}

/** Read a module's imports, exports and memory, and rewrite it as the header says. */
export function prepareModule(bytes: Uint8Array, o: PrepareOptions): { bytes: Uint8Array; summary: ModuleSummary } {
  const secs = sections(bytes);
  const types: FuncType[] = [];
  const summary: ModuleSummary = { imports: [], exports: [], checks: 0 };
  const funcTypes: number[] = []; // type index of every function, imported first
  let importedFuncs = 0;
  let importedGlobals = 0;
  let definedGlobals = 0;
  let memories = 0;

  // first pass: what the rewrite needs to know (types, import counts, function types)
  for (const s of secs) {
    const r = new Reader(s.content);
    if (s.id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        const form = r.u8();
        if (form !== 0x60) r.fail(`type form 0x${form.toString(16)} (the GC proposal) is not supported`);
        const params: ValType[] = [];
        for (let k = r.u32(); k > 0; k--) params.push(valType(r));
        const results: ValType[] = [];
        for (let k = r.u32(); k > 0; k--) results.push(valType(r));
        types.push({ params, results });
      }
    } else if (s.id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const name = r.name();
        const kind = r.u8();
        const k = KINDS[kind];
        if (!k) r.fail(`import kind 0x${kind.toString(16)}`);
        const imp: ModuleSummary['imports'][number] = { module, name, kind: k };
        if (kind === 0) {
          const t = r.u32();
          imp.type = types[t];
          funcTypes.push(t);
          importedFuncs++;
        } else if (kind === 1) { r.u8(); limits(r); }
        else if (kind === 2) { limits(r); memories++; }
        else if (kind === 3) { valType(r); r.u8(); importedGlobals++; }
        else { r.u8(); r.u32(); }
        summary.imports.push(imp);
      }
    } else if (s.id === 3) {
      for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32());
    } else if (s.id === 6) {
      definedGlobals = r.u32();
    }
  }

  const interruptType = types.length;
  const interruptFunc = importedFuncs;
  const fuel = importedGlobals + definedGlobals;
  const func = (i: number) => (i < importedFuncs ? i : i + 1);
  // at a function's entry (functions that call): fuel -= 1; if (fuel == 0) { interrupt(); fuel = every }
  const entryCheck = new Writer()
    .u8(0x23).u32(fuel).u8(0x41).s32(-1).u8(0x6a).u8(0x24).u32(fuel)
    .u8(0x23).u32(fuel).u8(0x45).u8(0x04).u8(0x40)
    .u8(0x10).u32(interruptFunc).u8(0x41).s32(o.every).u8(0x24).u32(fuel)
    .u8(0x0b).result();
  // at a loop header, with a counter local to the function (a register, not memory):
  // if (((c = c + 1) & (every - 1)) == 0) interrupt()
  const loopCheck = (local: number) => new Writer()
    .u8(0x20).u32(local).u8(0x41).s32(1).u8(0x6a).u8(0x22).u32(local)
    .u8(0x41).s32(o.every - 1).u8(0x71).u8(0x45).u8(0x04).u8(0x40)
    .u8(0x10).u32(interruptFunc).u8(0x0b).result();
  const constRw: CodeRewrite = { func, afterLoop: new Uint8Array(0) };
  let defined = 0;

  const out: Section[] = [];
  for (const s of secs) {
    const r = new Reader(s.content);
    const w = new Writer();
    switch (s.id) {
      case 1: { // types: + () -> ()
        r.u32();
        w.u32(types.length + 1).bytes(s.content.subarray(r.pos)).bytes([0x60, 0, 0]);
        break;
      }
      case 2: { // imports: + the interrupt
        const n = r.u32();
        w.u32(n + 1).bytes(s.content.subarray(r.pos)).name(o.interrupt.module).name(o.interrupt.name).u8(0).u32(interruptType);
        break;
      }
      case 5: { // memory: capped
        const n = r.u32();
        if (n + memories > 1) r.fail('more than one memory (multi-memory) is not supported');
        w.u32(n);
        for (let k = 0; k < n; k++) {
          const l = limits(r);
          if (l.min > o.maxPages) {
            throw new WasmFormatError(`its memory starts at ${l.min} pages (${pages(l.min)}), more than the ${pages(o.maxPages)} a guest may use`);
          }
          const max = Math.min(l.max ?? o.maxPages, o.maxPages);
          summary.memory = { min: l.min, max };
          w.u8(1).u32(l.min).u32(max);
        }
        break;
      }
      case 6: { // globals: init expressions renumbered, + the fuel counter
        const n = r.u32();
        w.u32(n + 1);
        for (let k = 0; k < n; k++) {
          const start = r.pos;
          valType(r);
          r.u8();
          w.bytes(s.content.subarray(start, r.pos));
          copyExpr(r, w, constRw);
        }
        w.u8(0x7f).u8(1).u8(0x41).s32(o.every).u8(0x0b);
        break;
      }
      case 7: { // exports
        const n = r.u32();
        w.u32(n);
        for (let k = 0; k < n; k++) {
          const name = r.name();
          const kind = r.u8();
          const idx = r.u32();
          const ek = KINDS[kind] ?? 'func';
          summary.exports.push({ name, kind: ek, type: kind === 0 ? types[funcTypes[idx]!] : undefined });
          w.name(name).u8(kind).u32(kind === 0 ? func(idx) : idx);
        }
        break;
      }
      case 8:
        w.u32(func(r.u32()));
        break;
      case 9:
        elements(r, w, constRw);
        break;
      case 10: {
        const n = r.u32();
        w.u32(n);
        for (let k = 0; k < n; k++) {
          const size = r.u32();
          const end = r.pos + size;
          const body = new Reader(s.content, r.pos, end);
          const type = types[funcTypes[importedFuncs + defined++]!];
          if (!type) body.fail('function without a type');
          // the locals, plus one i32: the loop counter
          const groups = body.u32();
          const locals = new Writer().u32(groups + 1);
          let count = type.params.length;
          for (let m = 0; m < groups; m++) {
            const c = body.u32();
            count += c;
            locals.u32(c).bytes([body.u8()]);
          }
          if (count >= 50_000) body.fail('function with too many locals');
          locals.u32(1).u8(0x7f);
          const expr = new Writer();
          const facts = copyExpr(body, expr, { func, afterLoop: loopCheck(count) });
          if (body.pos !== end) body.fail('function body has bytes after its end');
          summary.checks += facts.loops;
          const b = new Writer().bytes(locals.result());
          if (facts.calls > 0) {
            b.bytes(entryCheck);
            summary.checks++;
          }
          b.bytes(expr.result());
          w.sized(b.result());
          r.pos = end;
        }
        break;
      }
      case 0: {
        const name = r.name();
        // DWARF is for debuggers, not for running: a Rust or Go module's can be most of its bytes
        if (name.startsWith('.debug')) continue;
        if (name === 'name') {
          w.name(name);
          nameSection(r, w, func);
        } else {
          w.bytes(s.content);
        }
        break;
      }
      default:
        w.bytes(s.content);
    }
    out.push({ id: s.id, content: w.result() });
  }
  // sections the module lacks: the interrupt's type and import, the fuel counter
  const missing: Section[] = [
    { id: 1, content: new Writer().u32(1).bytes([0x60, 0, 0]).result() },
    { id: 2, content: new Writer().u32(1).name(o.interrupt.module).name(o.interrupt.name).u8(0).u32(interruptType).result() },
    { id: 6, content: new Writer().u32(1).u8(0x7f).u8(1).u8(0x41).s32(o.every).u8(0x0b).result() },
  ];
  for (const m of missing) {
    if (out.some((x) => x.id === m.id)) continue;
    const at = out.findIndex((x) => x.id !== 0 && ORDER.indexOf(x.id) > ORDER.indexOf(m.id));
    out.splice(at < 0 ? out.length : at, 0, m);
  }

  const w = new Writer().bytes([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  for (const s of out) w.u8(s.id).sized(s.content);
  return { bytes: w.result(), summary };
}

function pages(n: number): string {
  return `${(n * 64) / 1024} MiB`;
}

function funcIndexVec(r: Reader, w: Writer, func: (i: number) => number): void {
  const n = r.u32();
  w.u32(n);
  for (let k = 0; k < n; k++) w.u32(func(r.u32()));
}

function exprVec(r: Reader, w: Writer, rw: CodeRewrite): void {
  const n = r.u32();
  w.u32(n);
  for (let k = 0; k < n; k++) copyExpr(r, w, rw);
}

function elements(r: Reader, w: Writer, rw: CodeRewrite): void {
  const n = r.u32();
  w.u32(n);
  for (let k = 0; k < n; k++) {
    const flags = r.u32();
    w.u32(flags);
    if (flags > 7) r.fail(`element segment kind ${flags}`);
    if (flags === 2 || flags === 6) w.u32(r.u32()); // table index
    if ((flags & 1) === 0) copyExpr(r, w, rw); // active: offset
    if (flags & 4) {
      if (flags !== 4) w.u8(r.u8()); // reftype
      exprVec(r, w, rw);
    } else {
      if (flags !== 0) w.u8(r.u8()); // elemkind
      funcIndexVec(r, w, rw.func);
    }
  }
}

/** The `name` custom section: function, local and label names are keyed by function index. */
function nameSection(r: Reader, w: Writer, func: (i: number) => number): void {
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    const end = r.pos + size;
    const sub = new Writer();
    if (id === 1) {
      const n = r.u32();
      sub.u32(n);
      for (let k = 0; k < n; k++) sub.u32(func(r.u32())).name(r.name());
    } else if (id === 2 || id === 3) {
      const n = r.u32();
      sub.u32(n);
      for (let k = 0; k < n; k++) {
        sub.u32(func(r.u32()));
        const m = r.u32();
        sub.u32(m);
        for (let j = 0; j < m; j++) sub.u32(r.u32()).name(r.name());
      }
    } else {
      sub.bytes(r.bytes(size));
    }
    if (r.pos !== end) r.fail('malformed name section');
    w.u8(id).sized(sub.result());
  }
}
