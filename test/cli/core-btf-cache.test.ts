// `ig run` with the cached minimal CO-RE BTF (src/runtime/core-btf-cache.ts): the second run loads
// from the cache and traces exactly what a load against the whole kernel BTF traces; a damaged,
// truncated or foreign cache entry is recomputed and the run goes on; an object whose relocations
// the kernel's BTF cannot cover loads against the whole BTF. IG_DEBUG says which BTF a run used.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir, uptime } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIg, jsonLines } from '../helpers/ig.js';
import { buildGadget, tempStore } from '../helpers/gadgets.js';

const cache = mkdtempSync(path.join(tmpdir(), 'ig-core-btf-'));
const store = tempStore();
const file = path.join(tmpdir(), `ig-core-btf-${randomBytes(6).toString('hex')}`);
writeFileSync(file, 'x');
// one process opens the same file and a missing one every 50 ms for all runs: same pid, same events
const opener = spawn(process.execPath, ['-e', `
  const fs = require('fs');
  setInterval(() => { fs.closeSync(fs.openSync(${JSON.stringify(file)}, 'r')); try { fs.openSync(${JSON.stringify(file + '-missing')}, 'r'); } catch {} }, 50);
`], { stdio: 'ignore' });

beforeAll(async () => {
  await buildGadget('test/gadgets/core_uncovered', 'core_uncovered', store.env);
}, 120_000);
afterAll(() => {
  opener.kill();
  store.cleanup();
  rmSync(cache, { recursive: true, force: true });
  rmSync(file, { force: true });
});

/** What a run of trace_open saw of the opener (each distinct event once, without its time) and which BTF it used. */
async function traceOpen(cacheDir = cache): Promise<{ events: string[]; btf: string }> {
  const r = await runIg(['run', 'trace_open', '-o', 'json', '-t', '2', '--pid', String(opener.pid)], {
    env: { ...process.env, IG_CACHE_DIR: cacheDir, IG_DEBUG: '1' },
  });
  expect(r.code, r.stderr).toBe(0);
  const events = new Set(jsonLines(r.stdout).map(({ timestamp: _t, timestamp_raw: _r, ...rest }) => JSON.stringify(rest)));
  return { events: [...events].sort(), btf: r.stderr.match(/^debug: CO-RE BTF: (.*)$/m)?.[1] ?? `(not said) ${r.stderr}` };
}

function entry(): string {
  const dir = path.join(cache, 'core-btf');
  const files = readdirSync(dir).filter((f) => f.endsWith('.bin'));
  expect(files.length).toBeGreaterThan(0);
  // the only tracer run against this cache is trace_open's
  return path.join(dir, files.find((f) => readFileSync(path.join(dir, f)).includes('"sha256"'))!);
}

