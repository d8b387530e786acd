/**
 * Run a build tool (clang, llvm-strip) on an untrusted gadget directory without letting it touch the host.
 *
 * Choice: bubblewrap (`bwrap`, Debian package bubblewrap) builds a private mount namespace whose whole
 * view is the toolchain (/usr, read-only), the header directories and the gadget directory (read-only),
 * a fresh /tmp, and one writable directory for the output. Nothing else of the host exists in there, so
 * `#include`/`#embed` of /etc/shadow fails, `-MF /root/x` (were it ever passed) has nowhere to write, and
 * a plugin has nothing to plant. Network, pid, ipc and uts namespaces are new too, every capability is
 * dropped, and the environment is replaced by a fixed one. This is IG's own design in miniature (it
 * compiles in a builder container that mounts only the gadget directory) without needing a container
 * engine. An unprivileged user alone would not do: it can still write /tmp, /dev/shm and /var/tmp.
 *
 * The argv is passed as an array (execFile, no shell) and is built by the callers from fixed flags and
 * validated paths only; the sandbox is the second wall, not the first.
 */
import { execFile } from 'node:child_process';
import { IgError } from '../errors.js';

export interface SandboxRun {
  /** The tool and its arguments, as run inside the sandbox. */
  argv: string[];
  /** Working directory inside the sandbox (must be visible: one of readOnly or writable). */
  cwd: string;
  /** Host directories visible read-only at the same path. */
  readOnly: string[];
  /** The one host directory the tool may write (same path inside). */
  writable: string;
  /** Kill the tool after this long (default 5 minutes). */
  timeoutMs?: number;
}

export interface SandboxResult { stdout: string; stderr: string }

/** A tool that ran and failed (non-zero exit or signal): its own words, for the caller to phrase. */
export class ToolFailure extends Error {
  constructor(readonly tool: string, readonly stderr: string, readonly exitCode: number | null) {
    super(`${tool} failed`);
  }
}

const BWRAP = 'bwrap';

function sandboxArgv(r: SandboxRun): string[] {
  const args = [
    '--ro-bind', '/usr', '/usr',
    // merged-/usr layout (Debian 12): the loader and libraries are reached through these links
    '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64',
    '--symlink', 'usr/bin', '/bin',
    '--symlink', 'usr/sbin', '/sbin',
    '--dev', '/dev',
    '--proc', '/proc',
    '--tmpfs', '/tmp',
  ];
  // After the tmpfs, so directories that live under the host's /tmp show through it.
  for (const d of r.readOnly) args.push('--ro-bind', d, d);
  args.push('--bind', r.writable, r.writable);
  args.push(
    '--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
    '--clearenv', '--setenv', 'PATH', '/usr/bin:/bin', '--setenv', 'HOME', '/tmp', '--setenv', 'LC_ALL', 'C.UTF-8',
    '--chdir', r.cwd,
    '--', ...r.argv,
  );
  return args;
}

export function runSandboxed(r: SandboxRun): Promise<SandboxResult> {
  return new Promise((resolve, reject) => {
    execFile(BWRAP, sandboxArgv(r), { maxBuffer: 64 << 20, timeout: r.timeoutMs ?? 300_000, killSignal: 'SIGKILL', env: {} }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
      if (e.code === 'ENOENT') {
        return reject(new IgError('build', 'bubblewrap (bwrap) is needed to run the compiler sandboxed, and it is not installed', {
          hint: 'apt-get install bubblewrap (scripts/setup.sh installs it)',
        }));
      }
      if (e.killed) return reject(new IgError('build', `${r.argv[0]} did not finish within ${Math.round((r.timeoutMs ?? 300_000) / 1000)} s and was stopped`));
      if (/^bwrap: execvp /m.test(stderr)) {
        return reject(new IgError('build', `${r.argv[0]} not found under /usr`, { hint: 'install it: apt-get install clang-19 llvm-19' }));
      }
      // bwrap's own failures (e.g. namespaces refused) come before the tool runs
      if (/^bwrap: /.test(stderr)) {
        return reject(new IgError('build', `the build sandbox could not start: ${stderr.trim()}`, {
          hint: 'bwrap needs root or unprivileged user namespaces',
        }));
      }
      reject(new ToolFailure(r.argv[0], stderr || e.message, typeof e.code === 'number' ? e.code : null));
    });
  });
}
