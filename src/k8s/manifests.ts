/**
 * The objects `ig deploy` creates (and `--print-only` prints): a namespace, the agent's
 * ServiceAccount, its read-only ClusterRole and binding, and a DaemonSet running `ig daemon` on
 * every Linux node. Pure data built from options, so the same objects feed the API server, the
 * YAML printer, the schema validation test and the podman test that starts the image "as the pod
 * spec says".
 */
import type {
  KubernetesObject, V1ClusterRole, V1ClusterRoleBinding, V1Container, V1DaemonSet, V1Namespace, V1PodSpec,
  V1ResourceRequirements, V1ServiceAccount, V1Toleration, V1Volume, V1VolumeMount,
} from '@kubernetes/client-node';
import { IgError } from '../errors.js';
import { AGENT_RULES } from './rbac.js';

export const DEFAULT_NAMESPACE = 'ig';
/** Name of the ServiceAccount, ClusterRole, ClusterRoleBinding and DaemonSet. */
export const AGENT_NAME = 'ig-agent';
/** Labels selecting the agent's pods (the DaemonSet's selector; `ig run --k8s` finds agents by them). */
export const AGENT_SELECTOR: Record<string, string> = { 'app.kubernetes.io/name': 'ig', 'app.kubernetes.io/component': 'agent' };
/** Marks what ig deploy made, so ig undeploy deletes a namespace only when it is ours. */
export const MANAGED_BY: Record<string, string> = { 'app.kubernetes.io/managed-by': 'ig' };

/** Where the agent serves its gRPC API inside the pod; the folder is a hostPath, so node-local clients reach it too. */
export const AGENT_SOCKET = '/run/ig/ig.socket';
const DEFAULT_HOST_SOCKET_DIR = '/run/ig-agent';
/** Probes only. */
export const HEALTH_PORT = 8081;
/**
 * The agent's second gRPC listener, on the pod's loopback (IG's GadgetServicePort): only
 * port-forward through the API server (`ig run --k8s`) and the pod itself reach it, so it is
 * plain TCP (--tls-insecure); who may port-forward is the cluster's RBAC (pods/portforward).
 */
export const AGENT_GRPC_PORT = 8080;

/**
 * Capabilities instead of `privileged` (measured on kernel 6.18 with podman, each removed in turn):
 *   BPF        load programs, create maps (bpf() without CAP_SYS_ADMIN)
 *   PERFMON    tracing programs, tracepoint and perf-event attachment, perf buffers
 *   SYS_PTRACE read other processes' /proc/PID/ns/* (mount namespace → container enrichment)
 *   SYS_ADMIN  setns() into a container's network namespace (snapshot_socket's iter/tcp per pod)
 * Drop SYS_ADMIN with --capabilities BPF,PERFMON,SYS_PTRACE where no network-namespace gadget runs.
 */
const AGENT_CAPABILITIES = ['BPF', 'PERFMON', 'SYS_PTRACE', 'SYS_ADMIN'];

export interface AgentManifestOptions {
  image: string;
  namespace?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  capabilities?: string[];
  /** node labels the agent's pods are restricted to (besides kubernetes.io/os=linux) */
  nodeSelector?: Record<string, string>;
  /** Unconfined (default), RuntimeDefault, or Localhost/<profile> */
  seccompProfile?: string;
  /** host folder for the agent's API socket (default /run/ig-agent) */
  hostSocketDir?: string;
  version?: string;
}

/**
 * No CPU limit: a throttled consumer loses events, and one agent per node is the only tenant of
 * its work. Memory is bounded: the daemon drops whole batches for a slow client rather than grow.
 */
const AGENT_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '100m', memory: '256Mi' },
  limits: { memory: '1Gi' },
};

/** On every node, control planes and tainted nodes included: a node without its agent is a blind spot. */
const AGENT_TOLERATIONS: V1Toleration[] = [
  { operator: 'Exists', effect: 'NoSchedule' },
  { operator: 'Exists', effect: 'NoExecute' },
];

