/**
 * uprobe/uretprobe/usdt by path or library name, as IG's uprobetracer: the name is resolved in
 * each target's root file system (the host's, or a container's through /proc/PID/root), the
 * symbol (or the USDT note) in the file's own ELF data, and the probe is attached by file offset
 * to every process that maps the file. A file two targets share is attached once.
 */
import { statSync } from 'node:fs';
import type { BpfObject } from '../../../native/index.js';
import { IgError } from '../../errors.js';
import { ElfFile } from '../symbols/elf.js';
import { resolveLibrary } from '../symbols/libraries.js';
import type { AttachTarget } from './types.js';

export interface UprobePlan { kind: 'uprobe'; probe: 'uprobe' | 'uretprobe' | 'usdt'; target: string; symbol: string }

interface Attached { detach(): void }

/** Where in the file the probe goes: a function's offset, or a USDT probe's (with its semaphore). */
function probeOffsets(file: string, plan: UprobePlan): { offset: number; refCtrOffset?: number } {
  return ElfFile.with(file, (elf) => {
    if (plan.probe !== 'usdt') {
      const offset = elf.symbolOffset(plan.symbol);
      if (offset === undefined) throw new IgError('usage', `${file} has no function ${plan.symbol}`);
      return { offset };
    }
    const [provider, name] = plan.symbol.split(':');
    const p = elf.sdtProbes().find((x) => x.provider === provider && x.name === name);
    if (!p) throw new IgError('usage', `${file} has no USDT probe ${provider}:${name}`);
    const offset = elf.fileOffset(p.pc);
    if (offset === undefined) throw new IgError('invalid-object', `USDT probe ${provider}:${name} of ${file} is outside its loadable segments`);
    return { offset, refCtrOffset: p.semaphore ? elf.fileOffset(p.semaphore) : undefined };
  });
}

/** The attachments one uprobe program needs for one target: one per file the name resolves to there. */
export function attachUprobe(obj: BpfObject, prog: string, plan: UprobePlan, t: AttachTarget): [string, () => Attached][] {
  const root = t.host ? '/' : `/proc/${t.pid}/root`;
  const files = resolveLibrary(plan.target, root, t.pid);
  if (files.length === 0) {
    throw new IgError('usage', `"${plan.target}" is not a file or a library of ${t.name}${plan.target.startsWith('/') ? '' : ' (not in its ld.so.cache, its mapped files or its library folders)'}`);
  }
  return files.map((file) => {
    const st = statSync(file);
    return [`${st.dev}:${st.ino}`, () => {
      const { offset, refCtrOffset } = probeOffsets(file, plan);
      const link = obj.attach(prog, { binaryPath: file, offset, pid: -1, retprobe: plan.probe === 'uretprobe', refCtrOffset });
      return { detach: () => obj.detach(link) };
    }];
  });
}
