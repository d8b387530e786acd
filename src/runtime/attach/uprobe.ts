/**
 * uprobe/uretprobe/usdt by path or library name, as IG's uprobetracer: the name is resolved in
 * each target's root file system (the host's, or a container's through /proc/PID/root), the
 * symbol (or the USDT note) in the file's own ELF data, and the probe is attached by file offset
 * to every process that maps the file. A file two targets share is attached once.
 */
import { statSync } from 'node:fs';
import type { BpfObject } from '../../../native/index.js';
import { IgError } from '../../errors.js';
import { ElfFile, type SdtProbe } from '../symbols/elf.js';
import { resolveLibrary } from '../symbols/libraries.js';
import type { AttachTarget } from './types.js';

export interface UprobePlan { kind: 'uprobe'; probe: 'uprobe' | 'uretprobe' | 'usdt'; target: string; symbol: string }

interface Attached { detach(): void }

/**
 * What one attach pass looks up, each once (libraries, symbol tables, USDT notes): a gadget with
 * twenty uprobes on libc resolved libc (reading ld.so.cache) and decoded its symbol tables twenty
 * times, ~190 ms of trace_malloc's start-up. A pass is short (one target's attach), so files changing meanwhile do not matter.
 */
export class UprobeLookups {
  private readonly libraries = new Map<string, string[]>();
  private readonly files = new Map<string, ElfFile>();
  private readonly probes = new Map<string, SdtProbe[]>();

  /** resolveLibrary, once per name, root and pid */
  library(target: string, root: string, pid: number): string[] {
    const key = `${root}\0${pid}\0${target}`;
    let found = this.libraries.get(key);
    if (!found) this.libraries.set(key, (found = resolveLibrary(target, root, pid)));
    return found;
  }

  /** Where in the file the probe goes: a function's offset, or a USDT probe's (with its semaphore). */
  probeOffsets(file: string, plan: UprobePlan): { offset: number; refCtrOffset?: number } {
    let elf = this.files.get(file);
    if (!elf) {
      // read what the lookups need while the file is open; offsets come from its segments after
      elf = ElfFile.with(file, (f) => {
        if (plan.probe !== 'usdt') f.functionAddresses();
        return f;
      });
      this.files.set(file, elf);
    }
    if (plan.probe !== 'usdt') {
      const offset = elf.symbolOffset(plan.symbol);
      if (offset === undefined) throw new IgError('usage', `${file} has no function ${plan.symbol}`);
      return { offset };
    }
    const [provider, name] = plan.symbol.split(':');
    let probes = this.probes.get(file);
    if (!probes) this.probes.set(file, (probes = ElfFile.with(file, (f) => f.sdtProbes())));
    const p = probes.find((x) => x.provider === provider && x.name === name);
    if (!p) throw new IgError('usage', `${file} has no USDT probe ${provider}:${name}`);
    const offset = elf.fileOffset(p.pc);
    if (offset === undefined) throw new IgError('invalid-object', `USDT probe ${provider}:${name} of ${file} is outside its loadable segments`);
    return { offset, refCtrOffset: p.semaphore ? elf.fileOffset(p.semaphore) : undefined };
  }
}

/** The attachments one uprobe program needs for one target: one per file the name resolves to there. */
export function attachUprobe(obj: BpfObject, prog: string, plan: UprobePlan, t: AttachTarget, lookups: UprobeLookups): [string, () => Attached][] {
  const root = t.host ? '/' : `/proc/${t.pid}/root`;
  const files = lookups.library(plan.target, root, t.pid);
  if (files.length === 0) {
    throw new IgError('usage', `"${plan.target}" is not a file or a library of ${t.name}${plan.target.startsWith('/') ? '' : ' (not in its ld.so.cache, its mapped files or its library folders)'}`);
  }
  return files.map((file) => {
    const st = statSync(file);
    return [`${st.dev}:${st.ino}`, () => {
      const { offset, refCtrOffset } = lookups.probeOffsets(file, plan);
      const link = obj.attach(prog, { binaryPath: file, offset, pid: -1, retprobe: plan.probe === 'uretprobe', refCtrOffset });
      return { detach: () => obj.detach(link) };
    }];
  });
}