const CAPABILITY = /^[A-Z][A-Z_]*$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function checkOptions(o: AgentManifestOptions): void {
  if (!o.image || /\s/.test(o.image)) {
    throw new IgError('usage', `invalid agent image "${o.image ?? ''}"`, {
      hint: 'pass --image REGISTRY/ig:TAG: build it with `npm run build:image` and push it where the nodes can pull it',
    });
  }
  if (o.namespace !== undefined && !DNS_LABEL.test(o.namespace)) {
    throw new IgError('usage', `invalid namespace "${o.namespace}"`, { hint: 'a namespace is a DNS label: lowercase letters, digits and "-", at most 63' });
  }
  for (const c of o.capabilities ?? []) {
    if (!CAPABILITY.test(c) || c.startsWith('CAP_')) {
      throw new IgError('usage', `invalid capability "${c}"`, { hint: `name capabilities the Kubernetes way, without CAP_: ${AGENT_CAPABILITIES.join(',')}` });
    }
  }
  for (const [k, v] of Object.entries(o.nodeSelector ?? {})) {
    if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(v)) {
      throw new IgError('usage', `invalid node selector "${k}=${v}"`, { hint: 'use --node-selector key=value[,key=value]' });
    }
  }
  const sp = o.seccompProfile;
  if (sp !== undefined && !['Unconfined', 'RuntimeDefault'].includes(sp) && !/^Localhost\/\S+$/.test(sp)) {
    throw new IgError('usage', `invalid seccomp profile "${sp}"`, { hint: 'use Unconfined, RuntimeDefault or Localhost/PATH' });
  }
  if (o.hostSocketDir !== undefined && !o.hostSocketDir.startsWith('/')) {
    throw new IgError('usage', `the agent socket folder "${o.hostSocketDir}" is not an absolute path`);
  }
}

interface Mount { name: string; hostPath?: string; type?: string; mountPath: string; readOnly?: boolean; emptyDir?: true }

/**
 * The pod's view of its node. Runtime sockets (containerd, cri-o, podman, docker all live under
 * /run) and /proc are read under HOST_ROOT=/host, read-only; tracefs, debugfs and bpffs where
 * libbpf looks for them; the API socket's folder shared with the node; the image store and the
 * unpacked executable's files in an emptyDir, since the root file system is read-only.
 */
function mounts(hostSocketDir: string): Mount[] {
  return [
    { name: 'host-run', hostPath: '/run', mountPath: '/host/run', readOnly: true },
    { name: 'host-proc', hostPath: '/proc', mountPath: '/host/proc', readOnly: true },
    { name: 'tracefs', hostPath: '/sys/kernel/tracing', mountPath: '/sys/kernel/tracing' },
    { name: 'debugfs', hostPath: '/sys/kernel/debug', mountPath: '/sys/kernel/debug' },
    { name: 'bpffs', hostPath: '/sys/fs/bpf', mountPath: '/sys/fs/bpf' },
    { name: 'socket', hostPath: hostSocketDir, type: 'DirectoryOrCreate', mountPath: AGENT_SOCKET.slice(0, AGENT_SOCKET.lastIndexOf('/')) },
    { name: 'state', emptyDir: true, mountPath: '/var/lib/ig' },
    { name: 'tmp', emptyDir: true, mountPath: '/tmp' },
  ];
}

function seccomp(profile: string): { type: string; localhostProfile?: string } {
  if (profile.startsWith('Localhost/')) return { type: 'Localhost', localhostProfile: profile.slice('Localhost/'.length) };
  return { type: profile };
}

