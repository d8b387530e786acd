import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runGadget } from '../../dist/index.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { heldBpfIds, bpfObjectExists } from '../helpers/kernel.js';

const store = tempStore();
beforeAll(() => buildGadget('gadgets/trace_open', 'trace_open', store.env), 120_000);
afterAll(() => store.cleanup());

describe('the library API: runGadget(ref, opts) as an async iterable', () => {
  it('yields decoded batches with the events the test caused, and releases everything when the loop ends', async () => {
    const file = path.join(tmpdir(), `ig-lib-${randomBytes(5).toString('hex')}`);
    writeFileSync(file, 'x');
    const child = spawn(process.execPath, ['-e', `setInterval(() => require('fs').closeSync(require('fs').openSync(${JSON.stringify(file)}, 'r')), 50)`], { stdio: 'ignore' });
    const before = new Set(heldBpfIds(process.pid).progs);
    let loaded: number[] = [];
    let found: Record<string, unknown> | undefined;
    try {
      for await (const batch of runGadget('trace_open', { store: store.dir, pull: 'never', timeoutMs: 10_000, params: { pid: String(child.pid) } })) {
        loaded = heldBpfIds(process.pid).progs.filter((id) => !before.has(id));
        expect(batch.datasource).toBe('open');
        found = batch.events.find((e) => e.fname === file);
        if (found) break; // ending the loop stops the gadget
      }
    } finally {
      child.kill();
    }
    expect(found).toMatchObject({ pid: child.pid, comm: 'node', error: '' });
    expect(typeof found!.timestamp).toBe('string');
    expect(loaded.length).toBeGreaterThanOrEqual(2);
    for (const id of loaded) expect(bpfObjectExists('prog', id), `prog ${id} left behind`).toBe(false);
  });

  it('a snapshotter yields one table and ends by itself', async () => {
    await buildGadget('gadgets/snapshot_process', 'snapshot_process', store.env);
    const batches = [];
    for await (const b of runGadget('snapshot_process', { store: store.dir, pull: 'never' })) batches.push(b);
    expect(batches).toHaveLength(1);
    expect(batches[0].snapshot).toBe(true);
    expect(batches[0].events.some((e) => Number(e.pid) === process.pid)).toBe(true);
  });
});
