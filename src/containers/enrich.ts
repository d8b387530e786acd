import os from 'node:os';
import type { FieldDesc } from '../gadget/datasource.js';
import type { ContainerInfo } from './types.js';

/** The node name put in `k8s.node`: $NODE_NAME, else the host name. */
export function nodeName(): string {
  return process.env.NODE_NAME || os.hostname();
}

/** Pod labels as "k=v,k2=v2", sorted by key. */
export function labelsString(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/**
 * Set the enrichment fields on one event. `c` undefined means the event came
 * from outside any known container: strings are '', the pid is 0.
 */
export function enrich(event: Record<string, unknown>, c: ContainerInfo | undefined, node: string): void {
  const k = c?.k8s;
  event['k8s.node'] = node;
  event['k8s.namespace'] = k?.namespace ?? '';
  event['k8s.podName'] = k?.podName ?? '';
  event['k8s.containerName'] = k?.containerName ?? '';
  event['k8s.podLabels'] = labelsString(k?.podLabels);
  event['k8s.owner.kind'] = k?.ownerKind ?? '';
  event['k8s.owner.name'] = k?.ownerName ?? '';
  event['runtime.containerName'] = c?.name ?? '';
  event['runtime.runtimeName'] = c?.runtime ?? '';
  event['runtime.containerId'] = c?.id ?? '';
  event['runtime.containerPid'] = c?.pid ?? 0;
  event['runtime.containerImageName'] = c?.imageName ?? '';
  event['runtime.containerImageDigest'] = c?.imageDigest ?? '';
  event['runtime.containerStartedAt'] = c?.startedAt ?? '';
}

interface Def {
  name: string;
  kind: FieldDesc['kind'];
  width: number;
  /** shown by default in its group (k8s.* when pods exist, runtime.* otherwise) */
  shown: boolean;
  description: string;
  alignment?: 'left' | 'right';
}

const K8S: Def[] = [
  { name: 'k8s.node', kind: 'string', width: 30, shown: false, description: 'Kubernetes node (or host) name' },
  { name: 'k8s.namespace', kind: 'string', width: 30, shown: true, description: 'Kubernetes namespace of the pod' },
  { name: 'k8s.podName', kind: 'string', width: 30, shown: true, description: 'Kubernetes pod name' },
  { name: 'k8s.containerName', kind: 'string', width: 30, shown: true, description: 'Kubernetes container name' },
  { name: 'k8s.podLabels', kind: 'string', width: 30, shown: false, description: 'pod labels as k=v,k2=v2' },
  { name: 'k8s.owner.kind', kind: 'string', width: 16, shown: false, description: "kind of the pod's owner (from its labels)" },
  { name: 'k8s.owner.name', kind: 'string', width: 30, shown: false, description: "name of the pod's owner" },
];
const RUNTIME: Def[] = [
  { name: 'runtime.containerName', kind: 'string', width: 30, shown: true, description: 'container name given by the runtime' },
  { name: 'runtime.runtimeName', kind: 'string', width: 19, shown: false, description: 'container runtime (containerd, cri-o, podman, docker)' },
  { name: 'runtime.containerId', kind: 'string', width: 13, shown: false, description: 'container id' },
  { name: 'runtime.containerPid', kind: 'number', width: 7, shown: false, description: "host pid of the container's first process", alignment: 'right' },
  { name: 'runtime.containerImageName', kind: 'string', width: 30, shown: false, description: 'container image name' },
  { name: 'runtime.containerImageDigest', kind: 'string', width: 30, shown: false, description: 'container image digest' },
  { name: 'runtime.containerStartedAt', kind: 'string', width: 25, shown: false, description: 'when the container started (RFC 3339)' },
];

/** Names of all enrichment fields, in order. */
export const ENRICHMENT_FIELD_NAMES: readonly string[] = [...K8S, ...RUNTIME].map((d) => d.name);

/**
 * Field descriptions for the enrichment fields. With Kubernetes pods on the node
 * the k8s.* group shows (namespace, pod, container) and runtime.* hides;
 * without, runtime.containerName shows and k8s.* hides. All stay selectable with --fields.
 */
export function enrichmentFields(hasK8s: boolean): FieldDesc[] {
  const mk = (d: Def, groupShown: boolean): FieldDesc => ({
    name: d.name,
    kind: d.kind,
    width: d.width,
    alignment: d.alignment ?? 'left',
    ellipsis: 'end',
    hidden: !(groupShown && d.shown),
    description: d.description,
    tags: ['enrichment', d.name.startsWith('k8s.') ? 'kubernetes' : 'runtime'],
  });
  return [...K8S.map((d) => mk(d, hasK8s)), ...RUNTIME.map((d) => mk(d, !hasK8s))];
}
