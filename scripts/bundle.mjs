#!/usr/bin/env node
// Bundle the CLI (src/cli/main.ts and everything it imports) into dist/cli.bundle/ with esbuild:
// Node 20 resolves, reads and compiles ~100 separate ES modules on every start (about 40 % of
// `ig run`'s time to its first event); one entry module plus lazily loaded chunks for the
// commands it does not always need cut that by ~70 ms. tsc still builds dist/ for the library API
// and the type declarations; bin/ig.js runs the bundle.
// Then the start-up snapshot of `ig run` (scripts/build-snapshot.mjs → dist/snapshot/ig.blob, which
// bin/ig uses), tagged with the same build id as the bundle so that bin/ig never runs one with
// the other's code.
import { build } from 'esbuild';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSnapshot } from './build-snapshot.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'cli.bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'src', 'cli', 'main.ts')],
  outdir,
  bundle: true,
  splitting: true, // dynamic import() stays lazy: a chunk per command module
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: ['*.node'],
  // CommonJS dependencies (yargs' helpers, grpc) call require() for Node's own modules
  banner: { js: "import { createRequire as __igRequire } from 'node:module'; const require = __igRequire(import.meta.url);" },
  logLevel: 'warning',
});

const buildId = randomUUID();
writeFileSync(path.join(outdir, 'build-id'), `${buildId}\n`);
try {
  await buildSnapshot(buildId);
} catch (e) {
  // bin/ig starts without it (as node bin/ig.js); the CLI bundle above is complete
  process.stderr.write(`warning: no start-up snapshot: ${e.message}\n`);
}
