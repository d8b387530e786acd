import fs from 'node:fs';

/** Inode of /proc/PID/ns/mnt (the mount namespace id BPF programs see), or undefined if the process is gone. */
export function mntnsOf(pid: number | 'self'): bigint | undefined {
  try {
    return fs.statSync(`/proc/${pid}/ns/mnt`, { bigint: true }).ino;
  } catch {
    return undefined;
  }
}

/** Inode of /proc/PID/ns/net, or undefined if the process is gone. */
export function netnsOf(pid: number | 'self'): number | undefined {
  try {
    return Number(fs.statSync(`/proc/${pid}/ns/net`, { bigint: true }).ino);
  } catch {
    return undefined;
  }
}

/** The host's namespaces (of pid 1, falling back to ours). */
export function hostNamespaces(): { mntns: bigint | undefined; netns: number | undefined } {
  return { mntns: mntnsOf(1) ?? mntnsOf('self'), netns: netnsOf(1) ?? netnsOf('self') };
}
