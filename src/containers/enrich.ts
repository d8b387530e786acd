import os from 'node:os';
import type { FieldDesc } from '../model/field.js';
import type { ContainerInfo } from './types.js';

/** The node name put in `k8s.node`: $NODE_NAME, else the host name. */
export function nodeName(): string {
  return process.env.NODE_NAME || os.hostname();
}

/** Pod labels as "k=v,k2=v2", sorted by key. */
function labelsString(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

type C = ContainerInfo | undefined;

interface Def {
  name: string;
  kind: FieldDesc['kind'];
  width: number;
  /** shown by default in its group (k8s.* when pods exist, runtime.* otherwise) */
  shown: boolean;
  description: string;
  alignment?: 'left' | 'right';
  /** the value for an event of container `c` (undefined: outside any known container) */
  get: (c: C, node: string) => string | number;
}

const K8S: Def[] = [
  { name: 'k8s.node', kind: 'string', width: 30, shown: false, description: 'Kubernetes node (or host) name', get: (_c, node) => node },
  { name: 'k8s.namespace', kind: 'string', width: 30, shown: true, description: 'Kubernetes namespace of the pod', get: (c) => c?.k8s?.namespace ?? '' },
  { name: 'k8s.podName', kind: 'string', width: 30, shown: true, description: 'Kubernetes pod name', get: (c) => c?.k8s?.podName ?? '' },
  { name: 'k8s.containerName', kind: 'string', width: 30, shown: true, description: 'Kubernetes container name', get: (c) => c?.k8s?.containerName ?? '' },
  { name: 'k8s.podLabels', kind: 'string', width: 30, shown: false, description: 'pod labels as k=v,k2=v2', get: (c) => labelsString(c?.k8s?.podLabels) },
  { name: 'k8s.owner.kind', kind: 'string', width: 16, shown: false, description: "kind of the pod's owner (from its labels)", get: (c) => c?.k8s?.ownerKind ?? '' },
  { name: 'k8s.owner.name', kind: 'string', width: 30, shown: false, description: "name of the pod's owner", get: (c) => c?.k8s?.ownerName ?? '' },
];
const RUNTIME: Def[] = [
  { name: 'runtime.containerName', kind: 'string', width: 30, shown: true, description: 'container name given by the runtime', get: (c) => c?.name ?? '' },
  { name: 'runtime.runtimeName', kind: 'string', width: 19, shown: false, description: 'container runtime (containerd, cri-o, podman, docker)', get: (c) => c?.runtime ?? '' },
  { name: 'runtime.containerId', kind: 'string', width: 13, shown: false, description: 'container id', get: (c) => c?.id ?? '' },
  { name: 'runtime.containerPid', kind: 'number', width: 7, shown: false, description: "host pid of the container's first process", alignment: 'right', get: (c) => c?.pid ?? 0 },
  { name: 'runtime.containerImageName', kind: 'string', width: 30, shown: false, description: 'container image name', get: (c) => c?.imageName ?? '' },
  { name: 'runtime.containerImageDigest', kind: 'string', width: 30, shown: false, description: 'container image digest', get: (c) => c?.imageDigest ?? '' },
  { name: 'runtime.containerStartedAt', kind: 'string', width: 25, shown: false, description: 'when the container started (RFC 3339)', get: (c) => c?.startedAt ?? '' },
];

/** Each enrichment field's value for an event of container `c` (undefined: outside any known container). */
export const ENRICHMENT_VALUES: ReadonlyMap<string, (c: C, node: string) => string | number> = new Map([...K8S, ...RUNTIME].map((d) => [d.name, d.get]));

/**
 * Set the enrichment fields on one event object. `c` undefined means the event came from
 * outside any known container: strings are '', the pid is 0.
 */
export function enrich(event: Record<string, unknown>, c: C, node: string): void {
  for (const [name, get] of ENRICHMENT_VALUES) event[name] = get(c, node);
}

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
