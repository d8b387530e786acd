import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, existsSync, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runIg, repoRoot, jsonLines } from '../helpers/ig.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/*
 * The whole path: build trace_open, push it to a real registry, then `ig run` it from a store that does not
 * have it, so ig pulls it and runs it. Needs root (eBPF) and the native addon; skipped otherwise.
 */
const gadget = path.join(repoRoot, 'gadgets', 'trace_open');
const canRun = process.getuid?.() === 0 && existsSync(path.join(gadget, 'program.bpf.c'));

let reg: TestRegistry;
let tmp: string;

beforeAll(async () => {
  if (!canRun) return;
  reg = await startRegistry();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-run-reg-'));
}, 180_000);

afterAll(async () => {
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)('ig run from a registry', () => {
  it('pulls trace_open from localhost registry and runs it', async () => {
    const ref = `${reg.host}/gadgets/trace_open:test`;
    const ins = ['--insecure-registries', reg.host];
    const b = await runIg(['image', 'build', gadget, '-t', ref, '--oci-store', path.join(tmp, 'build')]);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    const p = await runIg(['image', 'push', ref, ...ins, '--oci-store', path.join(tmp, 'build')]);
    expect(p.code).toBe(0);

    const marker = path.join(tmp, 'opened-by-test');
    const opener = setInterval(() => {
      try {
        closeSync(openSync(marker, 'a'));
      } catch {
        /* ignore */
      }
    }, 100);
    try {
      const r = await runIg(['run', ref, '-o', 'json', '-t', '2', ...ins, '--oci-store', path.join(tmp, 'run')], { timeoutMs: 60_000 });
      expect(r.stderr).not.toMatch(/^error:/m);
      expect(r.code).toBe(0);
      const events = jsonLines(r.stdout);
      expect(events.length).toBeGreaterThan(0);
      expect(JSON.stringify(events)).toContain('opened-by-test');
    } finally {
      clearInterval(opener);
    }
    // It is in the run store now, with the pushed digest.
    const ls = JSON.parse((await runIg(['image', 'ls', '-o', 'json', '--no-trunc', '--oci-store', path.join(tmp, 'run')])).stdout);
    expect(ls[0].digest).toBe(/@(sha256:[a-f0-9]{64})/.exec(b.stdout)![1]);
  }, 120_000);
});
