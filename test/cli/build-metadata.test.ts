import { describe, it, expect, afterAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { runIg, repoRoot } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';

const store = tempStore();
const work = mkdtempSync(path.join(tmpdir(), 'ig-meta-'));
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('ig image build --update-metadata / --validate-metadata', () => {
  it('writes the datasources, fields and params of the object into gadget.yaml, keeping what was there', async () => {
    const dir = path.join(work, 'marker');
    cpSync(path.join(repoRoot, 'test/gadgets/marker_tracer'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'gadget.yaml'), '# my gadget\nname: marker\n');
    const r = await runIg(['image', 'build', dir, '-t', 'marker', '--update-metadata'], { env: store.env });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(path.join(dir, 'gadget.yaml'), 'utf8');
    expect(text).toMatch(/^# my gadget/); // comments survive
    const y = YAML.parse(text);
    expect(y.name).toBe('marker');
    expect(Object.keys(y.datasources.getcwd.fields)).toEqual(expect.arrayContaining(['pid', 'comm', 'tag', 'counter']));
    expect(y.params.ebpf.multiplier.key).toBe('multiplier');
    expect(String(y.params.ebpf.multiplier.defaultValue)).toBe('1');

    const v = await runIg(['image', 'build', dir, '-t', 'marker', '--validate-metadata'], { env: store.env });
    expect(v.code, v.stderr).toBe(0);
  });

  it('--validate-metadata names a field gadget.yaml has and the object does not', async () => {
    const dir = path.join(work, 'marker-bad');
    cpSync(path.join(repoRoot, 'test/gadgets/marker_tracer'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'gadget.yaml'), 'name: marker\ndatasources:\n  getcwd:\n    fields:\n      no_such_field: {}\n');
    const r = await runIg(['image', 'build', dir, '-t', 'marker-bad', '--validate-metadata'], { env: store.env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/field "getcwd.no_such_field" is not in the eBPF object/);
    const list = await runIg(['image', 'list', '-o', 'json'], { env: store.env });
    expect(list.stdout).not.toMatch(/marker-bad/); // nothing half-built was stored
  });
});
