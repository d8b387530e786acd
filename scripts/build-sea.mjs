#!/usr/bin/env node
// `npm run build:sea` → dist/ig: ig as one file, with Node's single executable application support.
//
// A SEA runs exactly one CommonJS script, so the CLI is bundled again here (scripts/bundle.mjs
// makes ESM with lazy chunks for bin/ig.js): one CommonJS file whose dynamic imports become
// lazily initialised sections of the same file. Everything ig reads from its package folder at
// run time goes in as SEA assets: the native addon, the .proto files, the gadget headers (for
// `ig image build`), package.json (version), and the built-in gadgets as an OCI layout exported
// from the default store (scripts/setup.sh builds them). src/sea/unpack.ts writes them into a
// private cache folder on first start. postject (npm) injects the blob into a copy of this node.
//
// Needs: dist/ built, native/build/ig_native.node, the built-in gadgets in the store
// (IG_OCI_STORE or the default one). Output: dist/ig, or the file named by --out FILE
// (staging folder: FILE.build/).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const output = path.resolve(outArg > 0 ? process.argv[outArg + 1] : path.join(root, 'dist', 'ig'));
const stage = `${output}.build`;
const files = path.join(stage, 'files');
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function fail(msg, hint) {
  process.stderr.write(`error: ${msg}\n${hint ? `hint: ${hint}\n` : ''}`);
  process.exit(1);
}

rmSync(stage, { recursive: true, force: true });
mkdirSync(files, { recursive: true });

// 1. The CLI as one CommonJS script.
await build({
  entryPoints: [path.join(root, 'src', 'sea', 'main.ts')],
  outfile: path.join(stage, 'ig.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['*.node'],
  // import.meta.url is empty in CommonJS; the few modules reading it (createRequire for the addon,
  // yargs' locale folder) get the executable's own path, which is what __filename is in a SEA.
  define: { 'import.meta.url': '__igSeaUrl' },
  banner: { js: "var __igSeaUrl = require('node:url').pathToFileURL(__filename).href;" },
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// 2. The files ig reads from its package folder, at the same relative paths.
const carried = [];
function carry(rel, from = path.join(root, rel), mode) {
  if (!existsSync(from)) fail(`${rel} is missing`, 'run `npm run build` (or scripts/setup.sh) first');
  const st = statSync(from);
  if (st.isDirectory()) {
    for (const e of readdirSync(from).sort()) carry(path.posix.join(rel, e), path.join(from, e));
    return;
  }
  const dest = path.join(files, rel);
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(from, dest);
  carried.push({ path: rel, mode: mode ?? (st.mode & 0o111 ? 0o755 : 0o644) });
}
carry('native/build/ig_native.node');
carry('spec/ig.proto');
carry('src/containers/cri/api.proto');
for (const f of ['tasks', 'containers', 'images']) carry(`src/containers/containerd/${f}.proto`);
carry('bpf/include');
carry('wasm/include');
carry('native/vendor/include/bpf');
if (existsSync(path.join(root, 'bpf/vmlinux/x86/vmlinux.h'))) carry('bpf/vmlinux/x86/vmlinux.h');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
writeFileSync(path.join(stage, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module' }));
carry('package.json', path.join(stage, 'package.json'), 0o644);

// 3. The built-in gadgets: every gadgets/NAME with a program, exported from the store as an OCI layout.
const gadgets = readdirSync(path.join(root, 'gadgets')).filter((n) => existsSync(path.join(root, 'gadgets', n, 'program.bpf.c'))).sort();
const tarFile = path.join(stage, 'builtin-gadgets.tar');
try {
  execFileSync(process.execPath, [path.join(root, 'bin', 'ig.js'), 'image', 'export', ...gadgets, tarFile], { stdio: ['ignore', 'ignore', 'pipe'] });
} catch (e) {
  fail(`cannot export the built-in gadgets from the store: ${String(e.stderr || e.message).trim()}`, 'build them first: scripts/setup.sh (uses IG_OCI_STORE when set)');
}
const layout = path.join(stage, 'builtin-gadgets');
mkdirSync(layout);
execFileSync('tar', ['-xf', tarFile, '-C', layout]);
carry('builtin-gadgets', layout);

// 4. The list of files (with a content id naming the cache folder), the SEA blob, the executable.
const id = createHash('sha256');
for (const f of carried) id.update(`${f.path}\0${f.mode}\0`).update(readFileSync(path.join(files, f.path)));
writeFileSync(path.join(stage, 'ig-files.json'), JSON.stringify({ id: id.digest('hex'), files: carried }));
const assets = { 'ig-files.json': path.join(stage, 'ig-files.json') };
for (const f of carried) assets[f.path] = path.join(files, f.path);
const seaConfig = path.join(stage, 'sea-config.json');
writeFileSync(
  seaConfig,
  JSON.stringify({ main: path.join(stage, 'ig.cjs'), output: path.join(stage, 'sea-prep.blob'), disableExperimentalSEAWarning: true, useCodeCache: true, assets }, null, 2),
);
execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: ['ignore', 'ignore', 'inherit'] });

const tmp = `${output}.tmp-${process.pid}`;
copyFileSync(process.execPath, tmp);
chmodSync(tmp, 0o755);
try {
  const postject = fileURLToPath(import.meta.resolve('postject/dist/cli.js'));
  execFileSync(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', path.join(stage, 'sea-prep.blob'), '--sentinel-fuse', FUSE], { stdio: ['ignore', 'ignore', 'pipe'] });
} catch (e) {
  rmSync(tmp, { force: true });
  fail(`postject could not inject the blob into a copy of ${process.execPath}: ${String(e.stderr || e.message).trim()}`, 'the node binary must be an official build with the SEA fuse (not a distribution build linked to libnode)');
}
renameSync(tmp, output);
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
process.stdout.write(`built ${output}: ${mb(statSync(output).size)} (node ${process.version} ${mb(statSync(process.execPath).size)} + ${carried.length} files, blob ${mb(statSync(path.join(stage, 'sea-prep.blob')).size)})\n`);
