import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './helpers/ig.js';

/** Newest modification time under a folder. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Mount points at or under `dir` (this mount namespace's /proc/self/mountinfo, field 5; octal escapes as the kernel writes them). */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m)
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/**
 * Every temporary file of the run under one folder, removed when the run ends: test files and the
 * helpers they share make their scratch folders with os.tmpdir(), and a folder a test file removes
 * in its own afterAll or exit handler stays behind when its worker is stopped first (a run left
 * ~60 folders in /tmp). The workers, and ig and the tools they start, inherit TMPDIR. A folder
 * something is still mounted on is left in place and named rather than emptied through the mount.
 */
function tempRoot(): () => void {
  // vitest runs the global setup once for the run and once per project: one folder for all
  if (process.env.IG_TEST_TEMP_ROOT) return () => undefined;
  const root = mkdtempSync(path.join(os.tmpdir(), 'ig-test-'));
  // as /tmp: tests run ig and its daemon as other users too, which must reach their sockets here
  chmodSync(root, 0o1777);
  process.env.TMPDIR = process.env.IG_TEST_TEMP_ROOT = root;
  return () => {
    const mounted = mountsUnder(root);
    if (mounted.length) {
      process.stderr.write(`test temp folder ${root} kept: still mounted on ${mounted.join(', ')}\n`);
      return;
    }
    rmSync(root, { recursive: true, force: true });
  };
}

/**
 * Tests run the built CLI (dist/). Build it once, before any test file starts,
 * when src/ changed since the last build — never from inside a test file, where
 * it would rewrite dist/ under the feet of tests running in parallel.
 */
export default function setup(): () => void {
  const stamp = path.join(repoRoot, 'dist', '.stamp');
  if (!existsSync(stamp) || statSync(stamp).mtimeMs < newest(path.join(repoRoot, 'src'))) {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repoRoot, stdio: 'inherit' });
    execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: repoRoot, stdio: 'inherit' });
    writeFileSync(stamp, '');
  }
  return tempRoot();
}
