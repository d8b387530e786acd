// gadget.yaml parsed once per content (src/gadget/metadata-cache.ts): the same document from the
// cache as from the YAML, a damaged entry parsed again, nothing cached that JSON would change.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/gadget/metadata-cache.js';
import { parseMetadata } from '../../src/gadget/metadata-parse.js';

const YAML_TEXT = Buffer.from(readFileSync(new URL('../../gadgets/trace_open/gadget.yaml', import.meta.url)));

let dir: string;
let saved: string | undefined;
beforeEach(() => {
  saved = process.env.IG_CACHE_DIR;
  dir = mkdtempSync(path.join(os.tmpdir(), 'ig-metadata-cache-'));
  process.env.IG_CACHE_DIR = dir;
});
afterEach(() => {
  if (saved === undefined) delete process.env.IG_CACHE_DIR;
  else process.env.IG_CACHE_DIR = saved;
});
const entries = () => {
  try {
    return readdirSync(path.join(dir, 'metadata'));
  } catch {
    return [];
  }
};

describe('gadget.yaml cache', () => {
  it('gives the document the YAML gives, from one entry named by the content', async () => {
    const parsed = parseMetadata(YAML_TEXT);
    expect(parsed?.name).toBe('trace open');
    expect(await readMetadata(YAML_TEXT)).toEqual(parsed);
    expect(entries()).toHaveLength(1);
    expect(entries()[0]).toMatch(/-[0-9a-f]{64}\.json$/);
    expect(await readMetadata(YAML_TEXT)).toEqual(parsed); // now from the entry
    expect(await readMetadata(Buffer.concat([YAML_TEXT, Buffer.from('\n# changed\n')]))).toEqual(parsed);
    expect(entries()).toHaveLength(2); // other bytes, other entry
  });

  it('parses again over a damaged entry', async () => {
    await readMetadata(YAML_TEXT);
    const file = path.join(dir, 'metadata', entries()[0]!);
    writeFileSync(file, '{"name": "trunc');
    expect(await readMetadata(YAML_TEXT)).toEqual(parseMetadata(YAML_TEXT));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(parseMetadata(YAML_TEXT)); // written whole again
  });

  it('caches nothing JSON would change, nor bad YAML, nor with IG_CACHE_DIR=off', async () => {
    const inf = Buffer.from('name: x\nannotations:\n  limit: .inf\n');
    expect((await readMetadata(inf))?.annotations).toEqual({ limit: Infinity });
    expect(entries()).toEqual([]);
    await expect(readMetadata(Buffer.from('name: [unclosed\n'))).rejects.toThrow(/gadget.yaml is not valid YAML/);
    expect(entries()).toEqual([]);
    process.env.IG_CACHE_DIR = 'off';
    expect(await readMetadata(YAML_TEXT)).toEqual(parseMetadata(YAML_TEXT));
    expect(entries()).toEqual([]);
    expect(await readMetadata(null)).toBeNull();
  });
});