function agentContainer(o: AgentManifestOptions): V1Container {
  const ms = mounts(o.hostSocketDir ?? DEFAULT_HOST_SOCKET_DIR);
  return {
    name: 'agent',
    image: o.image,
    imagePullPolicy: o.imagePullPolicy ?? 'Always',
    args: ['daemon', '--host', `unix://${AGENT_SOCKET}`, '--host', `tcp://127.0.0.1:${AGENT_GRPC_PORT}`, '--tls-insecure', '--health-listen', `:${HEALTH_PORT}`],
    env: [
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'HOST_ROOT', value: '/host' },
      { name: 'IG_OCI_STORE', value: '/var/lib/ig/oci-store' },
      { name: 'IG_CACHE_DIR', value: '/var/lib/ig/cache' },
    ],
    ports: [{ name: 'health', containerPort: HEALTH_PORT, protocol: 'TCP' }],
    livenessProbe: { httpGet: { path: '/healthz', port: 'health' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: '/readyz', port: 'health' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
    resources: AGENT_RESOURCES,
    securityContext: {
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsUser: 0,
      capabilities: { drop: ['ALL'], add: o.capabilities ?? AGENT_CAPABILITIES },
      // RuntimeDefault profiles (podman's, and containerd's on older releases) allow bpf() only
      // with CAP_SYS_ADMIN; the capability set above is the boundary instead.
      seccompProfile: seccomp(o.seccompProfile ?? 'Unconfined'),
      // Container AppArmor profiles forbid writing tracefs (kprobe_events) and /sys/fs/bpf.
      appArmorProfile: { type: 'Unconfined' },
    },
    volumeMounts: ms.map((m): V1VolumeMount => ({ name: m.name, mountPath: m.mountPath, ...(m.readOnly ? { readOnly: true } : {}) })),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

function agentPodSpec(o: AgentManifestOptions): V1PodSpec {
  const volumes = mounts(o.hostSocketDir ?? DEFAULT_HOST_SOCKET_DIR).map(
    (m): V1Volume => (m.emptyDir ? { name: m.name, emptyDir: {} } : { name: m.name, hostPath: { path: m.hostPath!, ...(m.type ? { type: m.type } : {}) } }),
  );
  return {
    serviceAccountName: AGENT_NAME,
    hostPID: true, // the kernel reports host pids; the agent must resolve them in /proc
    terminationGracePeriodSeconds: 30, // SIGTERM: end the runs, detach and close every program and map
    nodeSelector: { 'kubernetes.io/os': 'linux', ...(o.nodeSelector ?? {}) },
    tolerations: AGENT_TOLERATIONS,
    containers: [agentContainer(o)],
    volumes,
  };
}

function meta(name: string, o: AgentManifestOptions, namespaced: boolean) {
  const labels = { ...AGENT_SELECTOR, ...MANAGED_BY, ...(o.version ? { 'app.kubernetes.io/version': o.version } : {}) };
  return namespaced ? { name, namespace: o.namespace ?? DEFAULT_NAMESPACE, labels } : { name, labels };
}

export interface AgentManifests {
  namespace: V1Namespace;
  serviceAccount: V1ServiceAccount;
  clusterRole: V1ClusterRole;
  clusterRoleBinding: V1ClusterRoleBinding;
  daemonSet: V1DaemonSet;
}

export function agentManifests(o: AgentManifestOptions): AgentManifests {
  checkOptions(o);
  const ns = o.namespace ?? DEFAULT_NAMESPACE;
  return {
    namespace: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: ns,
        labels: {
          ...MANAGED_BY,
          // hostPID, hostPath and added capabilities are beyond the baseline Pod Security level
          'pod-security.kubernetes.io/enforce': 'privileged',
        },
      },
    },
    serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(AGENT_NAME, o, true) },
    clusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(AGENT_NAME, o, false), rules: AGENT_RULES },
    clusterRoleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(AGENT_NAME, o, false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: AGENT_NAME },
      subjects: [{ kind: 'ServiceAccount', name: AGENT_NAME, namespace: ns }],
    },
    daemonSet: {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta(AGENT_NAME, o, true),
      spec: {
        selector: { matchLabels: AGENT_SELECTOR },
        // 10 % of the nodes at a time: a 1,000-node rollout in tens of steps, not a thousand
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
        template: { metadata: { labels: { ...AGENT_SELECTOR } }, spec: agentPodSpec(o) },
      },
    },
  };
}

/** In the order they are applied (and the reverse of deletion). */
export function manifestList(m: AgentManifests): KubernetesObject[] {
  return [m.namespace, m.serviceAccount, m.clusterRole, m.clusterRoleBinding, m.daemonSet];
}

/** The objects deploy makes in `namespace`, by kind and name only (what undeploy deletes). */
export function agentObjectRefs(namespace = DEFAULT_NAMESPACE): KubernetesObject[] {
  return manifestList(agentManifests({ image: 'unused', namespace })).map((o) => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: o.metadata!.name, ...(o.metadata!.namespace ? { namespace: o.metadata!.namespace } : {}) },
  }));
}
