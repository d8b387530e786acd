/**
 * The CO-RE BTF an object is loaded with. libbpf relocates an object against the kernel's whole
 * BTF (/sys/kernel/btf/vmlinux, ~5 MB), and parsing it is most of what a load costs (~25 ms of
 * CPU of trace_open's ~30). The relocations read a few dozen types of it: the addon computes
 * them once against the whole BTF, builds the small BTF holding just those types (like
 * `bpftool gen min_core_btf`, without running it) and keeps it when every relocation comes out
 * the same against it. Later runs load with the small BTF (~5 ms) after checking it again.
 *
 * Safe by construction and by check:
 * - an entry stands for one object (SHA-256 of its ELF) on one kernel boot (boot id, release and
 *   version, libbpf's version): anything else is a miss;
 * - it is used only when every relocation has exactly one candidate type in the kernel's BTF (so
 *   libbpf never needs modules' BTF, which a custom BTF would hide, and relocates the same
 *   whatever programs are loaded), and none asks for a kernel type id or whole-type matching;
 * - on use, the bytes' SHA-256 is checked and every relocation is computed against them again
 *   and must give what was recorded; the bytes go to libbpf from memory, not by path;
 * - anything unreadable, from another kernel or object, or not matching is replaced by a fresh
 *   computation; an object that cannot use a small BTF is recorded as such and loads as before.
 * - iterators (iter/ programs) need an attach BTF id, a type id in the kernel's own BTF, which
 *   libbpf would find by reading the whole BTF at each load: it is found on the miss (which reads
 *   it anyway) and kept in the entry; the boot id in the key stands for that BTF's ids. The addon
 *   gives it to libbpf at load (native/src/preset_attach.c); a module's iterator is refused.
 * IG_DEBUG (and IG_TIMINGS) say which BTF a run used and why.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mark } from '../timings.js';
import { bootEntryPath, framedEntry, keepBootEntry, kernelKey, readFramedEntry } from './boot-cache.js';
import { native } from './native.js';
import type { coreBtfMinimal } from '../../native/index.js';

/** Bump when what an entry holds, or how relocation results are packed, changes. */
const FORMAT = 2;
const MAGIC = 'ig-core-btf\n';

export interface CoreBtfChoice {
  /** the small BTF to relocate against; absent: this kernel's whole BTF, as libbpf does by default */
  btf?: Buffer;
  /**
   * with `btf`: each iterator section's attach BTF id in this kernel's BTF (BpfObject's
   * attachBtfIds), so that libbpf need not read the whole BTF to find them either
   */
  attachBtfIds?: Record<string, number>;
  /** what was chosen and why, for IG_DEBUG */
  note: string;
}

interface EntryHeader {
  kernel: string;
  object: string;
  /** why the object loads with the whole BTF (then no bytes follow) */
  reason?: string;
  sha256?: string;
  /** every relocation's result against the whole BTF (packed by the addon), base64 */
  results?: string;
  /** iterator section → its attach BTF id in this boot's kernel BTF */
  iterators?: Record<string, number>;
}

/** A BTF file standing for this kernel's (named per boot by its writer): the kernel, the file and its size and time. */
function targetKey(file: string): string | null {
  const kernel = kernelKey();
  try {
    const st = statSync(file);
    return kernel && `${kernel} ${file} ${st.size} ${st.mtimeMs}`;
  } catch {
    return null;
  }
}

/**
 * The BTF to load this object with; never throws (at worst: the whole BTF, as before).
 * `target`: the BTF file libbpf would otherwise be given as btfCustomPath (this kernel's BTF plus
 * the socket enricher's struct): the minimal BTF then stands for that file.
 */
export function coreBtfFor(elf: Buffer, target?: string): CoreBtfChoice {
  const choice = choose(elf, target);
  mark(`CO-RE BTF: ${choice.note}`);
  if (process.env.IG_DEBUG) process.stderr.write(`debug: CO-RE BTF: ${choice.note}\n`);
  return choice;
}

function choose(elf: Buffer, target?: string): CoreBtfChoice {
  const whole = target ? 'whole target BTF' : 'whole kernel BTF';
  const kernel = target ? targetKey(target) : kernelKey();
  if (kernel === null) return { note: `${whole} (${target ?? 'the boot id'} cannot be read)` };
  const object = createHash('sha256').update(elf).digest('hex');
  // the cache file of the object on this kernel (the key is also inside, and checked)
  const file = bootEntryPath('core-btf', FORMAT, kernel, object);
  if (!file) return { note: `${whole} (IG_CACHE_DIR=off)` };
  let stale: string;
  try {
    const got = readEntry(readFileSync(file), kernel, object, elf, whole);
    if (typeof got !== 'string') return got;
    stale = got;
  } catch {
    stale = 'not cached yet';
  }
  return computeAndKeep(elf, target, kernel, object, file, stale, whole);
}

/** A cache entry's choice, or why it cannot be used (a string). */
function readEntry(bytes: Buffer, kernel: string, object: string, elf: Buffer, whole: string): CoreBtfChoice | string {
  const entry = readFramedEntry<EntryHeader>(bytes, MAGIC);
  if (!entry) return 'cache entry unreadable';
  const { header: h, body: btf } = entry;
  if (h.kernel !== kernel) return 'cache entry made on another kernel';
  if (h.object !== object) return 'cache entry made for another object';
  if (h.reason !== undefined) return { note: `${whole} (${h.reason}; cached)` };
  if (typeof h.results !== 'string' || h.sha256 !== createHash('sha256').update(btf).digest('hex')) return 'cache entry damaged';
  const check = native().coreBtfResults(elf, btf);
  if (!check.results) return `cached BTF no longer relocates the object (${check.reason})`;
  if (!check.results.equals(Buffer.from(h.results, 'base64'))) return 'cached BTF relocates the object differently';
  const iterators = h.iterators ?? {};
  if (!Object.values(iterators).every((id) => Number.isInteger(id) && id > 0)) return 'cache entry damaged';
  return { btf, attachBtfIds: iterators, note: `minimal BTF from the cache (${btf.length} bytes, ${check.results.length / RESULT_SIZE} relocations checked${iteratorNote(iterators)})` };
}

const RESULT_SIZE = 40; // struct ig_core_result (native/src/core_relo.h)

function computeAndKeep(elf: Buffer, target: string | undefined, kernel: string, object: string, file: string, why: string, whole: string): CoreBtfChoice {
  let m: ReturnType<typeof coreBtfMinimal>;
  try {
    m = native().coreBtfMinimal(elf, target);
  } catch (err) {
    return { note: `${whole} (computing the minimal BTF failed: ${(err as Error).message})` };
  }
  const header: EntryHeader = { kernel, object };
  if (!m.btf) header.reason = m.reason;
  else Object.assign(header, { sha256: createHash('sha256').update(m.btf).digest('hex'), results: m.results.toString('base64'), iterators: m.iterators });
  const kept = keepBootEntry(file, framedEntry(MAGIC, header, m.btf ?? Buffer.alloc(0)));
  const how = `${why}; ${kept ? 'now cached' : 'cache folder not writable'}`;
  if (!m.btf) return { note: `${whole} (${m.reason}; ${how})` };
  return { btf: m.btf, attachBtfIds: m.iterators, note: `minimal BTF computed (${m.btf.length} bytes, ${m.results.length / RESULT_SIZE} relocations checked${iteratorNote(m.iterators)}; ${how})` };
}

function iteratorNote(ids: Record<string, number>): string {
  const n = Object.keys(ids).length;
  return n === 0 ? '' : `, ${n} iterator attach id${n === 1 ? '' : 's'}`;
}
