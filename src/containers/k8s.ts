import type { ContainerInfo } from './types.js';

/** Kubernetes metadata from CRI labels and annotations (no API server needed). */

/** Labels kubelet adds to sandboxes for its own bookkeeping; not the user's pod labels. */
const INTERNAL_LABEL = /^io\.kubernetes\.(pod\.(name|namespace|uid)|container\.(name|hash|restartCount))$|^io\.kubernetes\.docker\.type$/;

export function podLabelsFrom(sandboxLabels: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(sandboxLabels ?? {})) if (!INTERNAL_LABEL.test(k)) out[k] = v;
  return out;
}

function trimSuffix(name: string, re: RegExp): string {
  const m = re.exec(name);
  return m ? name.slice(0, m.index) : name;
}

/**
 * The pod's owner, as far as labels and annotations tell: controllers stamp their
 * pods with well-known labels (`pod-template-hash`, `controller-revision-hash`,
 * `job-name`), static pods carry `kubernetes.io/config.source`. Unknown: empty.
 */
export function ownerOf(podName: string, labels: Record<string, string>, annotations: Record<string, string> = {}): { kind: string; name: string } {
  const explicitKind = annotations['ig.owner.kind'] ?? labels['ig.owner.kind'];
  const explicitName = annotations['ig.owner.name'] ?? labels['ig.owner.name'];
  if (explicitKind && explicitName) return { kind: explicitKind, name: explicitName };
  const job = labels['batch.kubernetes.io/job-name'] ?? labels['job-name'];
  if (job) return { kind: 'Job', name: job };
  const hash = labels['pod-template-hash'];
  if (hash) {
    // <deployment>-<hash>-<random5>: the ReplicaSet is <deployment>-<hash>
    const rs = trimSuffix(podName, /-[a-z0-9]{5}$/);
    return { kind: 'ReplicaSet', name: rs };
  }
  if (labels['statefulset.kubernetes.io/pod-name']) return { kind: 'StatefulSet', name: trimSuffix(podName, /-\d+$/) };
  if (labels['controller-revision-hash']) {
    if (labels['pod-template-generation'] !== undefined) return { kind: 'DaemonSet', name: trimSuffix(podName, /-[a-z0-9]{5}$/) };
    return { kind: 'StatefulSet', name: trimSuffix(podName, /-\d+$/) };
  }
  const source = annotations['kubernetes.io/config.source'];
  if (source && source !== 'api') {
    // static pod: <name>-<nodename>, owned by the Node
    return { kind: 'Node', name: '' };
  }
  return { kind: '', name: '' };
}

/**
 * Pod metadata from a container's own labels, as kubelet stamps them (docker and
 * containerd's native API have no sandbox to ask): undefined for a non-Kubernetes container.
 */
export function k8sFromContainerLabels(labels: Record<string, string>): ContainerInfo['k8s'] {
  const podName = labels['io.kubernetes.pod.name'];
  if (!podName) return undefined;
  const owner = ownerOf(podName, labels);
  return {
    namespace: labels['io.kubernetes.pod.namespace'] ?? '',
    podName,
    podUid: labels['io.kubernetes.pod.uid'] ?? '',
    containerName: labels['io.kubernetes.container.name'] ?? '',
    podLabels: {},
    ownerKind: owner.kind,
    ownerName: owner.name,
  };
}
