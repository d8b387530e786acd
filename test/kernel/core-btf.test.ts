// The minimal CO-RE BTF (src/runtime/core-btf-cache.ts, native/src/core_relo.c) against the real
// kernel: for every gadget of the catalog, either the addon says why the object keeps the whole
// kernel BTF, or the object loaded with the minimal BTF has exactly the instructions it has when
// libbpf relocates it against /sys/kernel/btf/vmlinux (map fds aside), and iterators attach to
// the same kernel types without libbpf reading that BTF. Needs root and the built-in gadgets in
// the store (scripts/setup.sh --test).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { native as loadAddon } from '../../src/runtime/native.js';
import { getGadgetImage } from '../../src/oci/image.js';
import { sectionInfo } from '../../src/runtime/sections.js';
import { MapType } from '../../src/model/kernel.js';
import { SOCKETS_MAP, SocketEnricher, socketEnricherBtf } from '../../src/runtime/socket-enricher/index.js';
import { repoRoot, runIg } from '../helpers/ig.js';
import { compileBpf } from '../helpers/bpf-compile.js';

const native = loadAddon();
const catalog = readdirSync(path.join(repoRoot, 'gadgets')).filter((n) => statSync(path.join(repoRoot, 'gadgets', n)).isDirectory());

/** ld_imm64 of a map fd or map value: the fd differs per load, not per relocation */
function maskMapFds(insns: Buffer): Buffer {
  const c = Buffer.from(insns);
  for (let i = 0; i + 16 <= c.length; i += 8) {
    if (c[i] !== 0x18) continue;
    const src = c[i + 1]! >> 4;
    if (src === 1 || src === 2) c.writeInt32LE(0, i + 4);
    i += 8;
  }
  return c;
}

interface Loaded {
  /** each program's instructions, map fds masked */
  insns: Record<string, Buffer>;
  /** each program's attach BTF id (tracing programs) and the BTF object's id (vmlinux's for iterators) */
  attach: Record<string, [number, number]>;
  /** libbpf used the attach ids given instead of reading the kernel's whole BTF */
  preset: boolean;
}

/** Every program once libbpf has loaded the object (or the load error). */
function loadedInsns(elf: Buffer, opts?: { btfCustom?: Buffer; btfCustomPath?: string; attachBtfIds?: Record<string, number> }): Loaded | string {
  const o = new native.BpfObject(elf, 'corebtf', opts);
  try {
    for (const p of o.programs()) {
      const fix = sectionInfo(p).fixType;
      if (fix) o.setProgramType(p.name, fix.type, fix.expectedAttachType);
    }
    for (const m of o.maps()) {
      if (m.name === SOCKETS_MAP) o.setMapValueSize(m.name, SocketEnricher.valueSize);
      if (m.type === MapType.RINGBUF) {
        o.setMapKeySize(m.name, 0);
        o.setMapValueSize(m.name, 0);
      } else if (m.type === MapType.PERF_EVENT_ARRAY) {
        o.setMapKeySize(m.name, 4);
        o.setMapValueSize(m.name, 4);
      }
    }
    let preset: boolean;
    try {
      preset = o.load();
    } catch (err) {
      return (err as Error).message;
    }
    const kernel = new Map(native.bpfPrograms().map((p) => [p.id, p]));
    const attach = Object.fromEntries(o.programs().map((p) => {
      const k = kernel.get(o.programId(p.name))!;
      return [p.name, [k.attachBtfId, k.attachBtfObjId] as [number, number]];
    }));
    return { insns: Object.fromEntries(o.programs().map((p) => [p.name, maskMapFds(o.programInsns(p.name))])), attach, preset };
  } finally {
    o.close();
  }
}

