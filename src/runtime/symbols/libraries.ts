/**
 * A library named as IG's sections name it (`uprobe/libc:malloc`: "libc") → the files it is, in
 * a root file system (the host's, or a container's through /proc/PID/root): first the dynamic
 * linker's cache (/etc/ld.so.cache, glibc's "new" format, as IG reads it), then the libraries a
 * process of that root has mapped (/proc/PID/maps: a musl container has no cache), then the
 * usual library folders.
 */
import { readFileSync, readdirSync, existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

const CACHE_MAGIC = 'glibc-ld.so.cache1.1';
const HEADER = 48, ENTRY = 24;
/** ld.so.cache arch flags (FLAG_*_LIB64 in glibc's ldconfig.h) of the architectures ig runs on */
const ARCH_FLAG: Record<string, number> = { x64: 0x0300, arm64: 0x0a00 };
const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];

/** Paths (inside the root) that ld.so.cache gives for `name` (`libc` matches `libc.so.6`). */
export function fromLdCache(cache: Buffer, name: string, arch = process.arch): string[] {
  let at = cache.indexOf(CACHE_MAGIC);
  if (at < 0 || cache.length < at + HEADER) return [];
  const base = at;
  const count = cache.readUInt32LE(at + 20);
  at += HEADER;
  const want = ARCH_FLAG[arch];
  const prefix = `${name}.so`;
  const out: string[] = [];
  for (let i = 0; i < count && at + ENTRY <= cache.length; i++, at += ENTRY) {
    const flags = cache.readInt32LE(at);
    const key = cstr(cache, base + cache.readUInt32LE(at + 4));
    if (!key.startsWith(prefix)) continue;
    if (want !== undefined && (flags & 0xff00) !== want) continue;
    const value = cstr(cache, base + cache.readUInt32LE(at + 8));
    if (value && !out.includes(value)) out.push(value);
  }
  return out;
}

function cstr(b: Buffer, at: number): string {
  if (at >= b.length) return '';
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end < 0 ? b.length : end);
}

/** Mapped files of a process whose name is the library's (`libc.so.6`, `libc-2.31.so`, musl's `ld-musl-*.so.1` for libc). */
export function fromMaps(maps: string, name: string): string[] {
  const out: string[] = [];
  for (const line of maps.split('\n')) {
    const file = line.split(/\s+/)[5];
    if (!file?.startsWith('/')) continue;
    const b = path.basename(file);
    const hit = b.startsWith(`${name}.so`) || b.startsWith(`${name}-`) || (name === 'libc' && /^ld-musl-.*\.so/.test(b));
    if (hit && !out.includes(file)) out.push(file);
  }
  return out;
}

/**
 * The host paths of a library (or of an absolute path) as seen from `root` (`/` or
 * `/proc/PID/root`), with `pid` a process of that root for its maps. Empty when not found.
 */
export function resolveLibrary(target: string, root: string, pid?: number): string[] {
  const inRoot = (p: string) => (root === '/' ? p : path.join(root, p));
  if (target.startsWith('/')) return existsSync(inRoot(target)) ? [inRoot(target)] : [];
  let found: string[] = [];
  try {
    found = fromLdCache(readFileSync(inRoot('/etc/ld.so.cache')), target);
  } catch {
    // no cache in this root: the other ways
  }
  if (found.length === 0 && pid !== undefined) {
    try {
      found = fromMaps(readFileSync(`/proc/${pid}/maps`, 'utf8'), target);
    } catch {
      // the process is gone
    }
  }
  if (found.length === 0) {
    for (const d of LIB_DIRS) {
      try {
        for (const f of readdirSync(inRoot(d))) if (f.startsWith(`${target}.so`)) found.push(path.join(d, f));
      } catch {
        // no such folder
      }
      if (found.length) break;
    }
  }
  const out: string[] = [];
  for (const f of found) {
    const p = inRoot(f);
    if (!existsSync(p)) continue;
    // one file per inode: libc.so.6 and its versioned name are the same library
    let real = p;
    try {
      real = root === '/' ? realpathSync(p) : p;
    } catch {
      // keep the path as given
    }
    if (!out.includes(real)) out.push(real);
  }
  return out;
}
