import { statfsSync, mkdirSync } from 'node:fs';
import { childProcess } from './child-process.js';
import { IgError } from '../errors.js';

const BPFFS = '/sys/fs/bpf';
const BPF_FS_MAGIC = 0xcafe4a11;

/**
 * Maps declared with `__uint(pinning, LIBBPF_PIN_BY_NAME)` are pinned under /sys/fs/bpf (IG's
 * gpu bridge maps are shared that way). Mount bpffs there when it is missing, as for tracefs.
 */
export function ensureBpffs(): void {
  try {
    if (statfsSync(BPFFS).type === BPF_FS_MAGIC) return;
  } catch {
    mkdirSync(BPFFS, { recursive: true });
  }
  try {
    childProcess().execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS], { stdio: 'ignore' });
  } catch (err) {
    throw new IgError('kernel', `the gadget pins maps under ${BPFFS}, which is not a bpf file system, and mounting one failed`, {
      hint: `mount it with: mount -t bpf bpf ${BPFFS}`,
      cause: err,
    });
  }
}
