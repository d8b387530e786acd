// A guest module as the host prepares it (src/wasm/binary): a hand-assembled module using what
// renumbering must get right (calls, call_indirect through an element segment, ref.func in code
// and in a global, exports, the start function, the name section) behaves the same after the
// interrupt import is added; loops call the interrupt; the memory gets IG's cap; the shim splits
// i64s; DWARF is dropped; the compiled-module cache keeps prepared modules per digest.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writer } from '../../src/wasm/binary/bytes.js';
import { prepareModule } from '../../src/wasm/binary/module.js';
import { buildShim } from '../../src/wasm/binary/shim.js';
import { compileGuest, forgetCompiled } from '../../src/wasm/cache.js';

const I32 = 0x7f;
const sec = (w: Writer, id: number, body: Writer) => w.u8(id).sized(body.result());
const vec = (items: number[][]) => {
  const w = new Writer().u32(items.length);
  for (const i of items) w.bytes(i);
  return w;
};
const name = (s: string) => [...new Writer().name(s).result()];
const body = (code: number[], locals: number[] = [0]) => {
  const b = new Writer().bytes(locals).bytes(code).u8(0x0b).result();
  return [...new Writer().sized(b).result()];
};

/** types 0: () -> i32, 1: (i32) -> i32, 2: () -> () */
function testModule(memoryMax?: number): Uint8Array {
  const w = new Writer().bytes([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  sec(w, 1, vec([[0x60, 0, 1, I32], [0x60, 1, I32, 1, I32], [0x60, 0, 0]]));
  // imports: func 0 ig.gadgetShouldLog (i32) -> i32, func 1 wasi_snapshot_preview1.sched_yield () -> i32
  sec(w, 2, vec([[...name('ig'), ...name('gadgetShouldLog'), 0, 1], [...name('wasi_snapshot_preview1'), ...name('sched_yield'), 0, 0]]));
  // defined functions 2..9
  sec(w, 3, vec([[1], [0], [0], [1], [2], [2], [0], [0]]));
  sec(w, 4, vec([[0x70, 0, 1]])); // a funcref table of 1
  sec(w, 5, vec([memoryMax === undefined ? [0, 1] : [...new Writer().u8(1).u32(1).u32(memoryMax).result()]]));
  // g0: mut i32 = 0; g1: funcref = ref.func 3
  sec(w, 6, vec([[I32, 1, 0x41, 0, 0x0b], [0x70, 0, 0xd2, 3, 0x0b]]));
  sec(w, 7, vec([
    [...name('double'), 0, 2], [...name('callDouble'), 0, 3], [...name('indirect'), 0, 4], [...name('count'), 0, 5],
    [...name('spin'), 0, 6], [...name('getG'), 0, 8], [...name('refFunc'), 0, 9], [...name('memory'), 2, 0],
  ]));
  sec(w, 8, new Writer().u32(7)); // start: f7 sets g0 = 7
  // elements: active table[0] = f2; declarative f2 (for ref.func in code)
  sec(w, 9, vec([[0, 0x41, 0, 0x0b, 1, 2], [3, 0, 1, 2]]));
  sec(w, 10, vec([
    body([0x20, 0, 0x41, 2, 0x6c]), // f2 double(x) = x * 2
    body([0x41, 21, 0x10, 2]), // f3 callDouble() = double(21)
    body([0x41, 5, 0x41, 0, 0x11, 1, 0]), // f4 indirect() = table[0](5)
    // f5 count(n): s = 0; i = 0; loop { s += i; i++; br_if i < n }; s
    body([0x03, 0x40, 0x20, 1, 0x20, 2, 0x6a, 0x21, 1, 0x20, 2, 0x41, 1, 0x6a, 0x22, 2, 0x20, 0, 0x48, 0x0d, 0, 0x0b, 0x20, 1], [1, 2, I32]),
    body([0x03, 0x40, 0x0c, 0, 0x0b]), // f6 spin(): loop forever
    body([0x41, 7, 0x24, 0]), // f7 start: g0 = 7
    body([0x23, 0]), // f8 getG() = g0
    body([0xd2, 2, 0xd1]), // f9 refFunc() = ref.is_null(ref.func 2) = 0
  ]));
  // name section: function names of f2 and f3
  const fnames = new Writer().u32(2).u32(2).name('double').u32(3).name('callDouble');
  const names = new Writer().name('name').u8(1).sized(fnames.result());
  sec(w, 0, names);
  sec(w, 0, new Writer().name('.debug_info').bytes([1, 2, 3]));
  return w.result();
}

const OPTS = { maxPages: 256, interrupt: { module: 'ig:runtime', name: 'interrupt' }, every: 1024 };

function instantiate(bytes: Uint8Array | WebAssembly.Module, interrupt: () => void) {
  const mod = bytes instanceof WebAssembly.Module ? bytes : new WebAssembly.Module(bytes as BufferSource);
  return new WebAssembly.Instance(mod, {
    ig: { gadgetShouldLog: (l: number) => l + 100 },
    wasi_snapshot_preview1: { sched_yield: () => 0 },
    'ig:runtime': { interrupt },
  }).exports as Record<string, (...a: number[]) => number>;
}

describe('preparing a guest module', () => {
  it('keeps its behaviour: calls, call_indirect, ref.func, exports, start, globals', () => {
    const original = testModule();
    expect(WebAssembly.validate(original as BufferSource)).toBe(true);
    const { bytes, summary } = prepareModule(original, OPTS);
    expect(WebAssembly.validate(bytes as BufferSource)).toBe(true);
    const e = instantiate(bytes, () => {});
    expect([e.double!(4), e.callDouble!(), e.indirect!(), e.count!(10), e.getG!(), e.refFunc!()]).toEqual([8, 42, 10, 45, 7, 0]);
    expect(summary.imports.map((i) => `${i.module}.${i.name}`)).toEqual(['ig.gadgetShouldLog', 'wasi_snapshot_preview1.sched_yield']);
    expect(summary.exports.find((x) => x.name === 'double')!.type).toEqual({ params: ['i32'], results: ['i32'] });
    // 2 loops, and 3 functions that call (callDouble, indirect; and none else): checks in place
    expect(summary.checks).toBe(2 + 2);
    // the name section follows its functions
    const mod = new WebAssembly.Module(bytes as BufferSource);
    expect(WebAssembly.Module.customSections(mod, 'name')).toHaveLength(1);
    // DWARF is dropped (V8 does not use it; a Rust module's can be most of its bytes)
    expect(WebAssembly.Module.customSections(mod, '.debug_info')).toHaveLength(0);
  });

  it('calls the interrupt from loops: a loop that never ends is stopped by it', () => {
    let calls = 0;
    const e = instantiate(prepareModule(testModule(), OPTS).bytes, () => {
      if (++calls === 50) throw new Error('budget spent');
    });
    expect(() => e.spin!()).toThrow('budget spent');
    expect(calls).toBe(50);
    calls = 0;
    e.count!(1024 * 10);
    expect(calls).toBe(10);
  });

  it('caps the memory at IG\'s 256 pages; refuses a module that starts above it', () => {
    for (const max of [undefined, 1000, 8]) {
      const { summary } = prepareModule(testModule(max), OPTS);
      expect(summary.memory).toEqual({ min: 1, max: max === 8 ? 8 : 256 });
    }
    const big = testModule(1000);
    expect(() => prepareModule(big, { ...OPTS, maxPages: 0 })).toThrow(/its memory starts at 1 pages \(0.0625 MiB\), more than the 0 MiB a guest may use/);
  });

  it('refuses what it cannot read: GC types, unknown opcodes', () => {
    const gc = new Writer().bytes([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    sec(gc, 1, vec([[0x5f, 0]]));
    expect(() => prepareModule(gc.result(), OPTS)).toThrow(/type form 0x5f \(the GC proposal\) is not supported/);
    const bad = new Writer().bytes([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    sec(bad, 1, vec([[0x60, 0, 0]]));
    sec(bad, 3, vec([[0]]));
    sec(bad, 10, vec([body([0xfb, 0])]));
    expect(() => prepareModule(bad.result(), OPTS)).toThrow(/instruction 0xfb \(the GC proposal\) at byte \d+ is not supported/);
  });
});

describe('the i64 shim', () => {
  it('hands JavaScript i64 arguments as (low, high) and builds an i64 result from low + the hi global', () => {
    const seen: number[][] = [];
    const hi = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
    const shim = new WebAssembly.Instance(new WebAssembly.Module(buildShim({
      f: { params: ['i32', 'i64'], results: ['i32'] },
      g: { params: ['i32'], results: ['i64'] },
    }) as BufferSource), {
      js: {
        f: (...a: number[]) => (seen.push(a), 7),
        g: (x: number) => {
          hi.value = x;
          return -1;
        },
        hi,
      },
    }).exports as { f: (a: number, b: bigint) => number; g: (a: number) => bigint };
    expect(shim.f(3, (5n << 32n) | 0x80000001n)).toBe(7);
    expect(seen).toEqual([[3, -0x7fffffff, 5]]);
    expect(shim.g(2)).toBe(0x2ffffffffn);
    expect(hi.value).toBe(0); // reset for the next call
  });
});

describe('the compiled-module cache', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ig-wasm-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const w = { bytes: Buffer.from(testModule()), digest: 'sha256:0123abcd', image: 'test' };

  it('prepares once, then reads the disk, then reuses the module in the process', () => {
    forgetCompiled();
    expect(compileGuest(w, dir).from).toBe('prepared');
    expect(readdirSync(dir).sort()).toEqual(['sha256-0123abcd.v2.json', 'sha256-0123abcd.v2.wasm']);
    forgetCompiled();
    const disk = compileGuest(w, dir);
    expect(disk.from).toBe('disk');
    expect(instantiate(disk.module, () => {}).callDouble!()).toBe(42);
    expect(compileGuest(w, dir).from).toBe('memory');
  });

  it('a damaged entry is prepared again', () => {
    forgetCompiled();
    writeFileSync(path.join(dir, 'sha256-0123abcd.v2.wasm'), 'not wasm');
    expect(compileGuest(w, dir).from).toBe('prepared');
  });
});
