/**
 * What the node agent may read from the API server, and nothing more (test/unit/k8s-manifests
 * pins this list). Each rule is there for one lookup of src/containers/k8s-api.ts:
 *   pods        list, watch  the pods of its own node (field selector spec.nodeName): labels, owner
 *   namespaces  get          a pod's namespace labels, fetched once per namespace and cached
 *   replicasets get          a ReplicaSet owner's own owner (the Deployment behind a pod)
 *   jobs        get          a Job owner's own owner (the CronJob behind a pod)
 * No secrets, no configmaps, no writes: gadget images come from registries (pull secrets are the
 * node's business), and runs arrive over the agent's socket, not through API objects.
 */
import type { V1PolicyRule } from '@kubernetes/client-node';

export const AGENT_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
];
