/**
 * A small client for the Kubernetes CRI RuntimeService (containerd, cri-o) over
 * its unix socket. The service definition is the vendored `api.proto` beside
 * this file (loaded at run time with @grpc/proto-loader).
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../paths.js';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';


/** api.proto lives in src/, wherever the compiled module runs from. */
function criProtoPath(): string {
  const p = path.join(packageRoot, 'src', 'containers', 'cri', 'api.proto');
  if (!fs.existsSync(p)) throw new Error(`CRI api.proto not found at ${p}`);
  return p;
}

let cachedCtor: grpc.ServiceClientConstructor | undefined;
function runtimeServiceCtor(): grpc.ServiceClientConstructor {
  if (cachedCtor) return cachedCtor;
  const def = protoLoader.loadSync(criProtoPath(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } } };
  cachedCtor = pkg.runtime.v1.RuntimeService;
  return cachedCtor;
}

// The subset of CRI messages ig reads (snake_case, as in api.proto).
interface CriMetadata { name: string; uid?: string; namespace?: string; attempt?: number }
export interface CriPodSandbox {
  id: string;
  metadata: CriMetadata;
  state: string;
  created_at: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface CriContainer {
  id: string;
  pod_sandbox_id: string;
  metadata: CriMetadata;
  image: { image: string } | null;
  image_ref: string;
  state: string;
  created_at: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface CriContainerStatus {
  id: string;
  metadata: CriMetadata;
  state: string;
  created_at: string;
  started_at: string;
  image: { image: string } | null;
  image_ref: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export class CriClient {
  private readonly client: grpc.Client;
  constructor(readonly socket: string, private readonly timeoutMs = 3000) {
    const Ctor = runtimeServiceCtor();
    this.client = new Ctor(`unix://${socket}`, grpc.credentials.createInsecure(), {
      'grpc.enable_retries': 0,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
  }

  /** Call any RuntimeService method by name (unary) with a deadline. */
  call<T>(method: string, req: object, timeoutMs = this.timeoutMs): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = (this.client as unknown as Record<string, Function>)[method];
      if (typeof fn !== 'function') return reject(new Error(`CRI has no method ${method}`));
      fn.call(this.client, req, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: T) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  version(): Promise<{ runtime_name: string; runtime_version: string; runtime_api_version: string }> {
    return this.call('Version', { version: 'v1' });
  }

  async listPodSandbox(): Promise<CriPodSandbox[]> {
    const r = await this.call<{ items: CriPodSandbox[] }>('ListPodSandbox', {});
    return r.items ?? [];
  }

  async podSandboxStatus(id: string): Promise<{ status: CriPodSandbox; info: Record<string, string> }> {
    return this.call('PodSandboxStatus', { pod_sandbox_id: id, verbose: false });
  }

  async listRunningContainers(): Promise<CriContainer[]> {
    const r = await this.call<{ containers: CriContainer[] }>('ListContainers', {
      filter: { state: { state: 'CONTAINER_RUNNING' } },
    });
    return r.containers ?? [];
  }

  /** Status with the verbose `info` (containerd puts the task pid in info.info). */
  async containerStatus(id: string): Promise<{ status: CriContainerStatus; pid: number }> {
    const r = await this.call<{ status: CriContainerStatus; info: Record<string, string> }>('ContainerStatus', {
      container_id: id,
      verbose: true,
    });
    let pid = 0;
    const raw = r.info?.info;
    if (raw) {
      try {
        const j = JSON.parse(raw) as { pid?: number };
        if (typeof j.pid === 'number') pid = j.pid;
      } catch {
        /* not JSON: leave pid 0 */
      }
    }
    // cri-o puts pid at the top level of info
    if (!pid && r.info?.pid) pid = Number(r.info.pid) || 0;
    return { status: r.status, pid };
  }

  /**
   * GetContainerEvents stream (containerd >= 1.7, cri-o); `onEnd` gets the error
   * (code 12 UNIMPLEMENTED on containerd 1.6). Returns a cancel function.
   */
  containerEvents(onEvent: () => void, onEnd: (err: grpc.ServiceError | undefined) => void): () => void {
    const fn = (this.client as unknown as Record<string, Function>).GetContainerEvents;
    const stream = fn!.call(this.client, {}) as grpc.ClientReadableStream<unknown>;
    let ended = false;
    const end = (e?: grpc.ServiceError) => {
      if (ended) return;
      ended = true;
      onEnd(e);
    };
    stream.on('data', () => onEvent());
    stream.on('error', (e: grpc.ServiceError) => end(e));
    stream.on('end', () => end());
    return () => {
      ended = true;
      stream.cancel();
    };
  }

  close(): void {
    this.client.close();
  }
}
