import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { runIg, repoRoot } from '../helpers/ig.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const fixture = existsSync(path.join(repoRoot, 'gadgets', 'trace_open', 'program.bpf.c'))
  ? path.join(repoRoot, 'gadgets', 'trace_open')
  : path.join(repoRoot, 'test', 'registry', 'fixtures', 'minimal');
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

let reg: TestRegistry;
let tmp: string;
const store = (n: string) => ['--oci-store', path.join(tmp, n)];
const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

function digestOf(stdout: string): string {
  const m = /@(sha256:[a-f0-9]{64})/.exec(stdout);
  if (!m) throw new Error(`no digest in: ${stdout}`);
  return m[1]!;
}

beforeAll(async () => {
  reg = await startRegistry();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-oci-rt-'));
}, 180_000);
afterAll(async () => {
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('build → push → remove → pull', () => {
  it('round-trips an image through a real registry with the same index digest', async () => {
    const ref = `${reg.host}/gadgets/trace_open:v1`;
    const ins = ['--insecure-registries', reg.host];
    const b = await runIg(['image', 'build', fixture, '-t', ref, ...store('a')], { env });
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/^Successfully built .*@sha256:[a-f0-9]{64}\n$/);
    const built = digestOf(b.stdout);

    const noFlag = await runIg(['image', 'push', ref, ...store('a')]);
    expect(noFlag.code).not.toBe(0);
    expect(noFlag.stderr).toContain(`--insecure-registries ${reg.host}`);

    const p = await runIg(['image', 'push', ref, ...ins, ...store('a')]);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    expect(digestOf(p.stdout)).toBe(built);

    const rm = await runIg(['image', 'rm', ref, ...store('a')]);
    expect(rm.code).toBe(0);
    const ls = await runIg(['image', 'list', '-o', 'json', ...store('a')]);
    expect(JSON.parse(ls.stdout)).toEqual([]);

    const pl = await runIg(['image', 'pull', ref, ...ins, ...store('a')]);
    expect(pl.stderr).toBe('');
    expect(pl.code).toBe(0);
    expect(digestOf(pl.stdout)).toBe(built);
    const ls2 = await runIg(['image', 'list', '-o', 'json', '--no-trunc', ...store('a')]);
    expect(JSON.parse(ls2.stdout)).toEqual([
      { repository: `${reg.host}/gadgets/trace_open`, tag: 'v1', digest: built, created: '2023-11-14T22:13:20Z' },
    ]);
    const insp = await runIg(['image', 'inspect', ref, '-o', 'json', ...store('a')]);
    expect(insp.code).toBe(0);
    const info = JSON.parse(insp.stdout);
    expect(info.digest).toBe(built);
    expect(info.manifest.artifactType).toBe('application/vnd.gadget.v1+binary');
    expect(info.manifest.layers[0].mediaType).toBe('application/vnd.gadget.ebpf.program.v1+binary');
    expect(typeof info.metadata).toBe('string');

    // Pushing again skips every blob (HEAD) and still succeeds.
    const again = await runIg(['image', 'push', ref, ...ins, ...store('a')]);
    expect(again.code).toBe(0);
  });

  it('pushes in chunks when blobs are larger than the chunk size', async () => {
    const ref = `${reg.host}/gadgets/chunked:v1`;
    const ins = ['--insecure-registries', reg.host];
    const b = await runIg(['build', fixture, '-t', ref, ...store('c')], { env });
    expect(b.code).toBe(0);
    const p = await runIg(['image', 'push', ref, ...ins, ...store('c')], { env: { ...env, IG_PUSH_CHUNK_SIZE: '1000' } });
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const pl = await runIg(['image', 'pull', ref, ...ins, ...store('c2')]);
    expect(pl.code).toBe(0);
    expect(digestOf(pl.stdout)).toBe(digestOf(b.stdout));
  });
});

describe('reproducible builds', () => {
  it('gives the same index digest for two builds with the same SOURCE_DATE_EPOCH', async () => {
    const a = await runIg(['build', fixture, '-t', 'repro:a', ...store('r1')], { env });
    const b = await runIg(['build', fixture, '-t', 'repro:a', ...store('r2')], { env });
    expect(a.code).toBe(0);
    expect(digestOf(a.stdout)).toBe(digestOf(b.stdout));
    const c = await runIg(['build', fixture, '-t', 'repro:a', ...store('r3')], { env: { ...env, SOURCE_DATE_EPOCH: '1700000001' } });
    expect(digestOf(c.stdout)).not.toBe(digestOf(a.stdout));
  });
});

describe('skopeo interoperability', () => {
  it('skopeo copies our image to an oci: layout with byte-identical manifest and index', async () => {
    const ref = `${reg.host}/gadgets/sk:v1`;
    await runIg(['build', fixture, '-t', ref, ...store('s')], { env });
    const p = await runIg(['image', 'push', ref, '--insecure-registries', reg.host, ...store('s')]);
    expect(p.code).toBe(0);
    const ourIndex = digestOf(p.stdout);
    const dest = path.join(tmp, 'skopeo-out');
    execFileSync('skopeo', ['copy', '--all', '--src-tls-verify=false', `docker://${ref}`, `oci:${dest}:v1`], { stdio: 'pipe' });
    const idx = JSON.parse(readFileSync(path.join(dest, 'index.json'), 'utf8'));
    expect(idx.manifests[0].digest).toBe(ourIndex);
    const ours = JSON.parse(readFileSync(path.join(tmp, 's', 'blobs', 'sha256', ourIndex.slice(7)), 'utf8'));
    const md = ours.manifests[0].digest.slice(7);
    expect(readFileSync(path.join(dest, 'blobs', 'sha256', md))).toEqual(readFileSync(path.join(tmp, 's', 'blobs', 'sha256', md)));
    expect(readFileSync(path.join(dest, 'blobs', 'sha256', ourIndex.slice(7)))).toEqual(
      readFileSync(path.join(tmp, 's', 'blobs', 'sha256', ourIndex.slice(7))),
    );
  });

  it('pulls and inspects an image skopeo pushed from a hand-made OCI layout', async () => {
    const dir = path.join(tmp, 'handmade');
    mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const put = (b: Buffer | string) => {
      const d = sha(b);
      writeFileSync(path.join(dir, 'blobs', 'sha256', d.slice(7)), b);
      return { digest: d, size: Buffer.byteLength(b) };
    };
    const elf = readFileSync(path.join(tmp, 's', 'blobs', 'sha256', JSON.parse(readFileSync(path.join(tmp, 's', 'blobs', 'sha256',
      JSON.parse(readFileSync(path.join(tmp, 's', 'blobs', 'sha256', JSON.parse(readFileSync(path.join(tmp, 's', 'index.json'), 'utf8')).manifests[0].digest.slice(7)), 'utf8')).manifests[0].digest.slice(7)), 'utf8')).layers[0].digest.slice(7)));
    const cfg = put('name: handmade\ndescription: made by hand\n');
    const layer = put(elf);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.gadget.v1+binary',
      config: { mediaType: 'application/vnd.gadget.config.v1+yaml', ...cfg },
      layers: [{ mediaType: 'application/vnd.gadget.ebpf.program.v1+binary', ...layer }],
      annotations: { 'org.opencontainers.image.title': 'handmade' },
    }, null, 2);
    const m = put(manifest);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, platform: { architecture: 'amd64', os: 'linux' } }],
    });
    const i = put(index);
    writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...i, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
    const ref = `${reg.host}/handmade/gadget:v1`;
    execFileSync('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${dir}:v1`, `docker://${ref}`], { stdio: 'pipe' });
    const pl = await runIg(['image', 'pull', ref, '--insecure-registries', reg.host, ...store('h')]);
    expect(pl.stderr).toBe('');
    expect(pl.code).toBe(0);
    expect(digestOf(pl.stdout)).toBe(i.digest);
    const insp = await runIg(['image', 'inspect', ref, '-o', 'json', ...store('h')]);
    expect(insp.code).toBe(0);
    const info = JSON.parse(insp.stdout);
    expect(info.manifestDigest).toBe(m.digest);
    expect(info.metadata).toContain('name: handmade');
    expect(info.annotations['org.opencontainers.image.title']).toBe('handmade');
  });
});

