// A registry that lies, floods or goes silent (a small server this test runs on 127.0.0.1): ig
// refuses early with bounded memory, never waits forever, stops on Ctrl-C within a second or two,
// and leaves the store as it was.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { collect, runIg, spawnIg } from '../helpers/ig.js';
import { FakeRegistry, serveHandMade, sha } from '../helpers/fake-registry.js';
import { waitFor } from '../helpers/kernel.js';

const GiB3 = 3 * 2 ** 30;
let tmp: string;
let reg: FakeRegistry;
let store: string;
let pub: string;
const S = () => ['--oci-store', store, '--insecure-registries', reg.host];
const partialFiles = () => readdirSync(path.join(store, '.ingest')).filter((n) => !n.startsWith('pin.'));

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-hostile-'));
  pub = path.join(tmp, 'key.pub');
  writeFileSync(pub, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeEach(async () => {
  reg = await new FakeRegistry().start();
  store = mkdtempSync(path.join(tmp, 'store-'));
});
afterEach(async () => {
  await reg.close();
});

function expectClean(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |bug in ig/);
}

/** A signature manifest for `digest` whose one layer is `layer` (served or not). */
function serveSignature(digest: string, layer: { digest: string; size: number }): void {
  const cfg = Buffer.from('{}');
  const sig = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: reg.put(cfg), size: cfg.length },
    layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...layer, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ==' } }],
  }));
  reg.tags.set(`${digest.replace(':', '-')}.sig`, sig);
}

describe('sizes a registry announces or sends are bounded', () => {
  it('a 3 GiB manifest (Content-Length) is refused before it is read', async () => {
    reg.hook = (req, res, fake) => {
      if (!req.url?.includes('/manifests/')) return false;
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', 'content-length': String(GiB3) });
      fake.endless(res);
      return true;
    };
    const t0 = Date.now();
    const r = await runIg(['image', 'pull', `${reg.host}/x/huge:v1`, ...S()]);
    expectClean(r, /image 127\.0\.0\.1:\d+\/x\/huge:v1 from registry 127\.0\.0\.1:\d+ is larger than 4 MiB \(3221225472 bytes\)/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(reg.bytesSent).toBeLessThan(16 << 20);
  });

  it('an endless manifest without a length stops being read at 4 MiB', async () => {
    reg.hook = (req, res, fake) => {
      if (!req.url?.includes('/manifests/')) return false;
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      fake.endless(res, GiB3);
      return true;
    };
    const r = await runIg(['image', 'pull', `${reg.host}/x/huge:v1`, ...S()]);
    expectClean(r, /is larger than 4 MiB/);
    expect(reg.bytesSent).toBeLessThan(64 << 20);
  });

  it('a signature layer announcing 3 GiB: never fetched, verification says why', async () => {
    const img = serveHandMade(reg, 'v1');
    serveSignature(img.indexDigest, { digest: sha(Buffer.from('never')), size: GiB3 });
    const pull = await runIg(['image', 'pull', `${reg.host}/x/signed:v1`, ...S()]);
    expect(pull.code, pull.stderr).toBe(0);
    const v = await runIg(['image', 'verify', `${reg.host}/x/signed:v1`, '--public-key', pub, ...S()]);
    expectClean(v, /layer 1 of signature manifest .* announces 3221225472 bytes, more than a signature payload may have \(1 MiB\)/);
    expect(reg.requests.filter((q) => q.includes(sha(Buffer.from('never'))))).toEqual([]);
    expect(reg.bytesSent).toBeLessThan(1 << 20);
  });

  it('a signature blob longer than announced is cut at its announced size', async () => {
    const img = serveHandMade(reg, 'v1');
    const liar = sha(Buffer.from('liar'));
    serveSignature(img.indexDigest, { digest: liar, size: 300 });
    reg.hook = (req, res, fake) => {
      if (!req.url?.endsWith(liar)) return false;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      fake.endless(res, GiB3);
      return true;
    };
    // the pull of the image itself works; verification then fetches the signature and refuses it
    const r = await runIg(['image', 'pull', `${reg.host}/x/signed:v1`, ...S()]);
    expect(r.code, r.stderr).toBe(0);
    const v2 = await runIg(['image', 'verify', `${reg.host}/x/signed:v1`, '--public-key', pub, ...S()]);
    expectClean(v2, /signature blob .* is larger than announced \(300 bytes\)/);
    expect(reg.bytesSent).toBeLessThan(64 << 20);
    expect(partialFiles()).toEqual([]);
  });
});

describe('waits on a registry end', () => {
  /** ig is waiting for the registry (so started, with its signal handling in place), and a moment more. */
  const asked = async () => {
    await waitFor(() => reg.requests.length > 0, 20_000, 'a request to the registry');
    await new Promise((r) => setTimeout(r, 200));
  };
  const silent = () => {
    reg.hook = (req) => {
      req.socket.setTimeout(0);
      return true; // never answer
    };
  };

  it('SIGINT stops `ig image pull` from a registry that never answers within 2 s', async () => {
    silent();
    const child = spawnIg(['image', 'pull', `${reg.host}/x/silent:v1`, ...S()]);
    const done = collect(child, 30_000);
    await asked();
    const t0 = Date.now();
    child.kill('SIGINT');
    const r = await done;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^error: interrupted while waiting for registry 127\.0\.0\.1:\d+/m);
  });

  it('SIGINT and SIGTERM stop `ig run` pulling from a registry that never answers within 2 s', async () => {
    silent();
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      reg.requests.length = 0;
      const child = spawnIg(['run', `${reg.host}/x/silent:v1`, ...S()]);
      const done = collect(child, 30_000);
      await asked();
      const t0 = Date.now();
      child.kill(sig);
      const r = await done;
      expect(Date.now() - t0, sig).toBeLessThan(2000);
      expect(r.code, sig).toBe(130);
    }
  });

  it('a silent registry is given up after IG_REGISTRY_TIMEOUT seconds', async () => {
    silent();
    const t0 = Date.now();
    const r = await runIg(['image', 'pull', `${reg.host}/x/silent:v1`, ...S()], { env: { ...process.env, IG_REGISTRY_TIMEOUT: '1' } });
    expectClean(r, /registry 127\.0\.0\.1:\d+ did not answer for 1 s/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a blob that stalls halfway: SIGINT ends the pull and removes the partial download', async () => {
    const img = serveHandMade(reg, 'v1', { ebpf: Buffer.alloc(1 << 20, 7) });
    const layer = sha(img.ebpf);
    let stalled!: () => void;
    const stalling = new Promise<void>((r) => (stalled = r));
    reg.hook = (req, res, fake) => {
      if (!req.url?.endsWith(layer)) return false;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(img.ebpf.length) });
      fake.write(res, img.ebpf.subarray(0, img.ebpf.length >> 1));
      stalled();
      return true;
    };
    const child = spawnIg(['image', 'pull', `${reg.host}/x/stall:v1`, ...S()]);
    const done = collect(child, 30_000);
    await stalling;
    await new Promise((r) => setTimeout(r, 300));
    expect(partialFiles().length).toBe(1);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted while/);
    expect(partialFiles()).toEqual([]);
    expect(readdirSync(path.join(store, 'blobs', 'sha256'))).not.toContain(layer.slice(7));
  });
});
