/**
 * The client of ig daemons (`ig run --remote-address`): asks a node what a gadget takes, then
 * runs it on every node with one typed request and shows one merged view. `-o json` passes the
 * nodes' JSON lines through as they come; other formats turn them back into events for a local
 * sink per datasource (made from the first node's field list).
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { IgError } from '../errors.js';
import { gadgetService, grpcTarget, type ServiceClient, type TlsFiles } from './proto.js';
import { LostCounter } from '../datasource/lost.js';
import { datasourceOfFields, batchOfEvents, flattenEvent } from '../datasource/events.js';
import { createSink, lostLine, type Sink } from '../output/index.js';
import { stdoutTarget, type OutputTarget } from '../output/target.js';
import type { FieldDesc, GadgetKind } from '../model/field.js';
import type { ParamSpec } from '../gadget/params.js';
import type { RunConfig } from '../engine/config.js';
import { toRequest } from './request.js';

function credentials(tls: TlsFiles): grpc.ChannelCredentials {
  if (!tls.ca && !tls.cert) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    tls.ca ? readFileSync(tls.ca) : null,
    tls.key ? readFileSync(tls.key) : null,
    tls.cert ? readFileSync(tls.cert) : null,
  );
}

/**
 * HTTP/2's default 64 KiB flow-control window makes a fast node wait for a round trip every
 * 64 KiB (a 20x slower stream in the bench); one batch of a busy gadget can also pass gRPC's
 * 4 MiB message limit. The daemon bounds what it queues per client itself (server.ts).
 */
const CHANNEL_OPTIONS = {
  'grpc-node.flow_control_window': 16 << 20,
  'grpc.max_receive_message_length': 256 << 20,
};

export function connect(address: string, tls: TlsFiles): ServiceClient {
  return new (gadgetService().GadgetService)(grpcTarget(address), credentials(tls), CHANNEL_OPTIONS) as ServiceClient;
}

function unreachable(address: string, err: grpc.ServiceError): IgError {
  return new IgError('registry', `cannot run on the ig daemon at ${address}: ${err.details || err.message}`, {
    hint: 'is `ig daemon` running there, and does --remote-address name its socket or port?',
  });
}

/** The hint a daemon sent with an error (binary metadata: any text). */
function remoteHint(err: grpc.ServiceError): string | undefined {
  const v = err.metadata?.get('ig-hint-bin')[0];
  return v === undefined || v.length === 0 ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

/** A failed call as the user should see it: a daemon that cannot be reached, or the daemon's own error and hint. */
export function callError(address: string, err: grpc.ServiceError): IgError {
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.UNIMPLEMENTED) return unreachable(address, err);
  const exit = Number(err.metadata?.get('ig-exit-code')[0] ?? 1);
  return new IgError(err.code === grpc.status.NOT_FOUND ? 'not-found' : 'usage', err.details || err.message, { hint: remoteHint(err), exitCode: exit || 1 });
}

export interface RemoteGadgetInfo {
  reference: string;
  description?: string;
  params: ParamSpec[];
  datasources: { name: string; kind: GadgetKind; fields: FieldDesc[] }[];
}

/** What a gadget takes and shows, as a node sees it. */
export function remoteGadgetInfo(address: string, image: string, pull: string, tls: TlsFiles): Promise<RemoteGadgetInfo> {
  const client = connect(address, tls);
  return new Promise<RemoteGadgetInfo>((resolve, reject) => {
    client.GetGadgetInfo({ image, pull }, (err: grpc.ServiceError | null, info: GadgetInfoMsg) => {
      client.close();
      if (err) return reject(callError(address, err));
      resolve({
        reference: info.reference,
        description: info.description || undefined,
        params: info.params.map((p) => ({
          key: p.key, variable: p.key, section: '', offset: 0, size: 0, kind: p.kind as ParamSpec['kind'],
          description: p.description || undefined, default: p.default,
          choices: p.choices.length ? p.choices.map((name, value) => ({ name, value })) : undefined,
        })),
        datasources: info.datasources.map((d) => ({ name: d.name, kind: d.kind as GadgetKind, fields: JSON.parse(d.fields_json) as FieldDesc[] })),
      });
    });
  });
}

export interface RemoteRun {
  addresses: string[];
  cfg: RunConfig;
  tls: TlsFiles;
  stop: AbortSignal;
  /** the call whose messages are shown (default: RunGadget with the config as its request) */
  open?: (client: ServiceClient) => grpc.ClientReadableStream<unknown>;
}

