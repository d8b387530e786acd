import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root, for finding bin/ig.js, gadgets/ and bpf/ from tests. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const igBin = path.join(repoRoot, 'bin', 'ig.js');

export interface IgResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Start the built `ig` CLI (tests run after `npm run build`). */
export function spawnIg(args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [igBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** Run `ig` to completion and collect its output. `timeoutMs` kills it with SIGKILL (a test failure, not a feature). */
export function runIg(args: string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<IgResult> {
  const { timeoutMs = 60_000, ...spawnOpts } = opts;
  return collect(spawnIg(args, spawnOpts), timeoutMs);
}

export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<IgResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Parse `-o json` output: one object per line; non-JSON lines fail loudly. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

/**
 * stderr without the lost-event lines: a run that traces the whole machine may lose events while
 * other jobs open files at hundreds of thousands a second, and says so; a test of its other messages
 * takes those lines out.
 */
export function withoutLoss(stderr: string): string {
  return stderr.replace(/^warning: lost \d+ events( in total)?\n/gm, '');
}
