/**
 * Health and readiness of the node agent, over HTTP for Kubernetes' probes (`ig daemon
 * --health-listen :8081`; the DaemonSet's livenessProbe and readinessProbe GET these paths):
 *   GET /healthz  200 while the process answers at all (a wedged event loop fails it: restart)
 *   GET /readyz   200 when the agent can serve a run: its gRPC address accepts a connection, the
 *                 native addon loads, and the kernel's BTF and tracefs are where the pod mounts
 *                 them; 503 with the reasons otherwise, and from SIGTERM on (no new clients while
 *                 it drains). Each reason is one line a node admin can act on.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { listenHttp } from '../metrics/server.js';
import { native } from '../runtime/native.js';
import { TRACEFS_ROOTS } from '../runtime/tracefs.js';
import { grpcTarget } from './proto.js';

export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

/** Whether the daemon's address accepts a connection (within 1 s); the error text otherwise. */
function accepts(address: string): Promise<string | undefined> {
  const target = grpcTarget(address);
  return new Promise((resolve) => {
    const m = /^(.*):(\d+)$/.exec(target);
    const sock = target.startsWith('unix://')
      ? net.connect(target.slice('unix://'.length))
      : net.connect(Number(m?.[2]), (m?.[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1');
    const done = (why: string | undefined) => {
      sock.destroy();
      resolve(why);
    };
    sock.setTimeout(1000, () => done('no answer within 1 s'));
    sock.once('connect', () => done(undefined));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/** What keeps the agent from serving a run right now (empty: ready). */
export async function notReadyReasons(daemonAddresses: string | string[]): Promise<string[]> {
  const reasons: string[] = [];
  for (const address of [daemonAddresses].flat()) {
    const grpc = await accepts(address);
    if (grpc) reasons.push(`gRPC ${address}: ${grpc}`);
  }
  try {
    native();
  } catch (e) {
    reasons.push(`native addon: ${(e as Error).message}`);
  }
  if (!existsSync('/sys/kernel/btf/vmlinux')) reasons.push('kernel BTF: /sys/kernel/btf/vmlinux is missing (kernel built without CONFIG_DEBUG_INFO_BTF?)');
  if (!TRACEFS_ROOTS.some((root) => existsSync(`${root}/events`))) {
    reasons.push('tracefs: neither /sys/kernel/tracing nor /sys/kernel/debug/tracing is mounted (check the pod\'s hostPath mounts)');
  }
  return reasons;
}

export async function startHealthServer(listen: string, daemonAddress: string | string[]): Promise<HealthServer> {
  let stopping = false;
  const onTerm = () => (stopping = true);
  process.once('SIGTERM', onTerm);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: string) => res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
    if (path === '/healthz') return reply(200, 'ok\n');
    if (path !== '/readyz') return reply(404, 'not found: use /healthz or /readyz\n');
    if (stopping) return reply(503, 'not ready: stopping (SIGTERM)\n');
    notReadyReasons(daemonAddress).then(
      (reasons) => (reasons.length ? reply(503, `not ready:\n${reasons.map((r) => `- ${r}\n`).join('')}`) : reply(200, 'ready\n')),
      (e: unknown) => reply(500, `readiness check failed: ${(e as Error).message}\n`),
    );
  });
  const a = await listenHttp(server, listen, 'health');
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        process.off('SIGTERM', onTerm);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
