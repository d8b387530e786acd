/**
 * Columns as a user sees them, end to end: the header printed at once (also when nothing ever
 * matches), nothing cut with … when the output goes to a pipe or a file, wide (CJK) file names
 * keeping the columns aligned, IG's process fields headed COMM/PID rather than PROC.P….
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runIg, spawnIg, collect } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { waitFor } from '../helpers/kernel.js';
import { textWidth } from '../../src/output/column-layout.js';

const env = process.env; // trace_open from the default store (scripts/setup.sh --test)
// short, so in /tmp itself rather than the suite's temp folder: the CJK names below must fit fname's 32 cells
const work = mkdtempSync('/tmp/u-');
const store = tempStore();
beforeAll(() => buildGadget('test/gadgets/process_tracer', 'process_tracer', store.env), 120_000);
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  store.cleanup();
});

/**
 * `ig run ARGS` with stdout a pipe: once its header is out (the gadget is attached), `act` runs;
 * then it is stopped as Ctrl-C would, once `enough(stdout)` or after 10 s.
 */
async function runWhile(args: string[], act: () => void, enough: (out: string) => boolean, e: NodeJS.ProcessEnv = env) {
  const child = spawnIg(['run', ...args], { env: e });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const done = collect(child, 40_000);
  try {
    await waitFor(() => out.includes('\n'), 20_000, 'the header');
    // the header is out just before the programs attach: act until the rows come
    await waitFor(() => {
      if (enough(out)) return true;
      act();
      return false;
    }, 10_000, 'the rows').catch(() => undefined);
  } finally {
    child.kill('SIGINT');
  }
  const r = await done;
  return { ...r, stdout: out };
}

/** opened by `cat`, so the row's comm is known */
const open = (f: string) => execFileSync('cat', [f]);

describe('columns output', () => {
  it('prints the header at once, even when the filter matches nothing (exit 0)', async () => {
    const r = await runIg(['run', 'trace_open', '-F', 'fname==/no/such/file/ever', '--fields', 'pid,comm,fname', '-t', '2'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('    PID COMM             FNAME\n');
  });

  it('cuts nothing with … when stdout is a pipe: a long path is printed whole', async () => {
    const long = path.join(work, `a-file-name-much-longer-than-its-column-${'x'.repeat(60)}`);
    writeFileSync(long, '');
    const r = await runWhile(['trace_open', '-F', `fname==${long}`, '--fields', 'fname,comm'], () => open(long), (o) => o.split('\n').length > 2);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('FNAME                            COMM');
    expect(lines[1]).toBe(`${long} cat`);
    expect(new Set(lines.slice(1).filter(Boolean))).toEqual(new Set([`${long} cat`]));
    expect(r.stdout).not.toContain('…');
  });

  it('keeps columns aligned with wide (CJK) file names: each takes two cells', async () => {
    const names = ['日本語のファイル', 'plain-ascii-name', '中文文件', '한국어파일'].map((n) => path.join(work, n));
    for (const n of names) writeFileSync(n, '');
    const r = await runWhile(['trace_open', '-F', `fname~^${work}/[^a]`, '--fields', 'fname,fd', '-o', 'columns'], () => names.forEach(open), (o) => o.split('\n').length > names.length + 1);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter(Boolean);
    expect(rows[0]).toBe(`FNAME${' '.repeat(29)}FD`);
    // fname is 32 cells wide whatever the script: fd's value ends at the same cell on every row
    expect(new Set(rows.slice(1).map((x) => x.replace(/ +\d+$/, '').trimEnd()))).toEqual(new Set(names));
    for (const row of rows.slice(1)) expect(textWidth(row), row).toBe(textWidth(rows[0]!));
    const cjk = rows.find((x) => x.startsWith(names[0]!))!;
    expect(cjk).toMatch(new RegExp(`^${names[0]}${' '.repeat(32 - textWidth(names[0]!))} +\\d+$`));
  });

  it('heads IG\'s process fields by their member names (COMM, PID, UID), not PROC.P…', async () => {
    const r = await runWhile(['process_tracer', '--comm', 'pwd', '--fields', 'proc.comm,proc.pid,proc.creds.uid,proc.parent.comm,size'],
      () => execFileSync('/bin/pwd', ['-P']), (o) => o.split('\n').length > 2, store.env);
    expect(r.code, r.stderr).toBe(0);
    const [header, row] = r.stdout.split('\n');
    expect(header).toBe('COMM                 PID      UID COMM                SIZE');
    expect(row).toMatch(/^pwd +\d+ +0 .+ +4096$/);
  });
});
