import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { IgError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { FramedMessage, sendFramedAsIs } from './grpc-framed.js';

/** spec/ig.proto, the API we promise, loaded as is (no generated code to keep in step). */
const PROTO = path.join(packageRoot, 'spec', 'ig.proto');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ServiceClient = grpc.Client & Record<string, any>;

let pkg: { GadgetService: grpc.ServiceClientConstructor } | undefined;

export function gadgetService(): { GadgetService: grpc.ServiceClientConstructor } {
  if (!pkg) {
    const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
    pkg = (grpc.loadPackageDefinition(def) as unknown as { ig: { v1: { GadgetService: grpc.ServiceClientConstructor } } }).ig.v1;
  }
  return pkg;
}

/**
 * GadgetService as the daemon serves it: a streamed message it framed itself (the hand-encoded
 * batches of batch-frames.ts) is sent as it is; any other goes through protobufjs.
 */
export function servedGadgetService(): grpc.ServiceDefinition {
  sendFramedAsIs();
  const svc = gadgetService().GadgetService.service;
  const raw = (m: grpc.MethodDefinition<unknown, unknown>): grpc.MethodDefinition<unknown, unknown> => ({
    ...m,
    responseSerialize: (v: unknown) => (v instanceof FramedMessage ? v.message : m.responseSerialize(v)),
  });
  return { ...svc, RunGadget: raw(svc.RunGadget!), AttachInstance: raw(svc.AttachInstance!) };
}

/**
 * `unix:///run/ig.sock`, `tcp://10.0.0.1:7000` or `host:port` → a grpc-js target.
 * Other schemes are refused with the forms we take.
 */
export function grpcTarget(address: string): string {
  const a = address.trim();
  if (a.startsWith('unix://')) return `unix://${a.slice('unix://'.length)}`;
  if (a.startsWith('tcp://')) return a.slice('tcp://'.length);
  if (/^[^/:]+:\d+$/.test(a) || /^\[[0-9a-fA-F:]+\]:\d+$/.test(a)) return a;
  throw new IgError('usage', `"${address}" is not a daemon address`, { hint: 'use unix:///path/to/ig.socket or tcp://HOST:PORT' });
}

export interface TlsFiles { cert?: string; key?: string; ca?: string }
