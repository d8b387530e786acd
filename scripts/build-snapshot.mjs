#!/usr/bin/env node
// The start-up snapshot of `ig run` (src/snapshot/entry.ts): dist/cli.snapshot/ig.blob, which bin/ig runs
// with `node --snapshot-blob`. Called by scripts/bundle.mjs after each CLI bundle, with that bundle's
// id, so the blob and dist/cli.bundle/ always come from the same sources; `node scripts/build-snapshot.mjs`
// alone rebuilds it for the bundle in place (after a node upgrade: a blob only runs on the node that built it).
//
// The script is one CommonJS file (a snapshot's entry cannot load ES modules or files) holding ig's
// own code and the npm packages the run path evaluates at build time (BUNDLED); any other package
// is left to require() from node_modules when a run needs it, which keeps the blob (and the time to
// read and deserialize it) small: with every package in it, it was 43 MB and the start ~300 ms slower.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dropLoadedModulesCache, v8StartupData } from './snapshot-code-cache.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** npm packages evaluated while the snapshot is built (the banner's require refuses any other). */
const BUNDLED = ['@opentelemetry/api-logs', 'get-east-asian-width'];
/**
 * V8 flags the blob is built with, written beside it (ig.blob.flags) for bin/ig to start node with:
 * node refuses a blob whose V8 flags differ from its own. A young generation of 2 MiB semi-spaces
 * from the start (1 MiB by default): a run allocates ~1.3 MB before its first events, and the
 * scavenge that a 1 MiB semi-space forced there cost ~2.5 ms, its to-space's first page touches
 * included (bench/README.md "Start-up, round eight"). ig run keeps it from growing further
 * (keepYoungGenerationSmall).
 */
const NODE_FLAGS = ['--min-semi-space-size=2'];
/** ig's modules that only other commands, cluster and remote runs use: entry.ts runs those from the ES module bundle. */
const NOT_IN_SNAPSHOT = ['cli/commands/index', 'cli/completion', 'cli/parser', 'cli/run/k8s', 'cli/run/remote'];

