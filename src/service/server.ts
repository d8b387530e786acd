import * as grpc from '@grpc/grpc-js';
import os from 'node:os';
import { servedGadgetService, type TlsFiles } from './proto.js';
import { streamWriter } from './stream-writer.js';
import { nodeName } from '../containers/index.js';
import { runConfig } from '../engine/config.js';
import { prepareGadget, describeGadget } from '../engine/run.js';
import type { PullPolicy } from '../oci/image.js';
import type { DaemonRunSettings, RunRequestMsg } from './request.js';
import { admissionFields, checkImageRequest, DEFAULT_POLICY } from './policy.js';
import { ClientLimits } from './limits.js';
import { identify, type ClientIdentity } from './identity.js';
import { listenAll } from './listen.js';
import { runForClient, asIgError, type NodeRuns } from './serve-run.js';
import { InstanceManager } from './instances.js';

export interface Daemon { addresses: string[]; address: string; close(): Promise<void> }

export interface DaemonOptions {
  /** `-H`: unix:///path and tcp://IP:PORT addresses */
  hosts: string[];
  tls?: TlsFiles;
  /** accept plain TCP without TLS */
  tlsInsecure?: boolean;
  /** group of the unix sockets */
  group?: string;
  settings?: Partial<DaemonRunSettings>;
  /** where headless instances are persisted (undefined: not persisted) */
  stateDir?: string;
  /** events kept per headless instance for replay */
  eventsBufferLength?: number;
  warn?: (line: string) => void;
}

type Unary<Req> = grpc.ServerUnaryCall<Req, unknown>;
type Stream<Req> = grpc.ServerWritableStream<Req, unknown>;

/**
 * `ig daemon`: serves GadgetService on unix sockets and TCP addresses. Every call is checked
 * against the daemon's policy and counted against its client (policy.ts, limits.ts); each
 * RunGadget call is one run of the engine on this node, its output streamed back; headless
 * instances run on their own (instances.ts).
 */
export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const warn = o.warn ?? ((l: string) => void process.stderr.write(l));
  const settings: DaemonRunSettings = { oci: {}, runtimes: {}, policy: DEFAULT_POLICY, ...o.settings };
  const server = new grpc.Server();
  const node = nodeName();
  const runs: NodeRuns = { node, settings, limits: new ClientLimits(settings.policy.maxSessionsPerClient, settings.policy.maxProgramsPerClient) };
  const instances = new InstanceManager(runs, { stateDir: o.stateDir, bufferEvents: o.eventsBufferLength ?? 16384 });
  const calls = new Map<Promise<unknown>, AbortController>();
  const unary = <Req>(fn: (client: ClientIdentity, req: Req) => Promise<unknown> | unknown) =>
    (call: Unary<Req>, cb: grpc.sendUnaryData<unknown>) => {
      Promise.resolve().then(() => fn(identify(call), call.request)).then((v) => cb(null, v), (err) => cb(toStatus(err)));
    };
  server.addService(servedGadgetService(), {
    GetInfo: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
      cb(null, { node, version: process.env.npm_package_version ?? '', kernel: os.release(), libbpf: '' });
    },
    GetGadgetInfo: unary<{ image: string; pull: string }>((client, req) => gadgetInfo(runs, client, req)),
    RunGadget: (call: Stream<RunRequestMsg>) => {
      const stop = new AbortController();
      call.on('cancelled', () => stop.abort());
      const out = streamWriter(call, node);
      const run = runForClient(runs, identify(call), call.request, { send: out.write, full: out.full, drained: out.whenDrained }, stop.signal)
        .finally(() => {
          calls.delete(run);
          if (!call.cancelled) call.end();
        });
      calls.set(run, stop);
    },
    CreateInstance: unary<{ run: RunRequestMsg; name: string; tags: string[] }>((client, req) => instances.create(client, req)),
    ListInstances: unary<unknown>((client) => ({ instances: instances.list(client) })),
    DeleteInstance: unary<{ instance: string }>((client, req) => instances.delete(client, req.instance)),
    AttachInstance: (call: Stream<{ instance: string; replay: boolean }>) => {
      try {
        const out = streamWriter(call, node);
        const detach = instances.attach(identify(call), call.request.instance, call.request.replay, {
          write: out.write,
          full: out.full,
          end: () => void (call.cancelled || call.end()),
        });
        call.on('cancelled', detach);
      } catch (err) {
        call.emit('error', toStatus(err));
      }
    },
  });
  const listening = await listenAll(server, o.hosts, { tls: o.tls ?? {}, tlsInsecure: o.tlsInsecure, group: o.group, warn });
  instances.restore(warn);
  return {
    addresses: listening.addresses,
    address: listening.addresses[0]!,
    // SIGTERM (a pod being stopped): end every run — each detaches and closes what it loaded and
    // tells its client — then stop; waiting for runs to end by themselves would wait forever.
    close: async () => {
      for (const stop of calls.values()) stop.abort();
      await Promise.allSettled([...calls.keys(), instances.closeAll()]);
      await listening.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/** An error as a gRPC status whose details carry the message and hint (the client shows them as `ig run` would). */
function toStatus(err: unknown): Partial<grpc.StatusObject> {
  const e = asIgError(err);
  const metadata = new grpc.Metadata();
  // binary metadata: a hint may hold any character (ASCII-only text metadata throws on "…")
  metadata.set('ig-hint-bin', Buffer.from(e.hint ?? '', 'utf8'));
  metadata.set('ig-exit-code', String(e.exitCode));
  const code = e.code === 'not-found' ? grpc.status.NOT_FOUND : e.code === 'denied' || e.code === 'signature' ? grpc.status.PERMISSION_DENIED : grpc.status.FAILED_PRECONDITION;
  return { code, details: e.message, metadata };
}

/** What a gadget takes and shows, under the same policy and limits as a run of it. */
async function gadgetInfo(n: NodeRuns, client: ClientIdentity, req: { image: string; pull: string }): Promise<unknown> {
  const session = n.limits.open(client);
  try {
    const image = checkImageRequest(n.settings.policy, req.image, (req.pull || 'missing') as PullPolicy);
    const cfg = runConfig({ image: req.image, pull: image.pull, oci: n.settings.oci, ...admissionFields(n.settings.policy) });
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
  } finally {
    session.close();
  }
}

