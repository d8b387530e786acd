/**
 * The parts of an ELF file the runtime reads: function symbols (.symtab, else .dynsym), the
 * loadable segments (to turn a symbol's address into a file offset for uprobes, and a runtime
 * address back into a symbol for user stacks), and SystemTap SDT notes (USDT probes).
 *
 * Written here rather than taken from npm: the ELF readers there (elfy, elf-tools) read the
 * whole file into memory and decode every section; this reads only the headers and the
 * sections asked for, through positioned reads, so a 100 MB binary costs a few reads. 64-bit
 * little-endian only (the architectures ig builds for).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { IgError } from '../../errors.js';

export interface ElfSymbol { name: string; value: number; size: number }
export interface ElfSegment { vaddr: number; offset: number; filesz: number; memsz: number; exec: boolean }
export interface SdtProbe { provider: string; name: string; pc: number; base: number; semaphore: number }
interface Section { name: string; type: number; addr: number; offset: number; size: number; link: number; entsize: number }

const SHT_SYMTAB = 2, SHT_NOTE = 7, SHT_DYNSYM = 11, PT_LOAD = 1, STT_FUNC = 2, STT_GNU_IFUNC = 10;
/** Symbol tables larger than this are not read (a crafted or huge binary must not eat the heap). */
const MAX_SYMTAB_BYTES = 256 << 20;

export class ElfFile {
  readonly type: number;
  readonly segments: ElfSegment[] = [];
  private readonly sections: Section[] = [];
  private addresses?: Map<string, number>;

  private constructor(private readonly fd: number, readonly path: string) {
    const h = this.read(0, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw new IgError('usage', `${path} is not an ELF file`);
    if (h[4] !== 2 || h[5] !== 1) throw new IgError('unsupported', `${path} is not a 64-bit little-endian ELF file`);
    this.type = h.readUInt16LE(16);
    const phoff = Number(h.readBigUInt64LE(32)), shoff = Number(h.readBigUInt64LE(40));
    const phentsize = h.readUInt16LE(54), phnum = h.readUInt16LE(56), shentsize = h.readUInt16LE(58), shnum = h.readUInt16LE(60);
    const shstrndx = h.readUInt16LE(62);
    if (phnum) {
      const ph = this.read(phoff, phentsize * phnum);
      for (let i = 0; i < phnum; i++) {
        const o = i * phentsize;
        if (ph.readUInt32LE(o) !== PT_LOAD) continue;
        this.segments.push({
          exec: (ph.readUInt32LE(o + 4) & 1) !== 0,
          offset: Number(ph.readBigUInt64LE(o + 8)), vaddr: Number(ph.readBigUInt64LE(o + 16)),
          filesz: Number(ph.readBigUInt64LE(o + 32)), memsz: Number(ph.readBigUInt64LE(o + 40)),
        });
      }
    }
    if (shnum && shoff) {
      const sh = this.read(shoff, shentsize * shnum);
      const raw = [];
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        raw.push({
          nameOff: sh.readUInt32LE(o), type: sh.readUInt32LE(o + 4), addr: Number(sh.readBigUInt64LE(o + 16)),
          offset: Number(sh.readBigUInt64LE(o + 24)), size: Number(sh.readBigUInt64LE(o + 32)),
          link: sh.readUInt32LE(o + 40), entsize: Number(sh.readBigUInt64LE(o + 56)),
        });
      }
      const names = raw[shstrndx] ? this.read(raw[shstrndx]!.offset, raw[shstrndx]!.size) : Buffer.alloc(0);
      for (const r of raw) this.sections.push({ ...r, name: cstr(names, r.nameOff) });
    }
  }

