/**
 * Where "per container" programs attach, as IG's Attacher does: socket filters get a raw socket in
 * each target's network namespace, IG's `classifier/<dir>/*` a tc filter on each of a container's
 * interfaces (inside its namespace, so the direction is the container's own), uprobes the library
 * each target's root file system resolves the name to. A target is the host or a container; the
 * containers operator says which (the selection, kept current), the host alone otherwise.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Attachment as NativeAttachment, AttachmentOptions, BpfObject } from '../../../native/index.js';
import { native } from '../native.js';
import { ProgType } from '../../model/kernel.js';
import { TailCallTarget } from './dispatcher.js';
import { guardTcFilter } from './tc-guard.js';
import { attachUprobe, UprobeLookups, type UprobePlan } from './uprobe.js';
import type { AttachPlan } from '../sections.js';
import type { AttachTarget } from './types.js';

export type { AttachTarget } from './types.js';

// pid read when used: module-level values are fixed at build time in the start-up snapshot (src/snapshot/)
export const HOST_TARGET: AttachTarget = { id: 'host', get pid() { return process.pid; }, host: true, name: 'the host' };

interface Attached { detach(): void }

/** One program's per-target attachments. */
interface PerTarget {
  prog: string;
  plan: AttachPlan;
  tail?: TailCallTarget;
  /** attachment key (netns, interface, file) → attachment and the targets using it */
  by: Map<string, { a: Attached; users: Set<string> }>;
}

function netnsOf(pid: number): number {
  return statSync(`/proc/${pid}/ns/net`).ino;
}

/** Interfaces of a process's network namespace, loopback left out. */
function interfacesOf(pid: number): string[] {
  const text = readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  return text.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter((n) => n && n !== 'lo');
}

export class TargetAttacher {
  private readonly progs: PerTarget[] = [];
  private current = new Map<string, AttachTarget>();

  constructor(
    private readonly obj: BpfObject,
    plans: { prog: string; plan: AttachPlan }[],
    /** classifiers: the host's interfaces (--iface); never all of them */
    private readonly hostIfaces: string[],
    private readonly warn: (text: string) => void,
  ) {
    for (const { prog, plan } of plans) {
      let tail: TailCallTarget | undefined;
      if (plan.kind === 'socket') tail = new TailCallTarget(ProgType.SOCKET_FILTER, obj.programFd(prog), prog);
      if (plan.kind === 'classifier') tail = new TailCallTarget(ProgType.SCHED_CLS, obj.programFd(prog), prog);
      this.progs.push({ prog, plan, tail, by: new Map() });
    }
  }

  get empty(): boolean {
    return this.progs.length === 0;
  }

  /** Attach to new targets, release what targets that went away held. */
  set(targets: AttachTarget[]): void {
    const next = new Map(targets.map((t) => [t.id, t]));
    for (const [id] of this.current) if (!next.has(id)) this.release(id);
    for (const [id, t] of next) if (!this.current.has(id)) this.attachTarget(t);
    this.current = next;
  }

  private attachTarget(t: AttachTarget): void {
    const lookups = new UprobeLookups();
    for (const p of this.progs) {
      try {
        for (const [key, make] of this.plan(p, t, lookups)) {
          const have = p.by.get(key);
          if (have) {
            have.users.add(t.id);
            continue;
          }
          p.by.set(key, { a: make(), users: new Set([t.id]) });
        }
      } catch (err) {
        this.warn(`program ${p.prog}: not attached to ${t.name}: ${(err as Error).message}`);
      }
    }
  }

  /** The attachments a program needs for one target: key → how to make it. */
  private plan(p: PerTarget, t: AttachTarget, lookups: UprobeLookups): [string, () => Attached][] {
    const plan = p.plan;
    const nsPath = t.host ? undefined : `/proc/${t.pid}/ns/net`;
    if (plan.kind === 'socket') {
      const ns = netnsOf(t.pid);
      return [[`netns:${ns}`, () => this.viaDispatcher(p.tail!, ns, { kind: 'socket', netnsPath: nsPath })]];
    }
    if (plan.kind === 'classifier') {
      const ns = netnsOf(t.pid);
      const ifaces = t.host ? this.hostIfaces : interfacesOf(t.pid);
      return ifaces.map((ifname) => [`${ns}/${ifname}`, () => this.viaDispatcher(p.tail!, ns, { kind: 'tc', ifname, direction: plan.direction, netnsPath: nsPath })]);
    }
    if (plan.kind === 'uprobe') return attachUprobe(this.obj, p.prog, plan as UprobePlan, t, lookups);
    return [];
  }

  private viaDispatcher(tail: TailCallTarget, netns: number, opts: Omit<AttachmentOptions, 'progFd'>): Attached {
    const n = native();
    const fd = tail.dispatcher(netns);
    let a: NativeAttachment;
    try {
      a = new n.Attachment({ ...opts, progFd: fd });
    } finally {
      n.closeFd(fd); // the attachment holds the program
    }
    if (opts.kind !== 'tc') return a;
    // a tc filter outlives a killed ig: the guard deletes it then
    const unguard = guardTcFilter({ netnsPath: opts.netnsPath, ifindex: a.ifindex, direction: opts.direction!, handle: a.tcHandle, priority: a.tcPriority });
    return {
      detach: () => {
        try {
          a.detach();
        } finally {
          unguard();
        }
      },
    };
  }

  private release(id: string): void {
    for (const p of this.progs) {
      for (const [key, e] of p.by) {
        if (!e.users.delete(id) || e.users.size) continue;
        p.by.delete(key);
        try {
          e.a.detach();
        } catch (err) {
          this.warn(`program ${p.prog}: detaching ${key}: ${(err as Error).message}`);
        }
      }
    }
  }

  /** How many attachments each program has (a program with none sees nothing). */
  counts(): Map<string, number> {
    return new Map(this.progs.map((p) => [p.prog, p.by.size]));
  }

  close(): void {
    for (const id of [...this.current.keys()]) this.release(id);
    this.current.clear();
    for (const p of this.progs) p.tail?.close();
  }
}
