/**
 * The node's own files when ig runs in a container: the agent's pod mounts the host's /run and
 * /proc under $HOST_ROOT (`/host`, as Inspektor Gadget's DaemonSet does), so the container
 * runtime sockets and other processes' /proc entries are read there. Without HOST_ROOT (ig on
 * the host) paths are used as they are.
 */
import path from 'node:path';

export function onHost(p: string, env: NodeJS.ProcessEnv = process.env): string {
  const root = env.HOST_ROOT;
  return root && root !== '/' ? path.join(root, p) : p;
}

/** /proc of the host's PID namespace, for other processes' entries (`/proc/self` stays ours). */
export function hostProc(pid: number | string): string {
  return onHost(`/proc/${pid}`);
}
