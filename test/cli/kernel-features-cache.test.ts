// libbpf's kernel feature probes kept per boot (src/runtime/kernel-features-cache.ts): the first run
// probes and keeps what is supported, the next one starts from it and traces the same events; an
// unreadable, damaged or foreign entry is probed again and replaced. IG_DEBUG says which it was.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runIg, jsonLines } from '../helpers/ig.js';

const cache = mkdtempSync(path.join(tmpdir(), 'ig-kernel-features-'));
const file = path.join(tmpdir(), `ig-kernel-features-${randomBytes(6).toString('hex')}`);
writeFileSync(file, 'x');
// one process opens the file every 50 ms for all runs
const opener = spawn(process.execPath, ['-e', `
  const fs = require('fs');
  setInterval(() => fs.closeSync(fs.openSync(${JSON.stringify(file)}, 'r')), 50);
`], { stdio: 'ignore' });

afterAll(() => {
  opener.kill();
  rmSync(cache, { recursive: true, force: true });
  rmSync(file, { force: true });
});

/** What a run of trace_open saw of the opener and what it said about the kernel features. */
async function traceOpen(): Promise<{ opens: number; features: string[] }> {
  const r = await runIg(['run', 'trace_open', '-o', 'json', '-t', '1', '--pid', String(opener.pid)], {
    env: { ...process.env, IG_CACHE_DIR: cache, IG_DEBUG: '1' },
  });
  expect(r.code, r.stderr).toBe(0);
  const opens = jsonLines(r.stdout).filter((e) => e.fname === file && e.error === '').length;
  return { opens, features: [...r.stderr.matchAll(/^debug: kernel features: (.*)$/gm)].map((m) => m[1]!) };
}

function entry(): string {
  const dir = path.join(cache, 'kernel-features');
  const files = readdirSync(dir).filter((f) => f.endsWith('.bin'));
  expect(files).toHaveLength(1);
  return path.join(dir, files[0]!);
}

describe('the kernel feature probes kept per boot', () => {
  it('are probed and kept by the first run, and given to libbpf by the next, which traces the same', async () => {
    const first = await traceOpen();
    expect(first.features).toHaveLength(2);
    expect(first.features[0]).toBe('probed (not cached yet)');
    expect(first.features[1]).toMatch(/^\d+ supported, now cached$/);
    const supported = Number(first.features[1]!.split(' ')[0]);
    expect(supported).toBeGreaterThan(5);
    expect(first.opens).toBeGreaterThan(5);

    const kept = entry();
    const before = statSync(kept).mtimeMs;
    const second = await traceOpen();
    // nothing new to keep: the entry is not written again
    expect(second.features).toEqual([`${supported} supported from the cache`]);
    expect(statSync(kept).mtimeMs).toBe(before);
    expect(second.opens).toBeGreaterThan(5);
  }, 60_000);

  const spoil: [string, (b: Buffer) => Buffer, string][] = [
    ['of garbage', () => randomBytes(200), 'probed (cache entry unreadable)'],
    ['made on another kernel', (b) => Buffer.from(b.toString('latin1').replace(/"kernel":"[^"]*"/, '"kernel":"another boot 6.1.0"'), 'latin1'), 'probed (cache entry made on another kernel)'],
    ['that says a feature is missing (only "supported" is ever kept)', (b) => Buffer.concat([b.subarray(0, b.length - 1), Buffer.from([2])]), 'probed (cache entry damaged)'],
    ['that is truncated', (b) => b.subarray(0, b.length - 3), 'probed (cache entry damaged)'],
  ];

  for (const [what, change, says] of spoil) {
    it(`probes again over an entry ${what}, keeps a good one and traces the same`, async () => {
      const f = entry();
      writeFileSync(f, change(readFileSync(f)));
      const run = await traceOpen();
      expect(run.features[0]).toBe(says);
      expect(run.features[1]).toMatch(/^\d+ supported, now cached$/);
      expect(run.opens).toBeGreaterThan(5);
      expect((await traceOpen()).features[0]).toMatch(/^\d+ supported from the cache$/);
    }, 60_000);
  }
});
