// Where uprobes go (src/runtime/attach/uprobe.ts UprobeLookups, src/runtime/symbols/elf.ts): the
// file offset of each libc function a gadget names, looked up once per attach pass, must be the
// one readelf gives (address in the symbol table, moved into its loadable segment's file offset).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { UprobeLookups } from '../../src/runtime/attach/uprobe.js';
import { resolveLibrary } from '../../src/runtime/symbols/libraries.js';

const libc = resolveLibrary('libc', '/')[0]!;

/** readelf's view: name → file offset of the function (its first symbol-table entry of that name). */
function readelfOffsets(file: string): Map<string, number> {
  const loads = execFileSync('readelf', ['-lW', file], { encoding: 'utf8' }).split('\n')
    .filter((l) => l.trim().startsWith('LOAD'))
    .map((l) => l.trim().split(/\s+/))
    .map((f) => ({ offset: Number(f[1]), vaddr: Number(f[2]), memsz: Number(f[5]) }));
  const out = new Map<string, number>();
  // .symtab first when the file has one, then .dynsym: readelf prints them in section order
  const syms = execFileSync('readelf', ['-Ws', file], { encoding: 'utf8' }).split('\n');
  for (const l of syms) {
    const f = l.trim().split(/\s+/);
    if (f.length < 8 || (f[3] !== 'FUNC' && f[3] !== 'IFUNC')) continue;
    const value = parseInt(f[1]!, 16);
    const name = f[7]!.split('@')[0]!;
    if (value === 0 || out.has(name)) continue;
    const seg = loads.find((s) => value >= s.vaddr && value < s.vaddr + s.memsz);
    if (seg) out.set(name, value - seg.vaddr + seg.offset);
  }
  return out;
}

describe('uprobe lookups', () => {
  it('puts each libc function at the file offset readelf gives, for many names from one read', () => {
    const want = readelfOffsets(libc);
    const names = ['malloc', 'free', 'calloc', 'realloc', 'mmap', 'munmap', 'posix_memalign', 'aligned_alloc', 'valloc', 'memalign', 'pvalloc'];
    const lookups = new UprobeLookups();
    for (const symbol of names) {
      expect(want.has(symbol), symbol).toBe(true);
      expect(lookups.probeOffsets(libc, { kind: 'uprobe', probe: 'uprobe', target: 'libc', symbol }).offset, symbol).toBe(want.get(symbol));
    }
    expect(lookups.library('libc', '/', process.pid)).toEqual([libc]);
  });

  it('names the file and the function a gadget asks for that the file lacks', () => {
    const lookups = new UprobeLookups();
    expect(() => lookups.probeOffsets(libc, { kind: 'uprobe', probe: 'uprobe', target: 'libc', symbol: 'ig_no_such_function' }))
      .toThrow(`${libc} has no function ig_no_such_function`);
    // the same lookups still answer for names the file has
    expect(lookups.probeOffsets(libc, { kind: 'uprobe', probe: 'uretprobe', target: 'libc', symbol: 'malloc' }).offset).toBeGreaterThan(0);
  });
});
