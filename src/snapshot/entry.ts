/**
 * The start-up snapshot's entry: scripts/build-snapshot.mjs bundles this file as one CommonJS script
 * and runs it with `node --build-snapshot`; bin/ig starts `node --snapshot-blob dist/cli.snapshot/ig.blob`.
 *
 * Why: Node 20 has no compile cache for ES modules, so `node bin/ig.js run ...` compiles and
 * resolves ~400 KB of chunks on every start (~55 ms of CPU). Here the run path's modules are
 * evaluated once, at build time, and V8 keeps their heap and compiled code in the blob.
 *
 * What runs at build time must not read the machine or the user's environment: argv, env, cwd,
 * stdout and the native addon are read in the function below, after deserialization. Only the plain
 * `ig run` command lines (fast-flags.ts) run from the snapshot; every other command, and a snapshot
 * older than the CLI bundle beside it, starts the ES module bundle as `node bin/ig.js` does.
 */
import { createRequire } from 'node:module';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { main } from '../cli/main.js';
import { handleError } from '../cli/errors.js';
import { joinDashValues } from '../cli/run/flags.js';
import { fastRunFlags } from '../cli/run/fast-flags.js';
import { packageRoot } from '../paths.js';
import { warmUp } from './warm-up.js';
import { deferExtraCaCerts } from './extra-ca.js';
// evaluated at build time (main.ts imports it lazily): the run path is what the snapshot is for
import '../cli/run/run-main.js';

/** Set by scripts/build-snapshot.mjs; dist/cli.bundle/build-id holds the id of the bundle beside it. */
declare const __IG_BUILD_ID: string;
/** The banner's require: build-time builtins, then ig's node_modules once this is set. */
declare global {
  // eslint-disable-next-line no-var
  var __igSnapshotRequire: NodeJS.Require | undefined;
  /** import() for the bundle's lazy imports of npm packages (build-snapshot.mjs rewrites them) */
  // eslint-disable-next-line no-var
  var __igSnapshotImport: ((specifier: string) => Promise<unknown>) | undefined;
}

warmUp();

v8.startupSnapshot.setDeserializeMainFunction(() => {
  const argv = process.argv.slice(1); // no script path: node's argv[1] is ig's first argument
  try {
    deferExtraCaCerts();
    const root = blobRoot() ?? packageRoot;
    const stale = staleness(root);
    if (stale === undefined && root === packageRoot) {
      globalThis.__igSnapshotRequire = createRequire(path.join(root, 'package.json'));
      globalThis.__igSnapshotImport = (specifier) => runtimeImport(root)(specifier);
      if (argv[0] === 'run' && fastRunFlags(joinDashValues(argv))) {
        void main(argv);
        return;
      }
    } else {
      process.stderr.write(`ig: ${stale ?? `the start-up snapshot was built for ${packageRoot}`}: starting without it\nhint: rebuild it with \`node scripts/bundle.mjs\` (scripts/setup.sh does)\n`);
    }
    plainStart(root, argv);
  } catch (e) {
    process.exitCode = handleError(e);
  }
});

/** The package folder of the blob node was started with (`--snapshot-blob X`): X is ROOT/dist/cli.snapshot/ig.blob. */
function blobRoot(): string | undefined {
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const blob = a === '--snapshot-blob' ? args[i + 1] : a.startsWith('--snapshot-blob=') ? a.slice('--snapshot-blob='.length) : undefined;
    // the real path: bin/ig may be reached through a linked folder (packageRoot has none)
    if (blob) return realpathSync.native(path.resolve(path.dirname(blob), '..', '..'));
  }
  return undefined;
}

/** Why the snapshot may not run this package's CLI, or undefined when it was built with the bundle beside it. */
function staleness(root: string): string | undefined {
  let id: string;
  try {
    id = readFileSync(path.join(root, 'dist', 'cli.bundle', 'build-id'), 'utf8').trim();
  } catch {
    return `${path.join(root, 'dist', 'cli.bundle')} has no build-id`;
  }
  return id === __IG_BUILD_ID ? undefined : 'the start-up snapshot is older than the CLI bundle (dist/cli.bundle)';
}

/** `node bin/ig.js ARGS`: the ES module bundle. */
function plainStart(root: string, argv: string[]): void {
  globalThis.__igBeforeTls?.(); // the bundle's modules use TLS without asking
  const load = runtimeImport(root) as (url: string) => Promise<{ main(argv: string[]): Promise<void> }>;
  void load(pathToFileURL(path.join(root, 'dist', 'cli.bundle', 'main.js')).href).then((m) => m.main(argv));
}

/** import() as dist/cli.snapshot/import.cjs does it: compiled at run time, resolving from the package. */
function runtimeImport(root: string): (specifier: string) => Promise<unknown> {
  return createRequire(path.join(root, 'dist', 'cli.snapshot', 'ig.cjs'))('./import.cjs') as (specifier: string) => Promise<unknown>;
}
