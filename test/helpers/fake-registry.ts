// A registry the test controls byte by byte: a small HTTP server on 127.0.0.1 answering the OCI
// distribution API from a content map, with hooks to serve hostile answers (huge, endless, silent,
// stalling). For faults a real registry cannot be made to produce.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';

export const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

export type Hook = (req: http.IncomingMessage, res: http.ServerResponse, fake: FakeRegistry) => boolean | void;

export class FakeRegistry {
  readonly server: http.Server;
  host = '';
  /** every request, as "METHOD path" */
  readonly requests: string[] = [];
  /** bytes written into response bodies */
  bytesSent = 0;
  /** content by digest (manifests and blobs) and manifests by tag */
  readonly content = new Map<string, Buffer>();
  readonly tags = new Map<string, Buffer>();
  /** answers a request itself when it returns true */
  hook?: Hook;
  private readonly sockets = new Set<net.Socket>();

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.host = `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }

  /** Add a blob (or manifest) by its digest; returns the digest. */
  put(data: Buffer): string {
    const d = sha(data);
    this.content.set(d, data);
    return d;
  }

  /** Count what goes out, so tests can tell how much a client made us send. */
  write(res: http.ServerResponse, chunk: Buffer): boolean {
    this.bytesSent += chunk.length;
    return res.write(chunk);
  }

  /** Write zeros until the client goes away (or `limit` bytes), honouring back pressure. */
  endless(res: http.ServerResponse, limit = Infinity): void {
    const chunk = Buffer.alloc(64 << 10);
    const pump = () => {
      while (!res.destroyed && this.bytesSent < limit) if (!this.write(res, chunk)) return void res.once('drain', pump);
      res.end();
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests.push(`${req.method} ${req.url}`);
    if (this.hook?.(req, res, this)) return;
    if (req.url === '/v2/') return void res.end('{}');
    const m = /^\/v2\/.+\/(manifests|blobs)\/([^/?]+)$/.exec(req.url ?? '');
    const body = m ? (m[1] === 'manifests' ? this.tags.get(m[2]!) : undefined) ?? this.content.get(m[2]!) : undefined;
    if (!body) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end('{"errors":[{"code":"NOT_FOUND","message":"not here"}]}');
    }
    const type = m![1] === 'manifests' ? (JSON.parse(body.toString()).mediaType ?? 'application/vnd.oci.image.manifest.v1+json') : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'docker-content-digest': sha(body) });
    if (req.method === 'HEAD') return void res.end();
    this.write(res, body);
    res.end();
  }
}

export interface HandMade { index: Buffer; indexDigest: string; manifest: Buffer; config: Buffer; ebpf: Buffer }

/** A small gadget image (a fake eBPF layer: pulls and the store never parse it) served under `tag`. */
export function serveHandMade(reg: FakeRegistry, tag: string, opts: { ebpf?: Buffer; note?: string } = {}): HandMade {
  const config = Buffer.from(`name: handmade\n# ${opts.note ?? ''}\n`);
  const ebpf = opts.ebpf ?? Buffer.from('\x7fELF not really');
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.gadget.v1+binary',
    config: { mediaType: 'application/vnd.gadget.config.v1+yaml', digest: reg.put(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.gadget.ebpf.program.v1+binary', digest: reg.put(ebpf), size: ebpf.length }],
  }));
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: reg.put(manifest), size: manifest.length, platform: { architecture: 'amd64', os: 'linux' } }],
  }));
  const indexDigest = reg.put(index);
  reg.tags.set(tag, index);
  return { index, indexDigest, manifest, config, ebpf };
}
