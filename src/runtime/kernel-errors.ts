import { IgError } from '../errors.js';
import type { ProgramInfo } from '../../native/index.js';

interface NativeError extends Error { errno?: number; op?: string; log?: string }

const ENOENT = 2, EPERM = 1, EINVAL = 22, EOPNOTSUPP = 95, ENOTSUPP = 524, EACCES = 13, E2BIG = 7, ENOSPC = 28;

/** What a section needs from the kernel, in the words a user would search for. */
function kernelFeatureOf(section: string): string | undefined {
  if (/^k(ret)?probe(\.multi)?\//.test(section) || /^k(ret)?syscall\//.test(section)) return 'kprobe support (CONFIG_KPROBES)';
  if (/^(fentry|fexit|fmod_ret)(\.s)?\//.test(section)) return 'fentry/fexit support (BPF trampolines)';
  if (/^lsm(\.s)?\//.test(section)) return 'BPF LSM support (CONFIG_BPF_LSM and "bpf" in the lsm= boot list)';
  if (/^perf_event/.test(section)) return 'perf events';
  return undefined;
}

function lastLines(log: string | undefined, n: number): string {
  if (!log) return '';
  const lines = log.split('\n').map((l) => l.trimEnd()).filter((l) => l && !l.startsWith('libbpf: ') && !/^-- END/.test(l));
  return lines.slice(-n).join('\n  ');
}

/** Whether the verifier said more than its statistics line (a refusal before verification leaves only that). */
function verifierComplained(log: string): boolean {
  const m = log.match(/-- BEGIN PROG LOAD LOG --\n([\s\S]*?)-- END PROG LOAD LOG --/);
  if (!m) return false;
  return m[1].split('\n').some((l) => l.trim() && !/^processed \d+ insns/.test(l) && !/^verification time/.test(l));
}

/** A load error, with the program libbpf named (when it named one). */
export type LoadError = IgError & { program?: string };

/** Turn a failed load into an error naming the program and the verifier's last words. */
export function loadError(err: unknown, programs: ProgramInfo[]): LoadError {
  const e = describeLoadError(err, programs) as LoadError;
  const failed = ((err as NativeError).log ?? '').match(/prog '([^']+)': (?:BPF program load failed|failed to load)/)?.[1];
  if (failed) e.program = failed;
  return e;
}

function describeLoadError(err: unknown, programs: ProgramInfo[]): IgError {
  const e = err as NativeError;
  const log = e.log ?? '';
  // libbpf names the failing program in its log: "libbpf: prog 'name': BPF program load failed".
  const failed = log.match(/prog '([^']+)': (?:BPF program load failed|failed to load)/)?.[1];
  const prog = programs.find((p) => p.name === failed);
  const feature = prog ? kernelFeatureOf(prog.section) : undefined;
  if (prog && feature && (e.errno === EPERM || e.errno === EOPNOTSUPP || e.errno === ENOTSUPP || e.errno === EINVAL || e.errno === ENOENT)) {
    return new IgError('unsupported', `this kernel has no ${feature}: cannot load program "${prog.name}" (${prog.section})`, {
      hint: 'use a gadget built on tracepoints, or run on a kernel that has this feature',
      cause: err,
    });
  }
  // EPERM for one program while the others loaded: a security policy (LSM, lockdown) or a missing capability
  // refuses this program type (e.g. iter/bpf_map_elem without CAP_SYS_RESOURCE), not the verifier.
  if (prog && e.errno === EPERM && !verifierComplained(log)) {
    return new IgError('kernel', `the kernel refused program ${prog.name} (${prog.section}): Operation not permitted — a security policy or a missing capability`, {
      hint: 'run as root with CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN and CAP_SYS_RESOURCE, or use a gadget without this program type',
      cause: err,
    });
  }
  const verifierSays = log.includes('processed ') || /R\d+ |invalid|unbounded|!read_ok|back-edge|unreachable/.test(log);
  if (failed && (verifierSays || e.errno === EACCES || e.errno === EINVAL || e.errno === E2BIG || e.errno === ENOSPC)) {
    const tail = lastLines(log.split(/-- BEGIN PROG LOAD LOG --/).pop(), 8);
    return new IgError('verifier', `verifier rejected program "${failed}"${prog ? ` (${prog.section})` : ''}:\n  ${tail || e.message}`, {
      hint: 'the eBPF code must be fixed; IG_LIBBPF_DEBUG=1 prints the whole verifier log',
      cause: err,
    });
  }
  if (e.errno === EPERM || e.errno === EACCES) {
    return new IgError('kernel', `the kernel refused to load the gadget: ${e.message}`, {
      hint: 'run as root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN are needed)',
      cause: err,
    });
  }
  const tail = lastLines(log, 6);
  return new IgError('kernel', `loading the gadget failed: ${e.message}${tail ? `\n  ${tail}` : ''}`, { cause: err });
}

/** Turn a failed attach into an error naming the missing kernel feature where there is one. */
export function attachError(err: unknown, prog: ProgramInfo): IgError {
  const e = err as NativeError;
  const feature = kernelFeatureOf(prog.section);
  if (feature && (e.errno === ENOENT || e.errno === EOPNOTSUPP || e.errno === ENOTSUPP || e.errno === EINVAL || e.errno === EPERM)) {
    return new IgError('unsupported', `this kernel has no ${feature}: cannot attach program "${prog.name}" (${prog.section})`, {
      hint: 'use a gadget built on tracepoints, or run on a kernel that has this feature',
      cause: err,
    });
  }
  if (e.errno === ENOENT) {
    return new IgError('kernel', `cannot attach program "${prog.name}": ${prog.section} does not exist on this kernel`, {
      hint: 'the tracepoint or function may have another name on this kernel version (see /sys/kernel/tracing/events)',
      cause: err,
    });
  }
  return new IgError('kernel', `cannot attach program "${prog.name}" (${prog.section}): ${e.message}`, { cause: err });
}
