import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fs, { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../src/oci/store.js';
import { getGadgetImage } from '../../src/oci/image.js';
import { indexBytes, manifestBytes, sha256 } from '../../src/oci/json.js';
import { MT, ANN } from '../../src/oci/mediatypes.js';
import { RegistryClient, parseWwwAuthenticate } from '../../src/oci/registry.js';
import { parseReference } from '../../src/oci/reference.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-oci-unit-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function handMadeImage(store: Store, ref: string, opts: { config?: string; layers?: { mediaType: string; data: Buffer }[]; arch?: string } = {}) {
  const cfg = Buffer.from(opts.config ?? 'name: t\n');
  const cfgD = await store.writeBlob(cfg);
  const layers = [];
  for (const l of opts.layers ?? [{ mediaType: MT.ebpf, data: Buffer.from('\x7fELF fake') }]) layers.push({ mediaType: l.mediaType, digest: await store.writeBlob(l.data), size: l.data.length });
  const m = manifestBytes({ schemaVersion: 2, mediaType: MT.manifest, artifactType: MT.artifact, config: { mediaType: MT.config, digest: cfgD, size: cfg.length }, layers, annotations: { [ANN.title]: 't' } });
  const md = await store.writeBlob(m);
  const i = indexBytes({ schemaVersion: 2, mediaType: MT.index, manifests: [{ mediaType: MT.manifest, digest: md, size: m.length, platform: { architecture: opts.arch ?? 'amd64', os: 'linux' } }] });
  const id = await store.writeBlob(i);
  await store.setTag(parseReference(ref).full, { mediaType: MT.index, digest: id, size: i.length });
  return { index: id, manifest: md };
}

