// A gadget's wasm module is prepared once per layer digest and kept on disk (IG_WASM_CACHE, by
// default /var/run/ig/wasm-cache as IG's): the second run compiles the kept module.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runIg } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { buildWasmGadget } from '../helpers/wasm.js';

const store = tempStore();
const cache = mkdtempSync(path.join(tmpdir(), 'ig-wasm-cache-'));
const env = { ...store.env, IG_WASM_CACHE: cache, IG_DEBUG: '1' };
beforeAll(() => buildWasmGadget('tag', 'wasm_cached', store.env), 120_000);
afterAll(() => {
  store.cleanup();
  rmSync(cache, { recursive: true, force: true });
});

describe('the compiled-module cache', () => {
  it('prepares a module once per digest; later runs read it from the disk', async () => {
    const first = await runIg(['run', 'wasm_cached', '-o', 'json', '-t', '0.3'], { env });
    expect(first.code, first.stderr).toBe(0);
    const m = first.stderr.match(/^debug: wasm wasm_cached: module (sha256:[0-9a-f]{64}) prepared \(then kept in the disk cache\): compiled in [\d.]+ ms, instantiated in [\d.]+ ms$/m);
    expect(m, first.stderr).not.toBeNull();
    const digest = m![1]!;
    expect(readdirSync(cache).filter((f) => f.startsWith('sha256-')).sort()).toEqual([`${digest.replace(':', '-')}.v2.json`, `${digest.replace(':', '-')}.v2.wasm`]);
    const second = await runIg(['run', 'wasm_cached', '-o', 'json', '-t', '0.3'], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(new RegExp(`^debug: wasm wasm_cached: module ${digest} from the disk cache: compiled in [\\d.]+ ms, instantiated in [\\d.]+ ms$`, 'm'));
  });
});
