// Run `ig run …` while a test triggers what the gadget traces, starting the trigger only once
// ig has attached (a bpf_link with a prog shows up in /proc/<ig>/fdinfo), so no event is missed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { spawnIg, collect, type IgResult } from './ig.js';
import { waitFor } from './kernel.js';
import { getcwdTrigger } from './getcwd.js';

/** Number of bpf_link fds (attached programs) a process holds. */
export function linkCount(pid: number): number {
  let n = 0;
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return 0;
  }
  for (const fd of fds) {
    try {
      if (/^link_id:/m.test(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

export interface RunWithResult<T> extends IgResult {
  /** what the trigger returned */
  triggered: T;
}

/**
 * Start `ig run ARGS`, wait until it has attached `links` programs, run `trigger`, then let ig
 * finish (its `-t` timeout must leave room for the trigger) and collect its output.
 */
export async function runWith<T>(
  args: string[], env: NodeJS.ProcessEnv, trigger: () => T | Promise<T>, opts: { links?: number; timeoutMs?: number } = {},
): Promise<RunWithResult<T>> {
  const child = spawnIg(args, { env });
  const result = collect(child, opts.timeoutMs ?? 60_000);
  let exited = false;
  child.on('exit', () => (exited = true));
  await waitFor(() => exited || linkCount(child.pid!) >= (opts.links ?? 1), 20_000, `ig ${args.join(' ')} to attach`);
  // programs are attached one after the other: wait until the count stops growing
  for (let last = -1, n = linkCount(child.pid!); !exited && n !== last; last = n, n = linkCount(child.pid!)) {
    await new Promise((r) => setTimeout(r, 150));
  }
  let triggered: T;
  try {
    triggered = await trigger();
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const r = await result;
  return { ...r, triggered };
}

/**
 * The comm of `pwdTimes`' processes: a copy of /bin/pwd under a name of this test file's own, so a
 * run filtered with `--comm PWD_COMM` sees none of the getcwd calls other files' tests make meanwhile
 * (the suite runs files in parallel, and several of them run pwd).
 */
export const PWD_COMM = `igpwd${randomBytes(4).toString('hex')}`;
let pwd: ReturnType<typeof getcwdTrigger> | undefined;

/** Run the copy of `/bin/pwd -P` named PWD_COMM (one getcwd(2) each) `n` times, one after the other; returns the pids. */
export function pwdTimes(n: number): number[] {
  if (!pwd) {
    const dir = mkdtempSync(path.join(tmpdir(), 'ig-pwd-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    pwd = getcwdTrigger(dir, PWD_COMM);
  }
  return pwd.run(n);
}

/** Spawn a process and wait for it; resolves to its pid and stdout. */
export function runChild(cmd: string, args: string[], opts: { input?: string } = {}): Promise<{ pid: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ pid: c.pid!, code, stdout, stderr }));
    // a child that exits before reading its input closes the pipe: not an error of the test
    c.stdin.on('error', () => undefined);
    c.stdin.end(opts.input ?? '');
  });
}

/** Assert-friendly check for clean CLI errors: `error: …` on stderr, non-zero exit, no stack trace. */
export function cleanErrorProblems(r: IgResult, pattern: RegExp): string[] {
  const p: string[] = [];
  if (r.code === 0 || r.code === null) p.push(`exit code ${r.code}`);
  if (!/^error: /m.test(r.stderr)) p.push('no "error: " line');
  if (!pattern.test(r.stderr)) p.push(`stderr does not match ${pattern}`);
  if (/^\s+at .*:\d+:\d+\)?$/m.test(r.stderr)) p.push('stack trace printed');
  return p;
}

/** Seconds since boot (CLOCK_BOOTTIME as the kernel reports it in /proc/uptime). */
export function uptimeNs(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1e9;
}
