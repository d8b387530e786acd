/**
 * IG's syscall functions (syscalls.go): names and numbers (x86_64, from the kernel's UAPI header:
 * src/format/tables.ts), and declarations read from tracefs' sys_enter_* formats, written to the
 * guest as IG's fixed struct (little endian, 252 bytes):
 *   char name[32]; u8 nr_params; u8 pad[3]; struct { char name[32]; u32 flags; } params[6];
 * with flags bit 0 set for pointer parameters. Unknown numbers are named `syscall_<hex>`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BadPointer } from '../memory.js';
import type { Host } from './host.js';
import { SYSCALLS_X86_64 } from '../../format/tables.js';
import { TRACEFS_ROOTS } from '../../runtime/tracefs.js';

const DECL_SIZE = 32 + 1 + 3 + 6 * (32 + 4);
const IS_POINTER = 1;

const BY_NAME = new Map(Object.entries(SYSCALLS_X86_64).map(([nr, name]) => [name, Number(nr)]));

/** tracefs names that differ from the syscall's (IG's list) */
const RENAMED: Record<string, string> = {
  newfstat: 'fstat', newlstat: 'lstat', newstat: 'stat', newuname: 'uname', sendfile64: 'sendfile', sysctl: '_sysctl', umount: 'umount2',
};

function syscallName(nr: number): string {
  return SYSCALLS_X86_64[nr] ?? `syscall_${nr.toString(16)}`;
}

interface Decl { params: { name: string; pointer: boolean }[] }

function tracefsSyscalls(): string | undefined {
  return TRACEFS_ROOTS.map((root) => `${root}/events/syscalls`).find((d) => existsSync(d));
}

/** Every sys_enter_* format under tracefs, by syscall name (IG's GatherSyscallsDeclarations). */
function gatherDeclarations(): Map<string, Decl> {
  const dir = tracefsSyscalls();
  const out = new Map<string, Decl>();
  if (!dir) return out;
  for (const ev of readdirSync(dir)) {
    if (!ev.startsWith('sys_enter_')) continue;
    let text: string;
    try {
      text = readFileSync(path.join(dir, ev, 'format'), 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    const blank = lines.indexOf('');
    const params: Decl['params'] = [];
    for (const l of lines.slice(blank + 1)) {
      const m = l.match(/^\s+field:(.*?) ([a-z_0-9]+);/);
      if (!m || m[2] === '__syscall_nr') continue;
      params.push({ name: m[2]!, pointer: m[1]!.includes('*') });
    }
    const name = ev.slice('sys_enter_'.length);
    out.set(RENAMED[name] ?? name, { params });
  }
  return out;
}

export function syscallFunctions(h: Host) {
  let decls: Map<string, Decl> | undefined;
  const guarded = (call: string, bad: number, fn: () => number): number => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof BadPointer) {
        h.warn(call, e.message);
        return bad;
      }
      throw e;
    }
  };
  return {
    getSyscallName(id: number, dst: number, cap: number): number {
      return guarded('getSyscallName', 1, () => {
        const name = syscallName(id & 0xffff);
        if (!h.mem.write(dst, cap, Buffer.from(name))) {
          h.warn('getSyscallName', `writing to guest memory for ${name}: ${name.length} bytes do not fit ${cap >>> 0}`);
          return 1;
        }
        return 0;
      });
    },

    getSyscallID(addr: number, len: number): number {
      return guarded('getSyscallID', -1, () => {
        const name = h.mem.string(addr, len);
        const nr = BY_NAME.get(name);
        if (nr === undefined) {
          h.warn('getSyscallID', `no syscall ${name}`);
          return -1;
        }
        return nr;
      });
    },

    getSyscallDeclaration(addr: number, len: number, dst: number, cap: number): number {
      return guarded('getSyscallDeclaration', 1, () => {
        const name = h.mem.string(addr, len);
        decls ??= gatherDeclarations();
        const d = decls.get(name);
        if (!d) {
          h.warn('getSyscallDeclaration', `getting syscall declaration for "${name}": no syscall correspond to "${name}"`);
          return 1;
        }
        const b = Buffer.alloc(DECL_SIZE);
        b.write(name.slice(0, 32), 0, 'latin1');
        b[32] = Math.min(d.params.length, 6);
        d.params.slice(0, 6).forEach((p, i) => {
          const o = 36 + i * 36;
          b.write(p.name.slice(0, 32), o, 'latin1');
          b.writeUInt32LE(p.pointer ? IS_POINTER : 0, o + 32);
        });
        if (!h.mem.write(dst, cap, b)) {
          h.warn('getSyscallDeclaration', `writing back syscall declaration to stack: buffer size ${DECL_SIZE} is bigger than ${cap >>> 0}`);
          return 1;
        }
        return 0;
      });
    },
  };
}