/** One merged view of every node's run; a node that fails is reported by name, the others go on. */
export async function runRemote(r: RemoteRun): Promise<void> {
  const target = stdoutTarget();
  const lost = new LostCounter({ stream: process.stderr });
  const view = r.cfg.output === 'json' && !(r.open && r.cfg.fields) ? jsonPassThrough(target, lost) : decodedView(r.cfg, target, lost, !r.open);
  const errors: IgError[] = [];
  const multi = r.addresses.length > 1;
  const calls: grpc.ClientReadableStream<Msg>[] = [];
  const clients: ServiceClient[] = [];
  const request = toRequest(r.cfg);
  const open = r.open ?? ((c: ServiceClient) => c.RunGadget(request) as grpc.ClientReadableStream<unknown>);
  let readerGone = false;

  const one = (address: string) =>
    new Promise<void>((resolve) => {
      const client = connect(address, r.tls);
      clients.push(client);
      const call = open(client) as grpc.ClientReadableStream<Msg>;
      calls.push(call);
      const prefix = (node: string) => (multi ? `[${node || address}] ` : '');
      call.on('data', (m: Msg) => {
        try {
          if (m.datasource) view.datasource(m.datasource);
          else if (m.batch) view.batch(m.batch);
          else if (m.notice) process.stderr.write(prefix(m.node) + m.notice);
          else if (m.done && m.done.exit_code !== 0) {
            errors.push(new IgError('usage', `${multi ? `node ${m.node || address}: ` : ''}${m.done.error}`, { hint: m.done.hint || undefined, exitCode: m.done.exit_code }));
          }
        } catch (err) {
          // `ig run … | head`: the reader went away; stop quietly
          if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
          readerGone = true;
          cancel();
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        if (!((r.stop.aborted || readerGone) && err.code === grpc.status.CANCELLED)) errors.push(callError(address, err));
        resolve();
      });
      call.on('end', () => resolve());
    });

  const cancel = () => calls.forEach((c) => c.cancel());
  r.stop.addEventListener('abort', cancel, { once: true });
  try {
    await Promise.all(r.addresses.map(one));
  } finally {
    r.stop.removeEventListener('abort', cancel);
    if (!readerGone) await view.end().catch(() => undefined);
    lost.reportTotal(process.stderr);
    clients.forEach((c) => c.close());
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new IgError('usage', errors.map((e) => e.message).join('\n'), { hint: errors[0]!.hint });
}

interface View {
  datasource(d: DataSourceMsg): void;
  batch(b: BatchMsg): void;
  end(): Promise<void>;
}

/** -o json: the nodes' lines as they are (each chunk holds whole lines), with lost lines as local runs write them. */
function jsonPassThrough(target: OutputTarget, lost: LostCounter): View {
  return {
    datasource: () => {},
    batch(b) {
      if (b.json.length) target.write(b.json);
      const n = Number(b.lost);
      if (n > 0) {
        lost.add(n);
        target.write(Buffer.from(lostLine(n, lost.total)));
      }
    },
    end: () => target.flush(),
  };
}

/**
 * Other formats: the nodes' lines back into events, through a local sink per datasource. A run
 * started by this client carries the fields it asked for (`nodeChose`); an attached headless
 * instance carries all of them, and the local sink picks the default set or --fields.
 */
function decodedView(cfg: RunConfig, target: OutputTarget, lost: LostCounter, nodeChose: boolean): View {
  const views = new Map<string, { names: string[]; sink: Sink; ds: ReturnType<typeof datasourceOfFields> }>();
  return {
    datasource(d) {
      if (views.has(d.name)) return;
      const fields = JSON.parse(d.fields_json) as FieldDesc[];
      const ds = datasourceOfFields(d.name, d.kind as GadgetKind, fields);
      // the node already chose the fields: show them all, in its order
      const chosen = nodeChose ? fields.map((f) => f.name).join(',') || undefined : cfg.fields;
      const sink = createSink(cfg.output, ds, { target, lost, fields: chosen });
      sink.begin();
      views.set(d.name, { names: fields.map((f) => f.name), sink, ds });
    },
    batch(b) {
      const v = views.get(b.datasource);
      lost.add(Number(b.lost));
      if (!v) return;
      const text = b.json.toString('utf8');
      const objs: Record<string, unknown>[] = b.snapshot
        ? text.trim() === '' ? [] : (JSON.parse(text) as Record<string, unknown>[])
        : text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      const events = objs.map((o) => flattenEvent(o, v.names));
      v.sink.write(batchOfEvents(v.ds, events, { snapshot: b.snapshot, lost: Number(b.lost) }));
    },
    async end() {
      for (const v of views.values()) await v.sink.end();
    },
  };
}

interface DataSourceMsg { name: string; kind: string; fields_json: string }
interface BatchMsg { datasource: string; json: Buffer; lost: number | string; snapshot: boolean }
interface Msg {
  node: string;
  datasource?: DataSourceMsg;
  batch?: BatchMsg;
  notice?: string;
  done?: { exit_code: number; error: string; hint: string };
}
interface GadgetInfoMsg {
  reference: string;
  description: string;
  params: { key: string; kind: string; default: string; description: string; choices: string[] }[];
  datasources: DataSourceMsg[];
}
