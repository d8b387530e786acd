/** Listen addresses for the HTTP endpoints (metrics, health): parsed and bound with clear errors. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IgError } from '../errors.js';


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
