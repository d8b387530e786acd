import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type net from 'node:net';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { runIg, repoRoot, spawnIg, collect } from '../helpers/ig.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const fixture = existsSync(path.join(repoRoot, 'gadgets', 'trace_open', 'program.bpf.c'))
  ? path.join(repoRoot, 'gadgets', 'trace_open')
  : path.join(repoRoot, 'test', 'registry', 'fixtures', 'minimal');

type Mode = 'pass' | 'corrupt-blob' | 'truncate-blob' | 'unknown-manifest-type' | 'stall-blob';

/** A tiny HTTP proxy in front of the registry that can damage responses. */
class FaultProxy {
  mode: Mode = 'pass';
  server: http.Server;
  port = 0;
  sockets = new Set<net.Socket>();
  onStall?: () => void;
  constructor(private upstream: number) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }
  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return `127.0.0.1:${this.port}`;
  }
  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const body: Buffer[] = [];
    req.on('data', (c) => body.push(c));
    req.on('end', () => {
      const up = http.request(
        { host: '127.0.0.1', port: this.upstream, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${this.upstream}` } },
        (ur) => {
          const chunks: Buffer[] = [];
          ur.on('data', (c) => chunks.push(c));
          ur.on('end', () => {
            let data = Buffer.concat(chunks);
            const headers = { ...ur.headers };
            const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '') && ur.statusCode === 200;
            const isManifest = req.method === 'GET' && /\/manifests\//.test(req.url ?? '') && ur.statusCode === 200;
            if (isBlob && this.mode === 'corrupt-blob') {
              data = Buffer.from(data);
              data[data.length >> 1] ^= 0xff;
            } else if (isBlob && this.mode === 'truncate-blob') {
              data = data.subarray(0, data.length >> 1);
              headers['content-length'] = String(data.length);
            } else if (isManifest && this.mode === 'unknown-manifest-type') {
              const j = JSON.parse(data.toString());
              j.mediaType = 'application/vnd.example.unknown+json';
              data = Buffer.from(JSON.stringify(j));
              headers['content-type'] = 'application/vnd.example.unknown+json';
              headers['content-length'] = String(data.length);
              delete headers['docker-content-digest'];
            } else if (isBlob && this.mode === 'stall-blob') {
              res.writeHead(ur.statusCode ?? 200, headers);
              res.write(data.subarray(0, data.length >> 1));
              this.onStall?.();
              return; // never finish: the test kills the registry and the proxy
            }
            res.writeHead(ur.statusCode ?? 502, headers);
            res.end(data);
          });
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(Buffer.concat(body));
    });
  }
}

let reg: TestRegistry;
let proxy: FaultProxy;
let via: string;
let tmp: string;
let S: string[];
const IMG = 'faults/gadget:v1';

async function storeIsHealthy(): Promise<void> {
  const ls = await runIg(['image', 'list', '-o', 'json', ...S]);
  expect(ls.code).toBe(0);
  const rows = JSON.parse(ls.stdout) as { repository: string; tag: string }[];
  expect(rows.some((r) => r.repository === 'keeper' && r.tag === 'v1')).toBe(true);
  const insp = await runIg(['image', 'inspect', 'keeper:v1', '-o', 'json', ...S]);
  expect(insp.code).toBe(0);
  // No half-written files left in blobs/.
  const tmpFiles = readdirSync(path.join(tmp, 'store', 'blobs', 'sha256')).filter((n) => !/^[a-f0-9]{64}$/.test(n));
  expect(tmpFiles).toEqual([]);
}

function expectCleanFailure(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  expect(r.code).not.toBeNull();
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

beforeAll(async () => {
  reg = await startRegistry();
  proxy = new FaultProxy(reg.port);
  via = await proxy.start();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-oci-faults-'));
  S = ['--oci-store', path.join(tmp, 'store')];
  const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
  const src = ['--oci-store', path.join(tmp, 'src')];
  // A copy with its own gadget.yaml, so the pulled image has a blob the store lacks.
  const own = path.join(tmp, 'gadget-src');
  cpSync(fixture, own, { recursive: true });
  writeFileSync(path.join(own, 'gadget.yaml'), readFileSync(path.join(own, 'gadget.yaml'), 'utf8') + '\n# fault test copy\n');
  expect((await runIg(['build', own, '-t', `${reg.host}/${IMG}`, ...src], { env })).code).toBe(0);
  expect((await runIg(['image', 'push', `${reg.host}/${IMG}`, '--insecure-registries', reg.host, ...src])).code).toBe(0);
  expect((await runIg(['build', fixture, '-t', 'keeper:v1', ...S], { env: { ...env, SOURCE_DATE_EPOCH: '1600000000' } })).code).toBe(0);
}, 180_000);

afterAll(async () => {
  proxy?.close();
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const pullVia = (extra: string[] = []) => runIg(['image', 'pull', `${via}/${IMG}`, '--insecure-registries', via, ...S, ...extra]);

describe('faults during pull leave a clean error and a valid store', () => {
  it('a blob whose content does not match its digest', async () => {
    proxy.mode = 'corrupt-blob';
    const r = await pullVia();
    expectCleanFailure(r, /does not match its digest/);
    await storeIsHealthy();
    expect((await runIg(['image', 'inspect', `${via}/${IMG}`, ...S])).code).not.toBe(0);
  });

  it('a truncated blob', async () => {
    proxy.mode = 'truncate-blob';
    const r = await pullVia();
    expectCleanFailure(r, /truncated|received \d+ of \d+ bytes/);
    await storeIsHealthy();
  });

  it('a manifest of unknown media type', async () => {
    proxy.mode = 'unknown-manifest-type';
    const r = await pullVia();
    expectCleanFailure(r, /unsupported media type "application\/vnd\.example\.unknown\+json"/);
    await storeIsHealthy();
  });

  it('an image whose config is not a gadget config', async () => {
    proxy.mode = 'pass';
    // Push a container-like manifest by hand.
    const base = `http://${reg.host}/v2/faults/notgadget`;
    const cfg = Buffer.from('{"architecture":"amd64"}');
    const { createHash } = await import('node:crypto');
    const d = 'sha256:' + createHash('sha256').update(cfg).digest('hex');
    const up = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(up.headers.get('location')!, `http://${reg.host}`);
    loc.searchParams.set('digest', d);
    expect((await fetch(loc, { method: 'PUT', body: cfg, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
    const man = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d, size: cfg.length }, layers: [] });
    expect((await fetch(`${base}/manifests/v1`, { method: 'PUT', body: man, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(201);
    const r = await runIg(['image', 'pull', `${reg.host}/faults/notgadget:v1`, '--insecure-registries', reg.host, ...S]);
    expectCleanFailure(r, /config of unknown media type "application\/vnd\.oci\.image\.config\.v1\+json"/);
    await storeIsHealthy();
  });

  it('a nonexistent reference', async () => {
    proxy.mode = 'pass';
    const r = await runIg(['image', 'pull', `${reg.host}/faults/nope:v9`, '--insecure-registries', reg.host, ...S]);
    expectCleanFailure(r, /not found in registry/);
    await storeIsHealthy();
  });

  it('two pulls of the same image into the same store at once', async () => {
    proxy.mode = 'pass';
    const a = collect(spawnIg(['image', 'pull', `${reg.host}/${IMG}`, '--insecure-registries', reg.host, ...S]));
    const b = collect(spawnIg(['image', 'pull', `${reg.host}/${IMG}`, '--insecure-registries', reg.host, ...S]));
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.stderr + rb.stderr).toBe('');
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const rows = JSON.parse((await runIg(['image', 'list', '-o', 'json', ...S])).stdout) as { repository: string }[];
    expect(rows.filter((r) => r.repository === `${reg.host}/faults/gadget`).length).toBe(1);
    expect((await runIg(['image', 'inspect', `${reg.host}/${IMG}`, ...S])).code).toBe(0);
    expect((await runIg(['image', 'rm', `${reg.host}/${IMG}`, ...S])).code).toBe(0);
    await storeIsHealthy();
  });

  it('the registry killed mid-pull', async () => {
    proxy.mode = 'stall-blob';
    proxy.onStall = () => {
      reg.kill();
      setTimeout(() => proxy.close(), 100);
    };
    const r = await pullVia();
    expectCleanFailure(r, /registry 127\.0\.0\.1:\d+/);
    expect(r.stderr).toMatch(/^hint: /m);
    await storeIsHealthy();
  });
});

async function makeTar(file: string, entries: { name: string; type?: 'file' | 'symlink' | 'link'; data?: string; linkname?: string }[]): Promise<void> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => pack.on('end', r));
  for (const e of entries) {
    if (e.type === 'symlink' || e.type === 'link') pack.entry({ name: e.name, type: e.type, linkname: e.linkname });
    else pack.entry({ name: e.name }, e.data ?? '');
  }
  pack.finalize();
  await done;
  writeFileSync(file, Buffer.concat(chunks));
}

describe('import refuses unsafe archives before touching the store', () => {
  const layout = [
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: '{"schemaVersion":2,"manifests":[]}' },
  ];
  it.each([
    ['a ../ path', [...layout, { name: '../evil', data: 'x' }], /contains "\.\."/],
    ['an absolute path', [...layout, { name: '/tmp/evil', data: 'x' }], /absolute path/],
    ['a symlink escaping the layout', [...layout, { name: 'blobs/sha256/x', type: 'symlink' as const, linkname: '../../../../etc/passwd' }], /points outside the layout/],
    ['a hardlink escaping the layout', [...layout, { name: 'blobs/x', type: 'link' as const, linkname: '../etc/passwd' }], /points outside the layout/],
    ['a blob whose digest does not match', [...layout, { name: `blobs/sha256/${'0'.repeat(64)}`, data: 'not zero' }], /does not match its digest/],
  ])('%s', async (_n, entries, pattern) => {
    const before = readdirSync(path.join(tmp, 'store', 'blobs', 'sha256')).sort();
    const file = path.join(tmp, `bad-${Math.random().toString(36).slice(2)}.tar`);
    await makeTar(file, entries);
    const r = await runIg(['image', 'import', file, ...S]);
    expectCleanFailure(r, pattern);
    expect(readdirSync(path.join(tmp, 'store', 'blobs', 'sha256')).sort()).toEqual(before);
    await storeIsHealthy();
  });
});
