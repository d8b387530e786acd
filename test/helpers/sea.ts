/**
 * Build the single executable into a test's own folder (`scripts/build-sea.mjs --out`), so tests
 * running in parallel never rewrite dist/ig under each other. About 8 s.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './ig.js';

export async function buildSea(out: string): Promise<string> {
  await promisify(execFile)(process.execPath, [path.join(repoRoot, 'scripts', 'build-sea.mjs'), '--out', out], {
    cwd: repoRoot,
    maxBuffer: 16 << 20,
  });
  return out;
}
