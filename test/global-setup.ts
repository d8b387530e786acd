import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync, writeFileSync } from 'node:fs';
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

/**
 * Tests run the built CLI (dist/). Build it once, before any test file starts,
 * when src/ changed since the last build — never from inside a test file, where
 * it would rewrite dist/ under the feet of tests running in parallel.
 */
export default function setup(): void {
  const stamp = path.join(repoRoot, 'dist', '.stamp');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newest(path.join(repoRoot, 'src'))) return;
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repoRoot, stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  writeFileSync(stamp, '');
}