describe('the minimal CO-RE BTF cache', () => {
  let reference: string[] = [];

  it('is used on the second run, and the events are those of a load against the whole kernel BTF', async () => {
    const whole = await traceOpen('off');
    expect(whole.btf).toBe('whole kernel BTF (IG_CACHE_DIR=off)');
    reference = whole.events;
    expect(reference.some((e) => e.includes(`"fname":${JSON.stringify(file)}`) && e.includes('"error":""'))).toBe(true);
    expect(reference.some((e) => e.includes('-missing"') && e.includes('"error":"ENOENT"'))).toBe(true);

    const first = await traceOpen();
    expect(first.btf).toMatch(/^minimal BTF computed \(\d+ bytes, \d+ relocations checked; not cached yet; now cached\)$/);
    const second = await traceOpen();
    expect(second.btf).toMatch(/^minimal BTF from the cache \(\d+ bytes, \d+ relocations checked\)$/);
    expect(first.events).toEqual(reference);
    expect(second.events).toEqual(reference);
  }, 60_000);

  const spoil: [string, (b: Buffer) => Buffer, RegExp][] = [
    ['that is truncated', (b) => b.subarray(0, b.length - 40), /^minimal BTF computed .*; cache entry damaged; now cached\)$/],
    ['of garbage', () => randomBytes(600), /^minimal BTF computed .*; cache entry unreadable; now cached\)$/],
    ['made on another kernel', (b) => {
      const text = b.toString('latin1');
      return Buffer.from(text.replace(/"kernel":"[^"]*"/, '"kernel":"another boot 6.1.0"'), 'latin1');
    }, /^minimal BTF computed .*; cache entry made on another kernel; now cached\)$/],
    ['whose BTF no longer matches the kernel\'s types (checksum fixed up)', (b) => {
      // rename the kernel's task_struct in the cached BTF and make its checksum agree again:
      // only the relocation check can tell
      const nl = b.indexOf(0x0a, b.indexOf(0x0a) + 1);
      const btf = Buffer.from(b.subarray(nl + 1));
      const at = btf.indexOf('task_struct\0');
      expect(at).toBeGreaterThan(0);
      btf.write('task_strucx', at, 'latin1');
      const header = JSON.parse(b.subarray(b.indexOf(0x0a) + 1, nl).toString());
      header.sha256 = createHash('sha256').update(btf).digest('hex');
      return Buffer.concat([b.subarray(0, b.indexOf(0x0a) + 1), Buffer.from(JSON.stringify(header) + '\n'), btf]);
    }, /^minimal BTF computed .*; cached BTF no longer relocates the object \(relocation #\d+: 0 candidates for struct task_struct in the target\); now cached\)$/],
  ];

  for (const [what, change, says] of spoil) {
    it(`recomputes an entry ${what}, and traces the same`, async () => {
      const f = entry();
      writeFileSync(f, change(readFileSync(f)));
      const run = await traceOpen();
      expect(run.btf).toMatch(says);
      expect(run.events).toEqual(reference);
      // written whole again: the next run takes it
      expect((await traceOpen()).btf).toMatch(/^minimal BTF from the cache/);
    }, 60_000);
  }

  it('loads an object whose relocations the kernel BTF cannot cover against the whole BTF, remembers that, and drops entries of earlier boots', async () => {
    const run = async () => {
      const trigger = setInterval(() => spawn('/bin/pwd', ['-P'], { stdio: 'ignore' }), 100);
      try {
        return await runIg(['run', 'core_uncovered', '-o', 'json', '-t', '2'], { env: { ...store.env, IG_CACHE_DIR: cache, IG_DEBUG: '1' } });
      } finally {
        clearInterval(trigger);
      }
    };
    // an entry of an earlier boot (written before this one started) and one of this boot
    const dir = path.join(cache, 'core-btf');
    const earlier = path.join(dir, 'earlier-boot.bin'), thisBoot = path.join(dir, 'this-boot.bin');
    writeFileSync(earlier, 'x');
    writeFileSync(thisBoot, 'x');
    const bootedAt = (Date.now() - uptime() * 1000) / 1000;
    utimesSync(earlier, bootedAt - 3600, bootedAt - 3600);
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    // writing the new entry removed the one no run of this boot can use
    expect(existsSync(earlier)).toBe(false);
    expect(existsSync(thisBoot)).toBe(true);
    expect(first.stderr).toMatch(/^debug: CO-RE BTF: whole kernel BTF \(relocation #\d+: 0 candidates for struct ig_absent_type in the target; not cached yet; now cached\)$/m);
    const events = jsonLines(first.stdout).filter((e) => e.comm === 'pwd');
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.absent === 0 && (e.pid as number) > 0)).toBe(true);
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/^debug: CO-RE BTF: whole kernel BTF \(relocation #\d+: 0 candidates for struct ig_absent_type in the target; cached\)$/m);
    expect(jsonLines(second.stdout).some((e) => e.comm === 'pwd')).toBe(true);
  }, 60_000);
});
