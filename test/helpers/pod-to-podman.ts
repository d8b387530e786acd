/**
 * `podman run` arguments from a pod spec, so a test starts the agent image exactly as the
 * DaemonSet says (same mounts, capabilities, PID namespace, seccomp, env, read-only root, stop
 * grace). What a kubelet adds and podman cannot express is refused loudly rather than dropped:
 * only the translations below exist. Two things differ by necessity, and are named here:
 *   - the pod network becomes `--network none` (a private network namespace with loopback; there
 *     is no CNI here), so the health port is reached from inside that namespace (nsenter);
 *   - requests have no podman meaning (they are for the scheduler); limits become --memory/--cpus.
 * hostPath(p) lets a test stand in for one node folder (the test's podman keeps its API socket
 * in a temp "/run"); every other host path is used as is.
 */
import fs from 'node:fs';
import type { V1PodSpec } from '@kubernetes/client-node';

export interface PodmanTranslation {
  name: string;
  /** what the downward API's spec.nodeName gives */
  nodeName: string;
  /** the folder that backs an emptyDir volume */
  emptyDir(volume: string): string;
  hostPath?(p: string): string;
}

function quantity(q: string): string {
  const m = /^(\d+)(Mi|Gi|Ki)?$/.exec(q);
  if (!m) throw new Error(`memory quantity "${q}" has no podman translation here`);
  return `${m[1]}${{ Ki: 'k', Mi: 'm', Gi: 'g' }[m[2] as 'Ki'] ?? 'b'}`;
}

export function podmanRunArgs(pod: V1PodSpec, t: PodmanTranslation): { args: string[]; image: string } {
  if (pod.containers.length !== 1 || pod.initContainers?.length) throw new Error('only single-container pods translate');
  const c = pod.containers[0]!;
  const args = ['run', '-d', '--name', t.name];
  args.push('--network', pod.hostNetwork ? 'host' : 'none');
  if (pod.hostPID) args.push('--pid', 'host');
  if (pod.terminationGracePeriodSeconds !== undefined) args.push('--stop-timeout', String(pod.terminationGracePeriodSeconds));

  const sc = c.securityContext ?? {};
  if (sc.privileged) args.push('--privileged');
  if (sc.runAsUser !== undefined) args.push('--user', String(sc.runAsUser));
  // Kubernetes mounts no tmpfs of its own on a read-only root; podman would on /run, /tmp, /var/tmp.
  if (sc.readOnlyRootFilesystem) args.push('--read-only', '--read-only-tmpfs=false');
  for (const cap of sc.capabilities?.drop ?? []) args.push('--cap-drop', cap);
  for (const cap of sc.capabilities?.add ?? []) args.push('--cap-add', cap);
  const seccomp = sc.seccompProfile ?? pod.securityContext?.seccompProfile;
  if (seccomp?.type === 'Unconfined') args.push('--security-opt', 'seccomp=unconfined');
  else if (seccomp?.type === 'Localhost') args.push('--security-opt', `seccomp=${seccomp.localhostProfile}`);
  if (sc.appArmorProfile?.type === 'Unconfined') args.push('--security-opt', 'apparmor=unconfined');

  for (const e of c.env ?? []) {
    if (e.value !== undefined) args.push('--env', `${e.name}=${e.value}`);
    else if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName') args.push('--env', `${e.name}=${t.nodeName}`);
    else throw new Error(`env ${e.name}: only values and spec.nodeName translate`);
  }

  for (const m of c.volumeMounts ?? []) {
    const v = pod.volumes?.find((x) => x.name === m.name);
    if (!v) throw new Error(`volumeMount ${m.name} has no volume`);
    let source: string;
    if (v.hostPath) {
      source = t.hostPath?.(v.hostPath.path) ?? v.hostPath.path;
      if (v.hostPath.type === 'DirectoryOrCreate') fs.mkdirSync(source, { recursive: true, mode: 0o755 });
      else if (!fs.existsSync(source)) throw new Error(`hostPath ${source} does not exist (kubelet would not start the pod)`);
    } else if (v.emptyDir) {
      source = t.emptyDir(v.name);
      fs.mkdirSync(source, { recursive: true });
    } else {
      throw new Error(`volume ${v.name}: only hostPath and emptyDir translate`);
    }
    args.push('--volume', `${source}:${m.mountPath}${m.readOnly ? ':ro' : ''}`);
  }

  const limits = c.resources?.limits ?? {};
  if (limits.memory) args.push('--memory', quantity(limits.memory));
  if (limits.cpu) args.push('--cpus', String(limits.cpu).endsWith('m') ? String(parseInt(limits.cpu, 10) / 1000) : String(limits.cpu));
  if (c.command) args.push('--entrypoint', JSON.stringify(c.command));
  args.push(c.image!, ...(c.args ?? []));
  return { args, image: c.image! };
}
