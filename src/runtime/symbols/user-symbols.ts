/**
 * User-space addresses of a process → function names: the mapping each address falls in
 * (/proc/PID/maps), the file offset there, the ELF segment that offset belongs to, and the
 * function symbol (.symtab, else .dynsym) covering it. Unlike IG's symtab symbolizer, which
 * names only the executable's own functions, shared libraries are named too.
 */
import { readFileSync, statSync } from 'node:fs';
import { ElfFile, type ElfSymbol, type ElfSegment } from './elf.js';

interface Mapping { start: bigint; end: bigint; offset: bigint; path: string }
interface Table { symbols: ElfSymbol[]; segments: ElfSegment[] }

const tables = new Map<string, Table | null>();
const MAX_TABLES = 64;

function table(path: string): Table | null {
  let key = path;
  try {
    const st = statSync(path);
    key = `${st.dev}:${st.ino}:${st.mtimeMs}`;
  } catch {
    return null;
  }
  let t = tables.get(key);
  if (t === undefined) {
    try {
      t = ElfFile.with(path, (f) => ({ symbols: f.functions(), segments: f.segments }));
    } catch {
      t = null; // not an ELF file we can read: addresses stay numbers
    }
    if (tables.size >= MAX_TABLES) tables.delete(tables.keys().next().value!);
    tables.set(key, t);
  }
  return t;
}

function mappings(pid: number): Mapping[] {
  const out: Mapping[] = [];
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const parts = line.split(/\s+/);
    if (parts.length < 6 || !parts[5]!.startsWith('/')) continue;
    const [s, e] = parts[0]!.split('-');
    out.push({ start: BigInt('0x' + s), end: BigInt('0x' + e), offset: BigInt('0x' + parts[2]), path: `/proc/${pid}/root${parts.slice(5).join(' ')}` });
  }
  return out;
}

function symbolAt(t: Table, vaddr: number): string | undefined {
  const s = t.symbols;
  let lo = 0, hi = s.length - 1, hit = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid]!.value <= vaddr) { hit = mid; lo = mid + 1; } else hi = mid - 1;
  }
  if (hit < 0) return undefined;
  const sym = s[hit]!;
  return sym.size === 0 || vaddr < sym.value + sym.size ? sym.name : undefined;
}

/** Names for each address of process `pid` (undefined where none is found); all undefined when the process is gone. */
export function userSymbols(pid: number, addrs: bigint[]): (string | undefined)[] {
  let maps: Mapping[];
  try {
    maps = mappings(pid);
  } catch {
    return addrs.map(() => undefined);
  }
  return addrs.map((a) => {
    const m = maps.find((x) => a >= x.start && a < x.end);
    if (!m) return undefined;
    const t = table(m.path);
    if (!t) return undefined;
    const off = Number(a - m.start + m.offset);
    const seg = t.segments.find((g) => off >= g.offset && off < g.offset + g.filesz);
    return seg ? symbolAt(t, off - seg.offset + seg.vaddr) : undefined;
  });
}
