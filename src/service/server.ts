import * as grpc from '@grpc/grpc-js';
import { mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IgError } from '../errors.js';
import { gadgetService, grpcTarget, type TlsFiles } from './proto.js';
import { nodeName } from '../containers/index.js';
import { runConfig } from '../engine/config.js';
import { prepareGadget, describeGadget, runGadget } from '../engine/run.js';
import type { PullPolicy } from '../oci/image.js';
import { fromRequest, clientFormat, type DaemonRunSettings, type RunRequestMsg } from './request.js';
import { streamOutput } from './stream-output.js';

/** Bytes queued towards one client above which whole batches are dropped (and counted as lost). */
const HIGH_WATER = 8 * 1024 * 1024;

export interface Daemon { address: string; close(): Promise<void> }

type Call<Req> = grpc.ServerWritableStream<Req, unknown>;

/**
 * `ig daemon`: serves GadgetService on a unix socket or TCP address. Each RunGadget call is
 * one run of the engine on this node, its output streamed back.
 */
export async function startDaemon(address: string, tls: TlsFiles = {}, settings: DaemonRunSettings = { oci: {}, runtimes: {} }): Promise<Daemon> {
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
    GetGadgetInfo: (call: grpc.ServerUnaryCall<{ image: string; pull: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      gadgetInfo(call.request, settings).then((info) => cb(null, info), (err) => cb(toStatus(err)));
    },
    RunGadget: (call: Call<RunRequestMsg>) => {
      const stop = new AbortController();
      const run = serveRun(call, node, settings, stop).finally(() => runs.delete(run));
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

/** An error as a gRPC status whose details carry the message and hint (the client shows them as `ig run` would). */
function toStatus(err: unknown): Partial<grpc.StatusObject> {
  const e = err instanceof IgError ? err : new IgError('internal', (err as Error).message ?? String(err));
  const metadata = new grpc.Metadata();
  metadata.set('ig-hint', e.hint ?? '');
  metadata.set('ig-exit-code', String(e.exitCode));
  return { code: e.code === 'not-found' ? grpc.status.NOT_FOUND : grpc.status.FAILED_PRECONDITION, details: e.message, metadata };
}

async function gadgetInfo(req: { image: string; pull: string }, settings: DaemonRunSettings): Promise<unknown> {
  const cfg = runConfig({ image: req.image, pull: (req.pull || 'missing') as PullPolicy, oci: settings.oci });
  const p = await prepareGadget(cfg);
  try {
    const d = describeGadget(p, cfg);
    return {
      reference: d.reference,
      description: d.description ?? '',
      params: d.params.map((x) => ({ key: x.key, kind: x.kind, default: x.default, description: x.description ?? '', choices: x.choices?.map((c) => c.name) ?? [] })),
      datasources: d.datasources.map((ds) => ({ name: ds.name, kind: ds.kind, fields_json: JSON.stringify(ds.fields.map(({ source: _s, ...f }) => f)) })),
    };
  } finally {
    await p.close();
  }
}

async function serveRun(call: Call<RunRequestMsg>, node: string, settings: DaemonRunSettings, stop: AbortController): Promise<void> {
  call.on('cancelled', () => stop.abort());
  const send = (m: Record<string, unknown>) => {
    if (!call.cancelled) call.write({ ...m, node });
  };
  try {
    const req = call.request;
    if (!req.image) throw new IgError('usage', 'RunGadget needs an image');
    const cfg = fromRequest(req, settings);
    const output = streamOutput({
      datasource: (ds) => send({ datasource: ds }),
      batch: (b) => send({ batch: b }),
      full: () => call.writableLength > HIGH_WATER,
    }, { fields: cfg.fields, allFields: clientFormat(req) !== 'columns' });
    await runGadget(cfg, { output, notice: (text) => send({ notice: text }) }, stop.signal);
    send({ done: { exit_code: 0, error: '', hint: '' } });
  } catch (err) {
    const e = err instanceof IgError ? err : new IgError('internal', (err as Error).message ?? String(err));
    send({ done: { exit_code: e.exitCode, error: e.message, hint: e.hint ?? '' } });
  } finally {
    if (!call.cancelled) call.end();
  }
}
