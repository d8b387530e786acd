/**
 * Which cluster ig talks to: the user's kubeconfig ($KUBECONFIG, else ~/.kube/config, as kubectl
 * reads it) or, inside a pod, the in-cluster ServiceAccount. @kubernetes/client-node (large: about
 * 100 ms to load) is imported only once one of them exists, so commands that never touch a cluster
 * do not pay for it.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { IgError } from '../errors.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where the cluster config would come from, without loading anything; undefined when there is none. */
export function kubeConfigSource(env: NodeJS.ProcessEnv = process.env, kubeconfig?: string): string | undefined {
  if (kubeconfig) return kubeconfig;
  const files = (env.KUBECONFIG ?? '').split(path.delimiter).filter((f) => f !== '');
  if (files.length) return files.join(path.delimiter);
  const home = path.join(env.HOME || os.homedir(), '.kube', 'config');
  if (existsSync(home)) return home;
  if (env.KUBERNETES_SERVICE_HOST && existsSync(path.join(SA_DIR, 'token'))) return 'in-cluster';
  return undefined;
}

export interface KubeAccessOptions { kubeconfig?: string; context?: string }

/** Load the cluster config, or a clear error saying where it was looked for. */
export async function loadKubeConfig(o: KubeAccessOptions = {}): Promise<KubeConfig> {
  const source = kubeConfigSource(process.env, o.kubeconfig);
  if (!source) {
    throw new IgError('kubernetes', 'no Kubernetes cluster is configured: KUBECONFIG is not set, ~/.kube/config does not exist and this is not a pod', {
      hint: 'point KUBECONFIG (or --kubeconfig) at the cluster, or print the manifests with --print-only',
    });
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    if (source === 'in-cluster') kc.loadFromCluster();
    else if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new IgError('kubernetes', `cannot read the Kubernetes config ${source}: ${(e as Error).message}`, { hint: 'check the file with `kubectl config view`' });
  }
  if (o.context) {
    if (!kc.getContextObject(o.context)) {
      throw new IgError('usage', `context "${o.context}" is not in ${source}`, { hint: `choose one of: ${kc.getContexts().map((c) => c.name).join(', ')}` });
    }
    kc.setCurrentContext(o.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new IgError('kubernetes', `${source} names no current cluster`, { hint: 'set one with `kubectl config use-context NAME` or pass --context' });
  }
  return kc;
}

/** An API error as one line: the status code and the server's own message. */
export function apiError(what: string, e: unknown): IgError {
  const err = e as { code?: number; body?: unknown; message?: string };
  let detail = err.message ?? String(e);
  if (typeof err.body === 'string') {
    try {
      detail = (JSON.parse(err.body) as { message?: string }).message ?? detail;
    } catch {
      /* not JSON: keep the message */
    }
  } else if (err.body && typeof err.body === 'object' && 'message' in err.body) {
    detail = String((err.body as { message: unknown }).message);
  }
  const code = typeof err.code === 'number' ? err.code : undefined;
  const hint =
    code === 401 ? 'the credentials in your kubeconfig were refused; log in to the cluster again'
    : code === 403 ? 'your user lacks the RBAC permission named above; ask a cluster admin, or apply the --print-only output with an account that has it'
    : code === undefined ? 'check that the API server in your kubeconfig is reachable (kubectl cluster-info)'
    : undefined;
  return new IgError('kubernetes', `${what}: ${code ? `${code} ` : ''}${detail.split('\n')[0]}`, { hint, cause: e });
}