describe('export / import', () => {
  it('exports a deterministic tar and imports it into another store', async () => {
    await runIg(['build', fixture, '-t', 'exp:v1', ...store('e')], { env });
    await runIg(['image', 'tag', 'exp:v1', 'exp:v2', ...store('e')]);
    const t1 = path.join(tmp, 'e1.tar');
    const t2 = path.join(tmp, 'e2.tar');
    const x = await runIg(['image', 'export', 'exp:v1', 'exp:v2', t1, ...store('e')]);
    expect(x.code).toBe(0);
    await runIg(['image', 'export', 'exp:v2', 'exp:v1', t2, ...store('e')]);
    expect(sha(readFileSync(t1))).toBe(sha(readFileSync(t2)));
    const listing = execFileSync('tar', ['-tvf', t1], { encoding: 'utf8' });
    expect(listing.trim().split('\n').every((l) => / 0\/0 .* 1970-01-01 00:00 /.test(l))).toBe(true);
    const im = await runIg(['image', 'import', t1, ...store('e-in')]);
    expect(im.stderr).toBe('');
    expect(im.code).toBe(0);
    const ls = JSON.parse((await runIg(['image', 'ls', '-o', 'json', ...store('e-in')])).stdout);
    expect(ls.map((r: { tag: string }) => r.tag).sort()).toEqual(['v1', 'v2']);
  });
});
