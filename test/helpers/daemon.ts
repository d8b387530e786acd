import type { ChildProcess, SpawnOptions } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { spawnIg } from './ig.js';
import { waitFor } from './kernel.js';
import { gadgetService } from '../../src/service/proto.js';

export interface TestDaemon {
  proc: ChildProcess;
  /** the first address it listens on, and all of them */
  address: string;
  addresses: string[];
  stderr(): string;
  /** SIGTERM and wait for the exit */
  stop(): Promise<number | null>;
}

/** Start `ig daemon ARGS` and wait until it says where it listens (every -H). */
export async function startTestDaemon(args: string[], opts: SpawnOptions & { node?: string } = {}): Promise<TestDaemon> {
  const { node = 'test-node', ...spawnOpts } = opts;
  const proc = spawnIg(['daemon', ...args], { ...spawnOpts, env: { ...(spawnOpts.env ?? process.env), NODE_NAME: node } });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const wanted = args.filter((a, i) => args[i - 1] === '-H' || args[i - 1] === '--host').length || 1;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const addresses = await Promise.race([
    waitFor(() => {
      const all = [...err.matchAll(/listening on (\S+)/g)].map((m) => m[1]!);
      return all.length >= wanted ? all : undefined;
    }, 15_000, `ig daemon ${args.join(' ')}`),
    exited.then((code) => {
      throw new Error(`ig daemon exited (${code}) before listening:\n${err}`);
    }),
  ]);
  return {
    proc, address: addresses[0]!, addresses, stderr: () => err,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** A raw gRPC client of spec/ig.proto (no CLI in between), for tests of what the daemon itself enforces. */
export function rawClient(address: string): grpc.Client & Record<string, (...a: unknown[]) => unknown> {
  const target = address.startsWith('tcp://') ? address.slice(6) : address;
  return new (gadgetService().GadgetService)(target, grpc.credentials.createInsecure()) as never;
}

export function unaryCall<T>(c: ReturnType<typeof rawClient>, method: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => (c[method] as (r: unknown, cb: (e: grpc.ServiceError | null, v: T) => void) => void)(req, (e, v) => (e ? reject(e) : resolve(v))));
}

export interface StreamResult { messages: Record<string, unknown>[]; done?: { exit_code: number; error: string; hint: string } }

/** Read a server stream to its end (or until `until` says so, then cancel). */
export function readStream(call: grpc.ClientReadableStream<Record<string, unknown>>, until?: (m: Record<string, unknown>) => boolean): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const messages: Record<string, unknown>[] = [];
    let done: StreamResult['done'];
    call.on('data', (m: Record<string, unknown>) => {
      messages.push(m);
      if (m.done) done = m.done as StreamResult['done'];
      if (until?.(m)) call.cancel();
    });
    call.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? resolve({ messages, done }) : reject(e)));
    call.on('end', () => resolve({ messages, done }));
  });
}