/** Build into `outdir` (PACKAGE/dist/cli.snapshot: the snapshot's ig runs the package above it). */
export async function buildSnapshot(buildId, outdir = path.join(root, 'dist', 'cli.snapshot')) {
  const script = path.join(outdir, 'ig.cjs');
  const blob = path.join(outdir, 'ig.blob');
  const eagerEntry = path.join(outdir, 'build-entry.cjs');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [path.join(root, 'src', 'snapshot', 'entry.ts')],
    outfile: script,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['*.node'],
    define: { 'import.meta.url': '__igSnapshotUrl', __IG_BUILD_ID: JSON.stringify(buildId) },
    banner: { js: banner(script) },
    plugins: [leaveOut()],
    keepNames: true,
    // V8 keeps a script's source in the heap, and one character past Latin-1 makes all of it a
    // two-byte string: with `charset` esbuild escapes what the code holds, the comments it keeps are
    // made ASCII below (bench/README.md "Start-up, round six": 5.5 -> 4.9 MB of blob)
    charset: 'ascii',
    legalComments: 'none',
    logLevel: 'warning',
  });
  // Functions from a snapshot have no import() (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING): the
  // packages imported lazily (ESM-only ones among them) go through a script compiled at run time.
  // What is left beyond ASCII after esbuild's `charset` is in comments (an arrow, an ellipsis).
  const code = readFileSync(script, 'utf8');
  writeFileSync(script, code.replace(/\bimport\((?=["'][^."'])/g, '__igImport(').replace(/[^\x00-\x7f]/g, '?'));
  writeFileSync(path.join(outdir, 'import.cjs'), 'module.exports = (url) => import(url);\n');
  const tmp = `${blob}.tmp-${process.pid}`;
  const loadedList = `${tmp}.loaded`;
  writeFileSync(eagerEntry, eagerLoader(script, outdir, loadedList));
  try {
    execFileSync(process.execPath, [...NODE_FLAGS, '--snapshot-blob', tmp, '--build-snapshot', eagerEntry], { cwd: outdir, stdio: ['ignore', 'ignore', 'pipe'] });
    // node's own modules loaded by now are in the snapshot: their code caches are never read
    const loaded = readFileSync(loadedList, 'utf8').split('\n').filter((l) => l.startsWith('NativeModule ')).map((l) => l.slice('NativeModule '.length));
    dropLoadedModulesCache(tmp, new Set(loaded));
  } catch (e) {
    rmSync(tmp, { force: true });
    const why = String(e.stderr || e.message).split('\n').filter((l) => l && !/^\(node:\d+\) Warning|^It may still work|^To request support|^\(Use `node/.test(l)).join('\n');
    throw new Error(`node --build-snapshot failed: ${why}`);
  } finally {
    rmSync(loadedList, { force: true });
  }
  writeFileSync(`${blob}.flags`, `${NODE_FLAGS.join(' ')}\n`);
  renameSync(tmp, blob);
  writePagesOfCopy(blob);
  // the node it runs on: scripts/setup.sh rebuilds the blob when `node --version` says otherwise
  writeFileSync(path.join(outdir, 'node-version'), `${process.version}\n`);
  return { blob, bytes: statSync(blob).size };
}

/**
 * BLOB.pages: node keeps a malloc'd copy of the blob's V8 part for the whole run (3.8 MB, all
 * resident); this file holds the same bytes as they sit in that copy's pages (glibc's mmap'd
 * block: a 16-byte chunk header, then the data), so that ig can map the file over the copy's pages
 * (native/src/memory.cc, shareSnapshotCopy: only after comparing every page). In node's blob
 * format the V8 part follows its int32 size; V8's snapshot header has its version string at byte 12.
 * Nothing is written when the layout is not found (the copy then stays as it is). Written to a new
 * file renamed into place, never rewritten in place: a running ig may have the old one mapped.
 */
function writePagesOfCopy(blob) {
  const bytes = readFileSync(blob);
  const v8 = v8StartupData(bytes);
  if (!v8) return;
  const { at, size } = v8;
  writeFileSync(`${blob}.pages.tmp`, bytes.subarray(at - 16, at + size));
  renameSync(`${blob}.pages.tmp`, `${blob}.pages`);
}

/**
 * `require` in the bundle: Node's own modules (all a snapshot builder may load), and after
 * deserialization ig's node_modules (entry.ts sets __igSnapshotRequire; __igSnapshotImport is
 * import() for the rewritten import() calls); either may open TLS connections, so a deferred
 * NODE_EXTRA_CA_CERTS is applied first (src/snapshot/extra-ca.ts). import.meta.url of the
 * bundled modules is the script's own URL, inside the package like dist/cli.bundle/.
 */
function banner(script) {
  return `var __igSnapshotUrl = ${JSON.stringify(pathToFileURL(script).href)};
var __igBuiltinRequire = require;
require = function (id) {
  const builtin = id.startsWith('node:') || __igBuiltinRequire('node:module').isBuiltin(id);
  if (!builtin || /^(node:)?(tls|https|http2)$/.test(id)) globalThis.__igBeforeTls?.();
  if (builtin) return __igBuiltinRequire(id);
  if (globalThis.__igSnapshotRequire) return globalThis.__igSnapshotRequire(id);
  throw new Error('the start-up snapshot loads ' + id + ' while it is built: add it to BUNDLED in scripts/build-snapshot.mjs');
};
function __igImport(id) {
  globalThis.__igBeforeTls?.();
  return globalThis.__igSnapshotImport(id);
}`;
}

/**
 * The snapshot's entry: ig.cjs compiled with V8's lazy compilation off, so that the blob holds
 * bytecode for every function of the run path, not only those that ran at build time (a function
 * compiled on its first call costs that compile on every start: ~15 ms of the run path's CPU,
 * for 0.8 MB more blob). The flag is back on before the snapshot is written (V8 refuses a blob
 * built with other flags than node runs with). Last it lists node's modules loaded so far in
 * `loadedList` (their code caches are dropped from the blob: scripts/snapshot-code-cache.mjs).
 */
function eagerLoader(script, outdir, loadedList) {
  return `const v8 = require('node:v8');
const file = ${JSON.stringify(script)};
const source = require('node:fs').readFileSync(file, 'utf8');
v8.setFlagsFromString('--no-lazy');
const wrapper = require('node:vm').runInThisContext('(function (exports, require, module, __filename, __dirname) {' + source + '\\n})', { filename: file });
v8.setFlagsFromString('--lazy');
const mod = { exports: {} };
wrapper(mod.exports, require, mod, file, ${JSON.stringify(outdir)});
require('node:fs').writeFileSync(${JSON.stringify(loadedList)}, process.moduleLoadList.join('\\n'));
`;
}

function leaveOut() {
  return {
    name: 'ig-snapshot-scope',
    setup(b) {
      // npm packages: external (required at run time) unless the run path needs them at build time
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || args.kind === 'entry-point') return undefined;
        const pkg = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
        return BUNDLED.includes(pkg) ? undefined : { path: args.path, external: true };
      });
      // the other commands: a stub, since entry.ts never runs them from the snapshot
      b.onResolve({ filter: /^\./ }, (args) => {
        const target = path.relative(path.join(root, 'src'), path.resolve(args.resolveDir, args.path)).replace(/\.[jt]s$/, '');
        return NOT_IN_SNAPSHOT.includes(target) ? { path: target, namespace: 'ig-not-in-snapshot' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'ig-not-in-snapshot' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`internal: ${args.path} is not in the start-up snapshot (src/snapshot/entry.ts sends this command line to the ES module bundle)`)});`,
        loader: 'js',
      }));
    },
  };
}

// `node scripts/build-snapshot.mjs [--out PACKAGE/dist/cli.snapshot]`: for the CLI bundle beside it
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const outdir = path.resolve(i > 0 ? process.argv[i + 1] : path.join(root, 'dist', 'cli.snapshot'));
  const id = readFileSync(path.join(outdir, '..', 'cli.bundle', 'build-id'), 'utf8').trim();
  const { blob, bytes } = await buildSnapshot(id, outdir);
  process.stdout.write(`built ${blob}: ${(bytes / 1e6).toFixed(1)} MB\n`);
}
