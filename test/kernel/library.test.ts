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

describe('ig image types: the events of a gadget as TypeScript declarations', () => {
  it('types each field as the library yields it, so a typo in a field name fails to compile', async () => {
    const { runIg } = await import('../helpers/ig.js');
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync(path.join(tmpdir(), 'ig-types-'));
    try {
      const r = await runIg(['image', 'types', 'trace_open', '--output-file', path.join(dir, 'trace_open.d.ts')], { env: store.env });
      expect(r.code, r.stderr).toBe(0);
      const use = (body: string) => {
        writeFileSync(path.join(dir, 'use.ts'), `import { runGadget } from ${JSON.stringify(path.resolve('dist/index.js'))};
import type { TraceOpenOpenEvent } from './trace_open.js';
export async function f(): Promise<void> {
  for await (const b of runGadget<TraceOpenOpenEvent>('trace_open')) for (const e of b.events) { ${body} }
}
`);
        try {
          execFileSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext',
            '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', path.join(dir, 'use.ts')], { stdio: 'pipe' });
          return '';
        } catch (e) {
          return String((e as { stdout?: Buffer }).stdout);
        }
      };
      expect(use('const n: number = e.pid; const s: string = e.fname + e.error + e["runtime.containerName"]; void n; void s;')).toBe('');
      expect(use('void e.fnam;')).toMatch(/Property 'fnam' does not exist/);
      expect(use('const s: string = e.pid; void s;')).toMatch(/Type 'number' is not assignable to type 'string'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
