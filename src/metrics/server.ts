/** `/metrics` over node:http for Prometheus to scrape. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IgError } from '../errors.js';
import { renderPrometheus, type MetricFamily } from './prometheus.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsServer {
  /** the address actually bound */
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Parse `host:port`, `[v6]:port` or `:port` (all interfaces). Port 0 = any free port. */
export function parseListenAddress(addr: string, what = 'metrics'): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr.trim());
  if (!m) {
    throw new IgError('usage', `${what}: invalid listen address "${addr}"`, {
      hint: 'use host:port, [ipv6]:port or :port, e.g. 0.0.0.0:2224',
    });
  }
  const port = Number(m[3]);
  if (port > 65535) throw new IgError('usage', `${what}: invalid port ${port} in "${addr}"`);
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port };
}

/** Listen on `host:port` (parseListenAddress); a refusal becomes a usage error naming the address. */
export async function listenHttp(server: Server, addr: string, what: string): Promise<AddressInfo> {
  const { host, port } = parseListenAddress(addr, what);
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(
        new IgError('usage', `${what}: cannot listen on ${addr}: ${e.code ?? e.message}`, {
          hint: e.code === 'EADDRINUSE' ? 'another process uses this port; pick another one' : undefined,
          cause: e,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

export async function startMetricsServer(
  addr: string,
  collect: () => Promise<MetricFamily[]>,
): Promise<MetricsServer> {
  parseListenAddress(addr); // a bad address fails before anything is created
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: use /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    collect().then(
      (families) => {
        const body = renderPrometheus(families);
        res.writeHead(200, {
          'Content-Type': PROMETHEUS_CONTENT_TYPE,
          'Content-Length': Buffer.byteLength(body),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  const a = await listenHttp(server, addr, 'metrics');
  const shownHost = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    host: a.address,
    port: a.port,
    url: `http://${shownHost}:${a.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
