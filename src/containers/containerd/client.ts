/**
 * containerd's native API (tasks, containers, images) for namespaces other than
 * the CRI's "k8s.io". Requests carry the namespace in the `containerd-namespace` header.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../paths.js';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';


function protoDir(): string {
  const d = path.join(packageRoot, 'src', 'containers', 'containerd');
  if (!fs.existsSync(path.join(d, 'tasks.proto'))) throw new Error(`containerd .proto files not found in ${d}`);
  return d;
}

type Ctor = grpc.ServiceClientConstructor;
let ctors: { Tasks: Ctor; Containers: Ctor; Images: Ctor } | undefined;
function load() {
  if (ctors) return ctors;
  const d = protoDir();
  const def = protoLoader.loadSync(['tasks.proto', 'containers.proto', 'images.proto'].map((f) => path.join(d, f)), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    containerd: { services: Record<string, { v1: Record<string, Ctor> }> };
  };
  const s = pkg.containerd.services;
  ctors = { Tasks: s.tasks!.v1.Tasks!, Containers: s.containers!.v1.Containers!, Images: s.images!.v1.Images! };
  return ctors;
}

export interface NativeTask { container_id: string; id: string; pid: number; status: string }
export interface NativeContainer { id: string; labels: Record<string, string>; image: string; created_at: { seconds: string; nanos: number } | null }

export class ContainerdClient {
  private readonly tasks: grpc.Client;
  private readonly containers: grpc.Client;
  private readonly images: grpc.Client;
  private readonly clients: grpc.Client[];

  constructor(readonly socket: string, readonly namespace: string, private readonly timeoutMs = 3000) {
    const c = load();
    const target = `unix://${socket}`;
    const creds = grpc.credentials.createInsecure();
    const opts = { 'grpc.enable_retries': 0, 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000 };
    this.tasks = new c.Tasks(target, creds, opts);
    // share the channel
    this.containers = new c.Containers(target, creds, { ...opts, channelOverride: this.tasks.getChannel() });
    this.images = new c.Images(target, creds, { ...opts, channelOverride: this.tasks.getChannel() });
    this.clients = [this.tasks, this.containers, this.images];
  }

  private call<T>(client: grpc.Client, method: string, req: object): Promise<T> {
    const md = new grpc.Metadata();
    md.set('containerd-namespace', this.namespace);
    return new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Function>)[method]!;
      fn.call(client, req, md, { deadline: Date.now() + this.timeoutMs }, (err: grpc.ServiceError | null, res: T) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  async listTasks(): Promise<NativeTask[]> {
    return (await this.call<{ tasks: NativeTask[] }>(this.tasks, 'List', {})).tasks ?? [];
  }

  async listContainers(): Promise<NativeContainer[]> {
    return (await this.call<{ containers: NativeContainer[] }>(this.containers, 'List', {})).containers ?? [];
  }

  /** manifest (or index) digest of an image by name; '' when unknown */
  async imageDigest(name: string): Promise<string> {
    try {
      const r = await this.call<{ image: { target: { digest: string } | null } | null }>(this.images, 'Get', { name });
      return r.image?.target?.digest ?? '';
    } catch {
      return '';
    }
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
