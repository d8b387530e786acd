/**
 * The client side of headless instances: create (`ig run --detach`), list, delete on one or
 * more daemons. Attaching goes through runRemote (client.ts) with AttachInstance as its call.
 */
import * as grpc from '@grpc/grpc-js';
import { IgError } from '../errors.js';
import { callError, connect, type RemoteRun } from './client.js';
import type { ServiceClient, TlsFiles } from './proto.js';
import type { RunRequestMsg } from './request.js';

export interface InstanceInfo {
  id: string;
  name: string;
  tags: string[];
  image: string;
  created_unix_ms: number;
  status: string;
  message: string;
  node: string;
  params: Record<string, string>;
}

/** One unary call on one daemon, its error as `ig run` would show it. */
function unary<T>(address: string, tls: TlsFiles, method: string, req: unknown): Promise<T> {
  const client = connect(address, tls);
  return new Promise<T>((resolve, reject) => {
    client[method](req, (err: grpc.ServiceError | null, res: T) => {
      client.close();
      if (err) reject(callError(address, err));
      else resolve(res);
    });
  });
}

/** Per daemon, in order: what it answered, or its error (named by address when there are several). */
async function onEach<T>(addresses: string[], call: (address: string) => Promise<T>): Promise<{ address: string; value?: T; error?: IgError }[]> {
  return Promise.all(addresses.map((address) => call(address).then(
    (value) => ({ address, value }),
    (e: IgError) => ({ address, error: addresses.length > 1 ? new IgError(e.code, `${address}: ${e.message}`, { hint: e.hint, exitCode: e.exitCode }) : e }),
  )));
}

export function createInstances(addresses: string[], tls: TlsFiles, run: RunRequestMsg, name: string, tags: string[]) {
  return onEach(addresses, (a) => unary<InstanceInfo>(a, tls, 'CreateInstance', { run, name, tags }));
}

export function listInstances(addresses: string[], tls: TlsFiles) {
  return onEach(addresses, (a) => unary<{ instances: InstanceInfo[] }>(a, tls, 'ListInstances', {}).then((r) => r.instances));
}

export function deleteInstances(addresses: string[], tls: TlsFiles, instance: string) {
  return onEach(addresses, (a) => unary<InstanceInfo>(a, tls, 'DeleteInstance', { instance }));
}

/** The call runRemote makes to attach to `instance`. */
export function attachCall(instance: string, replay: boolean): NonNullable<RemoteRun['open']> {
  return (c: ServiceClient) => c.AttachInstance({ instance, replay }) as grpc.ClientReadableStream<unknown>;
}