  static open(path: string): ElfFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new IgError('usage', `cannot open ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return new ElfFile(fd, path);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Run fn on the file and close it. */
  static with<T>(path: string, fn: (f: ElfFile) => T): T {
    const f = ElfFile.open(path);
    try {
      return fn(f);
    } finally {
      f.close();
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private read(offset: number, length: number): Buffer {
    const b = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, b, done, length - done, offset + done);
      if (n <= 0) break;
      done += n;
    }
    if (done < length) throw new IgError('invalid-object', `${this.path} is truncated (reading ${length} bytes at ${offset})`);
    return b;
  }

  section(name: string): Section | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** Function symbols with an address, sorted by address: .symtab where the binary has one, else .dynsym. */
  functions(): ElfSymbol[] {
    const tab = this.sections.find((s) => s.type === SHT_SYMTAB) ?? this.sections.find((s) => s.type === SHT_DYNSYM);
    if (!tab) return [];
    const all = this.symbolsOf(tab);
    // a stripped binary has a .symtab of a few entries: add the dynamic ones
    const dyn = tab.type === SHT_SYMTAB ? this.sections.find((s) => s.type === SHT_DYNSYM) : undefined;
    const list = dyn ? [...all, ...this.symbolsOf(dyn)] : all;
    list.sort((a, b) => a.value - b.value || b.size - a.size);
    return list.filter((s, i) => i === 0 || s.value !== list[i - 1]!.value);
  }

  private symbolsOf(tab: Section): ElfSymbol[] {
    if (tab.size > MAX_SYMTAB_BYTES || tab.entsize !== 24) return [];
    const strs = this.sections[tab.link];
    if (!strs || strs.size > MAX_SYMTAB_BYTES) return [];
    const data = this.read(tab.offset, tab.size), names = this.read(strs.offset, strs.size);
    const out: ElfSymbol[] = [];
    for (let o = 0; o + 24 <= data.length; o += 24) {
      const info = data[o + 4]! & 0xf;
      if (info !== STT_FUNC && info !== STT_GNU_IFUNC) continue;
      const value = Number(data.readBigUInt64LE(o + 8));
      if (value === 0) continue;
      out.push({ name: cstr(names, data.readUInt32LE(o)), value, size: Number(data.readBigUInt64LE(o + 16)) });
    }
    return out;
  }

  /** A virtual address in the file's own terms, as a file offset (uprobes take offsets). */
  fileOffset(vaddr: number): number | undefined {
    const s = this.segments.find((g) => vaddr >= g.vaddr && vaddr < g.vaddr + g.memsz);
    return s ? vaddr - s.vaddr + s.offset : undefined;
  }

  /** The file offset of a function, or undefined when the file does not define it. */
  symbolOffset(name: string): number | undefined {
    const value = this.functionAddresses().get(name);
    return value === undefined ? undefined : this.fileOffset(value);
  }

  /**
   * Every function's address by name, read once: .symtab's first, then .dynsym's where .symtab
   * has no such name (the first symbol of a name wins, as a lookup in each table in turn finds).
   * A gadget with twenty uprobes on libc looks twenty names up in the same tables.
   */
  functionAddresses(): Map<string, number> {
    if (this.addresses) return this.addresses;
    const out = new Map<string, number>();
    for (const t of [this.sections.find((s) => s.type === SHT_SYMTAB), this.sections.find((s) => s.type === SHT_DYNSYM)]) {
      if (!t) continue;
      for (const sym of this.symbolsOf(t)) if (!out.has(sym.name)) out.set(sym.name, sym.value);
    }
    this.addresses = out;
    return out;
  }

  /** SystemTap SDT probes (.note.stapsdt), with pc and semaphore adjusted for prelink as the spec says. */
  sdtProbes(): SdtProbe[] {
    const note = this.section('.note.stapsdt');
    if (!note || note.type !== SHT_NOTE) return [];
    const baseSec = this.section('.stapsdt.base');
    const data = this.read(note.offset, note.size);
    const out: SdtProbe[] = [];
    for (let o = 0; o + 12 <= data.length;) {
      const namesz = data.readUInt32LE(o), descsz = data.readUInt32LE(o + 4), type = data.readUInt32LE(o + 8);
      const nameAt = o + 12, descAt = nameAt + align4(namesz);
      o = descAt + align4(descsz);
      if (type !== 3 || cstr(data, nameAt) !== 'stapsdt' || descsz < 24) continue;
      let pc = Number(data.readBigUInt64LE(descAt));
      const base = Number(data.readBigUInt64LE(descAt + 8));
      let semaphore = Number(data.readBigUInt64LE(descAt + 16));
      if (baseSec && base) {
        pc += baseSec.addr - base;
        if (semaphore) semaphore += baseSec.addr - base;
      }
      const provider = cstr(data, descAt + 24);
      const name = cstr(data, descAt + 24 + Buffer.byteLength(provider) + 1);
      out.push({ provider, name, pc, base, semaphore });
    }
    return out;
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function cstr(b: Buffer, at: number): string {
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end < 0 ? b.length : end);
}
