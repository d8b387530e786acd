import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, unlinkSync, mkdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runIg, jsonLines, collect, repoRoot } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith } from '../helpers/run-with.js';

/** The examples are documentation that runs: if they stop working, this fails. */
const store = tempStore();
const work = mkdtempSync(path.join(tmpdir(), 'ig-examples-'));
beforeAll(async () => {
  await buildGadget('examples/gadget-author', 'trace_unlink', store.env);
  await buildGadget('gadgets/trace_open', 'trace_open', store.env);
}, 120_000);
afterAll(() => store.cleanup());

describe('examples/', () => {
  it('the example gadget reports a deletion, and its --dirs-only flag works', async () => {
    // deletions once ig has attached (a fixed delay misses them on a loaded machine)
    const del = () => {
      for (let i = 0; i < 5; i++) {
        const f = path.join(work, `gone-${i}`);
        writeFileSync(f, 'x');
        unlinkSync(f);
        mkdirSync(`${f}.d`);
        rmdirSync(`${f}.d`);
      }
    };
    const all = await runWith(['run', 'trace_unlink', '-o', 'json', '-t', '3'], store.env, del, { links: 3 });
    expect(all.code, all.stderr).toBe(0);
    const mine = jsonLines(all.stdout).filter((e) => String(e.pathname).startsWith(path.join(work, 'gone-')));
    expect(mine.map((e) => e.pathname)).toContain(path.join(work, 'gone-0'));
    expect(mine.map((e) => e.pathname)).toContain(path.join(work, 'gone-0.d'));
    // with --dirs-only the unlink(2) program does nothing (a constant the verifier folds): ig leaves it unattached
    const dirs = await runWith(['run', 'trace_unlink', '-o', 'json', '-t', '3', '--dirs-only'], store.env, del, { links: 2 });
    const onlyDirs = jsonLines(dirs.stdout).filter((e) => String(e.pathname).startsWith(path.join(work, 'gone-')));
    expect(onlyDirs.length).toBeGreaterThan(0);
    expect(onlyDirs.every((e) => String(e.pathname).endsWith('.d'))).toBe(true);
  });

  it('the library example prints the files a process opens', async () => {
    const file = path.join(work, 'watched');
    writeFileSync(file, 'x');
    const opener = spawn(process.execPath, ['-e', `setInterval(() => require('fs').closeSync(require('fs').openSync(${JSON.stringify(file)}, 'r')), 50)`], { stdio: 'ignore' });
    try {
      const child = spawn(process.execPath, [path.join(repoRoot, 'examples/library/watch-opens.mjs'), String(opener.pid), '2'], {
        env: store.env, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const r = await collect(child, 30_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`node\\[${opener.pid}\\] fd \\d+ ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    } finally {
      opener.kill();
    }
  });
});