describe('minimal CO-RE BTF', () => {
  it('relocates every catalog gadget exactly as the whole kernel BTF does, or says why it cannot be used', async () => {
    const outcome: Record<string, string> = {};
    for (const name of catalog) {
      const elf = (await getGadgetImage(name, 'never')).ebpf;
      if (!elf) continue;
      let m = native.coreBtfMinimal(elf);
      // gadgets reading the socket enricher's struct relocate against the kernel's BTF plus that struct
      const target = m.reason?.includes('gadget_socket_value') ? socketEnricherBtf() : undefined;
      if (target) m = native.coreBtfMinimal(elf, target);
      if (!m.btf) {
        outcome[name] = `whole: ${m.reason}`;
        continue;
      }
      // the check a cached copy gets: the same results, from the bytes alone
      expect(native.coreBtfResults(elf, m.btf).results?.equals(m.results), name).toBe(true);
      const full = loadedInsns(elf, target ? { btfCustomPath: target } : undefined);
      const small = loadedInsns(elf, { btfCustom: m.btf, attachBtfIds: m.iterators });
      const iterators = Object.keys(m.iterators).length;
      if (typeof full !== 'string' && typeof small !== 'string') {
        expect(small.insns, name).toEqual(full.insns);
        expect(small.attach, name).toEqual(full.attach);
        expect(full.preset).toBe(false);
        // the attach ids given replaced libbpf's search of the whole BTF
        expect(small.preset, name).toBe(iterators > 0);
      } else {
        expect(small, name).toEqual(full);
      }
      outcome[name] = `${typeof full === 'string' ? `minimal, both loads failed alike: ${full}` : `minimal (${m.btf.length} B)`}${target ? ' of the enricher target' : ''}${iterators ? `, ${iterators} iterators` : ''}`;
    }
    // the catalog's tracers relocate against a few types; iterators too, with their attach ids
    if (process.env.IG_DEBUG) console.log(outcome);
    expect(outcome.trace_open, JSON.stringify(outcome, null, 1)).toMatch(/^minimal \(\d+ B\)$/);
    expect(outcome.trace_exec).toMatch(/^minimal \(\d+ B\)$/);
    // a type-matches relocation (bpf_core_type_matches): whole types are copied
    expect(outcome.profile_blockio).toMatch(/^minimal \(\d+ B\)$/);
    expect(outcome.trace_tcpdrop).toMatch(/^minimal \(\d+ B\) of the enricher target$/);
    expect(outcome.snapshot_process).toMatch(/^minimal \(\d+ B\), 1 iterators$/);
    expect(outcome.snapshot_socket).toMatch(/^minimal \(\d+ B\), 2 iterators$/);
    // a typed kernel symbol (bpf_map_fops) is still looked up in the whole BTF by libbpf
    expect(outcome.snapshot_file).toBe("whole: its .ksyms externs make libbpf read the kernel's whole BTF anyway");
  }, 120_000);

  it('leaves objects with kernel symbols (.ksyms) to the whole BTF, which libbpf reads for them anyway', async () => {
    const { bytes } = await compileBpf(String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
extern const struct rq runqueues __ksym;
SEC("tracepoint/syscalls/sys_enter_getcwd")
int with_ksym(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	bpf_printk("%d %p", BPF_CORE_READ(t, tgid), &runqueues);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`);
    expect(native.coreBtfMinimal(bytes).reason).toBe("its .ksyms externs make libbpf read the kernel's whole BTF anyway");
  });

  it('leaves iterators libbpf cannot be given an id for, and BTF-attached tracing, to the whole BTF', async () => {
    const src = (sections: string[]) => String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
` + sections.map((sec, i) => String.raw`
SEC("${sec}")
int prog${i}(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	bpf_printk("%d", BPF_CORE_READ(t, tgid));
	return 0;
}
`).join('') + 'char LICENSE[] SEC("license") = "GPL";\n';
    // an iterator target this kernel's own BTF does not have (a module's, or none at all)
    const unknown = await compileBpf(src(['iter/task', 'iter/no_such_target']));
    expect(native.coreBtfMinimal(unknown.bytes).reason).toBe("iterator iter/no_such_target: bpf_iter_no_such_target is not in the kernel's own BTF (a module's iterator?)");
    // a tracing program beside an iterator: libbpf reads the whole BTF for it anyway
    const traced = await compileBpf(src(['iter/task', 'tp_btf/sched_switch']));
    expect(native.coreBtfMinimal(traced.bytes).reason).toBe("section tp_btf/sched_switch makes libbpf read the kernel's whole BTF anyway");
    // and the iterator alone gets its id
    const alone = await compileBpf(src(['iter/task']));
    expect(Object.keys(native.coreBtfMinimal(alone.bytes).iterators ?? {})).toEqual(['iter/task']);
  });

  it('refuses a BTF that lacks a type the relocations need, and garbage', async () => {
    const elf = (await getGadgetImage('trace_open', 'never')).ebpf!;
    const sock = (await getGadgetImage('trace_dns', 'never')).ebpf!;
    const other = native.coreBtfMinimal(sock);
    // a minimal BTF made for another object: trace_open's types are not all in it
    const r = other.btf ? native.coreBtfResults(elf, other.btf) : { reason: 'trace_dns has no minimal BTF' };
    expect(r.results).toBeUndefined();
    expect(r.reason).toMatch(/candidates|minimal BTF/);
    expect(native.coreBtfResults(elf, Buffer.from('not BTF at all')).reason).toMatch(/cannot parse the BTF/);
  });
});

describe('snapshotters with the minimal BTF and cached iterator attach ids', () => {
  /** `ig run` with its own cache folder ('off': the kernel's whole BTF, as libbpf does by default) */
  const run = (cache: string, args: string[]) => runIg(['run', ...args, '-o', 'json'], { env: { ...process.env, IG_CACHE_DIR: cache, IG_DEBUG: '1' } });
  const rows = (stdout: string) => stdout.split('\n').filter((l) => l !== '').flatMap((l) => JSON.parse(l) as Record<string, unknown>[]);

  it('print the same rows as with the whole BTF, from the cache too', async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'ig-corebtf-'));
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    const server = net.createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const src = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      const proc = ['snapshot_process'];
      const sock = ['snapshot_socket', '--fields', 'proto,src,dst,state,uid'];
      for (const args of [proc, sock]) {
        const whole = await run('off', args);
        const computed = await run(cache, args);
        const cached = await run(cache, args);
        for (const r of [whole, computed, cached]) expect(r.code, r.stderr).toBe(0);
        expect(whole.stderr).toMatch(/CO-RE BTF: whole kernel BTF/);
        expect(computed.stderr).toMatch(/CO-RE BTF: minimal BTF computed \(.*iterator attach ids?;/);
        expect(cached.stderr).toMatch(/CO-RE BTF: minimal BTF from the cache \(.*iterator attach ids?\)/);
        const mine = (r: { stdout: string }) => rows(r.stdout).filter((x) => x.pid === sleeper.pid || x.src === src);
        expect(mine(whole), whole.stdout.slice(0, 2000)).toHaveLength(1);
        expect(mine(computed)).toEqual(mine(whole));
        expect(mine(cached)).toEqual(mine(whole));
      }
    } finally {
      sleeper.kill();
      server.close();
      rmSync(cache, { recursive: true, force: true });
    }
  }, 60_000);
});
