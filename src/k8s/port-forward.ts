/**
 * Reaching an agent through the API server: each connection to a local unix socket becomes one
 * port-forward stream to the agent pod's loopback gRPC port, bytes piped both ways, so the
 * existing remote client (`--remote-address unix://…`) talks gRPC to the agent end to end and
 * its node-merging code applies unchanged. The socket lives in a folder only this user can
 * enter (mkdtemp, 0700).
 */
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import { IgError } from '../errors.js';
import { apiError } from './kubeconfig.js';

/** One byte stream to the far end, shaped like PortForward.portForward: its bytes go to `output`, `input`'s bytes go to it. */
export type StreamOpener = (output: Writable, input: Readable) => Promise<{ close(): void; closed: Promise<void> }>;

export interface LocalRelay {
  /** unix:///…: what --remote-address takes */
  address: string;
  close(): Promise<void>;
}

/** A folder for relay sockets that only this user can enter; removed by the returned function. */
export function relayFolder(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ig-k8s-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Serve `file`: every connection is piped into a new stream from `open`; closing either side closes the other. */
export async function relayUnixSocket(file: string, open: StreamOpener, onError: (e: unknown) => void = () => {}): Promise<LocalRelay> {
  const open_ = new Set<{ close(): void }>();
  const server = net.createServer((conn) => {
    conn.pause(); // nothing read before the far end exists
    // a client may reset its connection while the far end is still being opened: that is no crash,
    // and the stream opened for it is closed at once (else it would stay open with nobody on it)
    conn.on('error', () => conn.destroy());
    open(conn, conn).then(
      (s) => {
        if (conn.destroyed) {
          s.close();
          return;
        }
        open_.add(s);
        conn.resume();
        const end = () => {
          open_.delete(s);
          s.close();
          conn.destroy();
        };
        conn.once('close', end);
        s.closed.then(end, end);
      },
      (e) => {
        onError(e);
        conn.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => resolve());
  });
  return {
    address: `unix://${file}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open_) s.close();
        server.close(() => resolve());
      }),
  };
}

/** Port-forward streams to `port` on the pod's loopback, through the API server of `kc`. */
export async function podPortOpener(kc: KubeConfig, namespace: string, pod: string, port: number): Promise<StreamOpener> {
  const { PortForward } = await import('@kubernetes/client-node');
  const pf = new PortForward(kc, true);
  return async (output, input) => {
    let ws;
    try {
      ws = await pf.portForward(namespace, pod, [port], output, null, input);
    } catch (e) {
      throw apiError(`cannot port-forward to ${namespace}/${pod}:${port}`, e);
    }
    if (typeof ws === 'function') throw new IgError('internal', 'port-forward returned a restartable stream');
    const socket = ws;
    const closed = new Promise<void>((resolve) => {
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    return { close: () => socket.close(), closed };
  };
}