describe('local store', () => {
  it('creates a standard OCI layout with mode 0700', async () => {
    const root = path.join(tmp, 'layout');
    await Store.open(root);
    expect(JSON.parse(await fsp.readFile(path.join(root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect((await fsp.stat(root)).mode & 0o777).toBe(0o700);
  });

  it('getGadgetImage returns the bytes, reading index.json once and no other tag', async () => {
    const root = path.join(tmp, 'gi');
    const s = await Store.open(root);
    const { index, manifest } = await handMadeImage(s, 'x/gadget:v1');
    const img = await getGadgetImage('x/gadget:v1', 'never', { store: root });
    expect(img.reference).toBe('ghcr.io/x/gadget:v1');
    expect(img.indexDigest).toBe(index);
    expect(img.manifestDigest).toBe(manifest);
    expect(img.metadata?.toString()).toBe('name: t\n');
    expect(img.ebpf.toString()).toBe('\x7fELF fake');
    expect(img.annotations[ANN.title]).toBe('t');
  });

  it('reports a missing image with policy never', async () => {
    await expect(getGadgetImage('nothere', 'never', { store: path.join(tmp, 'gi') })).rejects.toMatchObject({
      code: 'not-found',
      message: 'image ghcr.io/inspektor-gadget/gadget/nothere:latest not found in the local store',
    });
  });

  it('refuses unknown layer types, a missing eBPF layer and a foreign architecture', async () => {
    const root = path.join(tmp, 'bad');
    const s = await Store.open(root);
    await handMadeImage(s, 'b/unknown', { layers: [{ mediaType: 'application/x-unknown', data: Buffer.from('u') }] });
    await handMadeImage(s, 'b/noebpf', { layers: [{ mediaType: MT.wasm, data: Buffer.from('w') }] });
    await handMadeImage(s, 'b/arm', { arch: 'arm64' });
    await expect(getGadgetImage('b/unknown', 'never', { store: root })).rejects.toMatchObject({ code: 'invalid-image', message: expect.stringMatching(/unknown media type "application\/x-unknown"/) });
    await expect(getGadgetImage('b/noebpf', 'never', { store: root })).rejects.toMatchObject({ code: 'invalid-image', message: expect.stringMatching(/no eBPF program layer/) });
    await expect(getGadgetImage('b/arm', 'never', { store: root })).rejects.toMatchObject({ code: 'invalid-image', message: expect.stringMatching(/no manifest for architecture amd64 \(it has: arm64\)/) });
  });

  it('tag lookup does not depend on the number of tags (one index.json read, no per-tag blob reads)', async () => {
    const root = path.join(tmp, 'many');
    const s = await Store.open(root);
    const { index } = await handMadeImage(s, 'target:v1');
    const manifests = [];
    for (let i = 0; i < 500; i++) {
      manifests.push({ mediaType: MT.index, digest: `sha256:${i.toString(16).padStart(64, '0')}`, size: 1, annotations: { [ANN.refName]: `ghcr.io/t/g${i}:latest` } });
    }
    const idx = JSON.parse(await fsp.readFile(path.join(root, 'index.json'), 'utf8'));
    idx.manifests.push(...manifests);
    writeFileSync(path.join(root, 'index.json'), JSON.stringify(idx));
    // small files are read with plain system calls (store-io.ts readStoreFile), large ones with readFile
    const spies = [vi.spyOn(fsp, 'readFile'), vi.spyOn(fs, 'openSync')];
    const img = await getGadgetImage('target:v1', 'never', { store: root });
    expect(img.indexDigest).toBe(index);
    const files = spies.flatMap((s) => s.mock.calls.map((c) => String(c[0])));
    for (const s of spies) s.mockRestore();
    expect(files.filter((f) => f.endsWith('index.json'))).toHaveLength(1);
    expect(files.filter((f) => f.includes('/blobs/'))).toHaveLength(4); // index, manifest, config, eBPF
  });

  it('gc removes only unreferenced blobs', async () => {
    const root = path.join(tmp, 'gc');
    const s = await Store.open(root);
    await handMadeImage(s, 'keep');
    const stray = await s.writeBlob(Buffer.from('stray'));
    const r = await s.gc();
    expect(r.removed).toBe(1);
    expect(await s.hasBlob(stray)).toBe(false);
    await expect(getGadgetImage('keep', 'never', { store: root })).resolves.toBeTruthy();
  });

  it('refuses a blob whose content does not match and leaves nothing behind', async () => {
    const s = await Store.open(path.join(tmp, 'ingest'));
    const data = Buffer.from('hello');
    async function* gen() {
      yield new Uint8Array(Buffer.from('hellx'));
    }
    await expect(s.ingest(gen(), { digest: sha256(data), size: 5 })).rejects.toMatchObject({ code: 'digest' });
    expect(await s.hasBlob(sha256(data))).toBe(false);
    expect(await fsp.readdir(path.join(tmp, 'ingest', '.ingest'))).toEqual([]);
  });
});

describe('registry client auth', () => {
  it('parses WWW-Authenticate', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://a/token",service="reg",scope="repository:x:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://a/token', service: 'reg', scope: 'repository:x:pull' },
    });
  });

  it('follows the bearer token flow with basic credentials from a config.json', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
      if (req.url?.startsWith('/token')) {
        const ok = req.headers.authorization === 'Basic ' + Buffer.from('u:p').toString('base64');
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(ok ? JSON.stringify({ token: 'TKN' }) : '{}');
        return;
      }
      if (req.headers.authorization !== 'Bearer TKN') {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${(server.address() as net.AddressInfo).port}/token",service="test"` });
        res.end();
        return;
      }
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: [] }));
      res.writeHead(200, { 'content-type': MT.index, 'docker-content-digest': sha256(body) });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const auth = path.join(tmp, 'bearer.json');
    writeFileSync(auth, JSON.stringify({ auths: { [host]: { auth: Buffer.from('u:p').toString('base64') } } }));
    try {
      const c = new RegistryClient({ authfile: auth, insecureRegistries: [host] });
      const m = await c.getManifest(parseReference(`${host}/a/b:v1`), 'v1');
      expect(m.mediaType).toBe(MT.index);
      expect(seen.some((s) => s.startsWith('GET /token?service=test&scope=repository%3Aa%2Fb%3Apull Basic'))).toBe(true);
      const bad = path.join(tmp, 'bearer-bad.json');
      writeFileSync(bad, JSON.stringify({ auths: { [host]: { auth: Buffer.from('u:wrong').toString('base64') } } }));
      const c2 = new RegistryClient({ authfile: bad, insecureRegistries: [host] });
      await expect(c2.getManifest(parseReference(`${host}/a/b:v1`), 'v1')).rejects.toMatchObject({ code: 'auth', message: expect.stringMatching(/refused the credentials of user "u"/) });
    } finally {
      server.close();
    }
  });

  it('retries 5xx with backoff, then reports the status', async () => {
    let n = 0;
    const server = http.createServer((_req, res) => {
      n++;
      res.writeHead(503);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      const c = new RegistryClient({ insecureRegistries: [host], backoffMs: 5, authfile: path.join(tmp, 'none.json') });
      await expect(c.getManifest(parseReference(`${host}/a:v1`), 'v1')).rejects.toMatchObject({ code: 'registry', message: expect.stringMatching(/HTTP 503/) });
      expect(n).toBe(4);
    } finally {
      server.close();
    }
  });
});
