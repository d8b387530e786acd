/**
 * IG's socket enricher, for gadgets with IG's `gadget_sockets` map (gadget/sockets-map.h): the
 * map is filled with the owner of every local TCP/UDP socket (process, parent, mount namespace,
 * credentials) by ig's own eBPF object (native/bpf/socket_enricher.bpf.c), which shares the
 * gadget's map. Sockets gone for two sweeps (2 s apart) are removed, so a packet still in flight
 * after its socket closed is enriched, as IG's deferred deletion does.
 *
 * The gadget reads `struct gadget_socket_value` with preserve_access_index: its CO-RE relocations
 * resolve against this kernel's BTF plus the enricher's struct, written once per boot
 * (socketEnricherBtf) and handed to libbpf as btf_custom_path, as IG passes its enricher's BTF as
 * an extra relocation target.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BpfObject } from '../../../native/index.js';
import type { GadgetSpec } from '../../gadget/spec.js';
import { IgError } from '../../errors.js';
import { native } from '../native.js';
import { ensureTracefs } from '../tracefs.js';

export const SOCKETS_MAP = 'gadget_sockets';
const SEEN_MAP = 'ig_se_seen';
const KEY_SIZE = 12;
const SWEEP_MS = 2000;

/** The enricher's value (IG's gadget_socket_value with cwd=512, exepath=512, its defaults). */
const VALUE = {
  name: 'gadget_socket_value',
  size: 1112,
  members: [
    { name: 'mntns', offset: 0, size: 8 }, { name: 'pid_tgid', offset: 8, size: 8 }, { name: 'uid_gid', offset: 16, size: 8 },
    { name: 'task', offset: 24, size: 16, nelems: 16 }, { name: 'ptask', offset: 40, size: 16, nelems: 16 },
    { name: 'sock', offset: 56, size: 8 }, { name: 'deletion_timestamp', offset: 64, size: 8 },
    { name: 'ppid', offset: 72, size: 4 }, { name: 'ptid', offset: 76, size: 4 }, { name: 'ipv6only', offset: 80, size: 1 },
    { name: 'optional_fields_start', offset: 88, size: 0, nelems: 0 },
    { name: 'cwd', offset: 88, size: 512, nelems: 512 }, { name: 'exepath', offset: 600, size: 512, nelems: 512 },
  ],
};

export function usesSocketEnricher(spec: GadgetSpec): boolean {
  return spec.maps.some((m) => m.name === SOCKETS_MAP && !m.internal);
}

/** This kernel's BTF plus the enricher's value struct, as a file for libbpf (written once per boot). */
export function socketEnricherBtf(): string {
  let boot = 'boot';
  try {
    boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // no boot id: one file per machine then
  }
  const dir = path.join(os.tmpdir(), 'ig-btf');
  const file = path.join(dir, `vmlinux+socket-enricher-v1-${boot}.btf`);
  if (existsSync(file)) return file;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    native().writeVmlinuxBtfWith(file, VALUE);
  } catch (err) {
    throw new IgError('kernel', `cannot prepare the socket enricher's BTF (${(err as Error).message})`, {
      hint: 'the gadget reads gadget_socket_value, whose CO-RE target needs this kernel\'s BTF (/sys/kernel/btf/vmlinux) and a writable temp folder',
      cause: err,
    });
  }
  return file;
}

export class SocketEnricher {
  static readonly valueSize = VALUE.size;
  private timer?: NodeJS.Timeout;
  private generation = 1;

  private constructor(private readonly obj: BpfObject, private readonly warn: (t: string) => void) {}

  /** Load the enricher over the gadget's map, fill it with the sockets that exist, keep it current. */
  static start(gadgetMapFd: number, warn: (t: string) => void): SocketEnricher {
    const n = native();
    const obj = new n.BpfObject(n.socketEnricherObject(), 'ig_sockets');
    try {
      obj.reuseMapFd(SOCKETS_MAP, gadgetMapFd);
      obj.load();
      ensureTracefs();
      for (const p of obj.programs()) if (!p.section.startsWith('iter/')) obj.attach(p.name);
    } catch (err) {
      obj.close();
      throw new IgError('kernel', `the socket enricher (filling ${SOCKETS_MAP}) cannot run: ${(err as Error).message.split('\n')[0]}`, {
        hint: 'it needs tp_btf programs, the syscalls tracepoints and iter/task_file; IG_LIBBPF_DEBUG=1 shows libbpf\'s view',
        cause: err,
      });
    }
    const se = new SocketEnricher(obj, warn);
    se.sweep();
    se.timer = setInterval(() => se.sweep(), SWEEP_MS);
    se.timer.unref();
    return se;
  }

  /** Walk every process's sockets, then drop those not seen in this sweep nor the previous one. */
  private sweep(): void {
    try {
      this.generation++;
      const bss = Buffer.alloc(8);
      bss.writeBigUInt64LE(BigInt(this.generation));
      native().mapUpdate(this.obj.mapFd('.bss'), Buffer.alloc(4), bss, 0);
      this.obj.readIter('ig_se_iter');
      const seen = this.obj.mapFd(SEEN_MAP);
      const sockets = this.obj.mapFd(SOCKETS_MAP);
      const { keys, values, count } = native().mapDump(seen, KEY_SIZE, 8);
      for (let i = 0; i < count; i++) {
        if (Number(values.readBigUInt64LE(i * 8)) >= this.generation - 1) continue;
        const k = keys.subarray(i * KEY_SIZE, (i + 1) * KEY_SIZE);
        native().mapDelete(sockets, k);
        native().mapDelete(seen, k);
      }
    } catch (err) {
      this.warn(`socket enricher: ${(err as Error).message}`);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.obj.close();
  }
}
