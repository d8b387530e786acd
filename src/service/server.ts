import * as grpc from '@grpc/grpc-js';
import { mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IgError } from '../errors.js';
import { gadgetService, grpcTarget, type TlsFiles } from './proto.js';
import { runWithArgs } from '../cli/run/run-main.js';
import type { SessionIO } from '../cli/run/session.js';
import type { EventBatch } from '../gadget/datasource.js';
import { nodeName } from '../containers/index.js';
import { encodeValue } from '../output/json.js';

/** Flags a remote client may not set: they name files and sockets on the daemon's machine. */
const LOCAL_ONLY = ['--oci-store', '--authfile', '--containerd-socketpath', '--crio-socketpath', '--podman-socketpath',
  '--docker-socketpath', '--metrics-listen', '--public-key'];

/** Bytes queued towards one client above which whole batches are dropped (and counted as lost). */
const HIGH_WATER = 8 * 1024 * 1024;

export interface Daemon { address: string; close(): Promise<void> }


/**
 * `ig daemon`: serves GadgetService on a unix socket or TCP address. Each
 * RunGadget call is one `ig run` on this node, its output streamed back.
 */
export async function startDaemon(address: string, tls: TlsFiles = {}): Promise<Daemon> {
  const target = grpcTarget(address);
  if (target.startsWith('unix://')) {
    const file = target.slice('unix://'.length);
    mkdirSync(path.dirname(file), { recursive: true });
    if (existsSync(file)) rmSync(file); // a socket left by a daemon that died
  }
  const server = new grpc.Server();
  const node = nodeName();
  const runs = new Map<Promise<void>, AbortController>();
  server.addService(gadgetService().GadgetService.service, {
    GetInfo: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
      cb(null, { node, version: process.env.npm_package_version ?? '', kernel: os.release(), libbpf: '' });
    },
    RunGadget: (call: grpc.ServerWritableStream<{ image: string; args: string[] }, unknown>) => {
      const stop = new AbortController();
      const run = serveRun(call, node, stop).finally(() => runs.delete(run));
      runs.set(run, stop);
    },
  });
  const creds = tls.cert && tls.key
    ? grpc.ServerCredentials.createSsl(tls.ca ? readFileSync(tls.ca) : null, [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }], !!tls.ca)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, creds, (err, p) => (err ? reject(new IgError('usage', `cannot listen on ${address}: ${err.message}`)) : resolve(p)));
  });
  const shown = target.startsWith('unix://') ? address : `tcp://${target.replace(/:\d+$/, '')}:${port}`;
  return {
    address: shown,
    // SIGTERM (a pod being stopped): end every run — each detaches and closes what it loaded and
    // tells its client — then stop; waiting for runs to end by themselves would wait forever.
    close: async () => {
      for (const stop of runs.values()) stop.abort();
      await Promise.allSettled(runs.keys());
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

async function serveRun(call: grpc.ServerWritableStream<{ image: string; args: string[] }, unknown>, node: string, stop: AbortController): Promise<void> {
  call.on('cancelled', () => stop.abort());
  const send = (m: Record<string, unknown>) => {
    if (!call.cancelled) call.write({ ...m, node });
  };
  const { image, args = [] } = call.request;
  try {
    const banned = args.find((a) => LOCAL_ONLY.some((f) => a === f || a.startsWith(`${f}=`)));
    if (banned) {
      throw new IgError('usage', `${banned.split('=')[0]} cannot be set from a remote client`, { hint: 'configure it on the daemon (ig daemon --help)' });
    }
    if (!image) throw new IgError('usage', 'RunGadget needs an image');
    const io: SessionIO = {
      notice: (text) => send({ notice: text }),
      sinkFor: (ds, lost) => {
        send({ datasource: { name: ds.name, kind: ds.kind, fields_json: JSON.stringify(ds.fields) } });
        return {
          write(b: EventBatch) {
            if (call.writableLength > HIGH_WATER) {
              lost.add(b.events.length); // a slow client loses whole batches, counted, rather than growing our memory
              return;
            }
            send({ batch: { datasource: b.datasource, events_json: encodeValue(b.events), lost: b.lost ?? 0, snapshot: !!b.snapshot } });
          },
          end: async () => {},
        };
      },
    };
    await runWithArgs(['run', image, ...args.filter((a) => a !== '--help' && a !== '-h')], stop.signal, io);
    send({ done: { exit_code: 0, error: '', hint: '' } });
  } catch (err) {
    const e = err instanceof IgError ? err : new IgError('internal', (err as Error).message ?? String(err));
    send({ done: { exit_code: e.exitCode, error: e.message, hint: e.hint ?? '' } });
  } finally {
    if (!call.cancelled) call.end();
  }
}
