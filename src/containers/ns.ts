import fs from 'node:fs';
import { hostProc } from './host.js';

const procOf = (pid: number | 'self') => (pid === 'self' ? '/proc/self' : hostProc(pid));

/** Inode of /proc/PID/ns/mnt (the mount namespace id BPF programs see), or undefined if the process is gone. */
export function mntnsOf(pid: number | 'self'): bigint | undefined {
  try {
    return fs.statSync(`${procOf(pid)}/ns/mnt`, { bigint: true }).ino;
  } catch {
    return undefined;
  }
}

/** Inode of /proc/PID/ns/net, or undefined if the process is gone. */
export function netnsOf(pid: number | 'self'): number | undefined {
  try {
    return Number(fs.statSync(`${procOf(pid)}/ns/net`, { bigint: true }).ino);
  } catch {
    return undefined;
  }
}

/** Inode of /proc/PID/ns/pid (the pid namespace id gadget/pidns.h reads), or undefined if the process is gone. */
export function pidnsOf(pid: number | 'self'): number | undefined {
  try {
    return Number(fs.statSync(`${procOf(pid)}/ns/pid`, { bigint: true }).ino);
  } catch {
    return undefined;
  }
}

/** The host's namespaces (of pid 1, falling back to ours). */
export function hostNamespaces(): { mntns: bigint | undefined; netns: number | undefined; pidns: number | undefined } {
  return { mntns: mntnsOf(1) ?? mntnsOf('self'), netns: netnsOf(1) ?? netnsOf('self'), pidns: pidnsOf(1) ?? pidnsOf('self') };
}

let bootTimeSec: number | undefined;

/** When a process started (RFC 3339), from /proc/PID/stat and the boot time; '' if unknown. */
export function processStartedAt(pid: number): string {
  try {
    if (bootTimeSec === undefined) {
      const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
      bootTimeSec = m ? Number(m[1]) : 0;
    }
    if (!bootTimeSec) return '';
    const stat = fs.readFileSync(`${hostProc(pid)}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // field 22 (starttime), counted from field 3
    if (!Number.isFinite(ticks)) return '';
    return new Date(bootTimeSec * 1000 + (ticks * 1000) / 100).toISOString(); // USER_HZ is 100 on Linux
  } catch {
    return '';
  }
}
