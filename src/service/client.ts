import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { IgError } from '../errors.js';
import { gadgetService, grpcTarget, type ServiceClient, type TlsFiles } from './proto.js';
import { LostCounter } from '../operators/lost.js';
import { sinkFor } from '../cli/run/sinks.js';
import { blockingStdoutPipe } from '../output/stdout.js';
import type { Sink } from '../output/sink.js';
import type { FieldDesc } from '../gadget/datasource.js';

/** Flags that shape the client's side only; everything else goes to the nodes. */
const CLIENT_ONLY = new Set(['--remote-address', '-o', '--output', '--tls-cert-file', '--tls-key-file', '--tls-ca-file']);

/** Drop client-only flags (and their values) from the argv sent to the nodes. */
export function nodeArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const flag = a.split('=')[0];
    if (CLIENT_ONLY.has(flag)) {
      if (!a.includes('=')) i++; // its value
      continue;
    }
    out.push(a);
  }
  return out;
}

export function credentials(tls: TlsFiles): grpc.ChannelCredentials {
  if (!tls.ca && !tls.cert) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    tls.ca ? readFileSync(tls.ca) : null,
    tls.key ? readFileSync(tls.key) : null,
    tls.cert ? readFileSync(tls.cert) : null,
  );
}

export interface RemoteRun {
  addresses: string[];
  image: string;
  args: string[];
  output: string;
  fields?: string;
  tls: TlsFiles;
  stop: AbortSignal;
}

/**
 * Run a gadget on every node and print one merged view: each datasource gets one
 * local sink (made from the first node's field list), and events carry their
 * node in `k8s.node`. A node that fails is reported by name; the others go on.
 */
export async function runRemote(r: RemoteRun): Promise<void> {
  blockingStdoutPipe();
  const lost = new LostCounter({ stream: process.stderr });
  const sinks = new Map<string, Sink>();
  const errors: IgError[] = [];
  const multi = r.addresses.length > 1;
  const calls: grpc.ClientReadableStream<Msg>[] = [];
  const clients: ServiceClient[] = [];

  const one = (address: string) =>
    new Promise<void>((resolve) => {
      const client = new (gadgetService().GadgetService)(grpcTarget(address), credentials(r.tls)) as ServiceClient;
      clients.push(client);
      const call = client.RunGadget({ image: r.image, args: r.args }) as grpc.ClientReadableStream<Msg>;
      calls.push(call);
      const prefix = (node: string) => (multi ? `[${node || address}] ` : '');
      call.on('data', (m: Msg) => {
        if (m.datasource && !sinks.has(m.datasource.name)) {
          const fields = JSON.parse(m.datasource.fields_json) as FieldDesc[];
          sinks.set(m.datasource.name, sinkFor(r.output, fields, lost, r.fields));
        } else if (m.batch) {
          const sink = sinks.get(m.batch.datasource);
          lost.add(Number(m.batch.lost));
          sink?.write({ datasource: m.batch.datasource, events: JSON.parse(m.batch.events_json), snapshot: m.batch.snapshot });
        } else if (m.notice) {
          process.stderr.write(prefix(m.node) + m.notice);
        } else if (m.done && m.done.exit_code !== 0) {
          errors.push(new IgError('usage', `${multi ? `node ${m.node || address}: ` : ''}${m.done.error}`, { hint: m.done.hint || undefined, exitCode: m.done.exit_code }));
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        if (!(r.stop.aborted && err.code === grpc.status.CANCELLED)) {
          errors.push(new IgError('registry', `cannot run on the ig daemon at ${address}: ${err.details || err.message}`, {
            hint: 'is `ig daemon` running there, and does --remote-address name its socket or port?',
          }));
        }
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
    for (const s of sinks.values()) await s.end();
    lost.reportTotal(process.stderr);
    clients.forEach((c) => c.close());
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new IgError('usage', errors.map((e) => e.message).join('\n'), { hint: errors[0].hint });
}

interface Msg {
  node: string;
  datasource?: { name: string; kind: string; fields_json: string };
  batch?: { datasource: string; events_json: string; lost: number; snapshot: boolean };
  notice?: string;
  done?: { exit_code: number; error: string; hint: string };
}
