// ig as one file (scripts/build-sea.mjs): the executable alone, started from an empty folder with an
// empty store and an empty cache, runs the built-in trace_open on the real kernel.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collect, jsonLines } from '../helpers/ig.js';
import { buildSea } from '../helpers/sea.js';
import { linkCount } from '../helpers/run-with.js';
import { waitFor } from '../helpers/kernel.js';
import { fileOpener } from '../helpers/opener.js';

let dir: string;
let ig: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ig-sea-test-'));
  ig = await buildSea(path.join(dir, 'bin', 'ig'));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the single executable', () => {
  it('runs `ig run trace_open -o json -t 2` from an empty folder, with nothing else on the machine it needs', async () => {
    const empty = path.join(dir, 'empty');
    const store = path.join(dir, 'store');
    const cache = path.join(dir, 'cache');
    mkdirSync(empty);
    // No node on PATH, no checkout, no store, no cache: only the file and the kernel.
    const env = { PATH: path.join(dir, 'nothing'), HOME: empty, IG_OCI_STORE: store, IG_CACHE_DIR: cache };
    // created before ig starts, so that creating the file is no event of the run
    const opener = fileOpener(50, dir);
    onTestFinished(() => opener.stop());
    const child = spawn(ig, ['run', 'trace_open', '-o', 'json', '-t', '2'], { cwd: empty, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(child, 30_000);
    let exited = false;
    child.on('exit', () => (exited = true));
    await waitFor(() => exited || linkCount(child.pid!) > 0, 20_000, 'the single executable to attach trace_open');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const hit = jsonLines(r.stdout).find((e) => e.fname === opener.file);
    expect(hit, `no open of ${opener.file} among ${r.stdout.split('\n').length} lines`).toBeDefined();
    expect(hit!.pid).toBe(opener.pid);
    expect(readdirSync(empty)).toEqual([]); // nothing written where it was started
    // The built-in gadget came out of the executable into the (empty) store, as an ordinary local image.
    const list = await collect(spawn(ig, ['image', 'list', '-o', 'json'], { cwd: empty, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('trace_open');
    // Its files were unpacked once, into one folder named by the build.
    expect(readdirSync(cache).filter((n) => n.startsWith('sea-'))).toHaveLength(1);
  });
});
