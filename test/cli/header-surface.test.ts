// IG's gadget-header surface as ig provides it (spec/ig-header-surface.md): our own gadgets, built with
// `ig image build` against bpf/include, one per header group. Where this kernel runs the program, the
// events a test caused are checked field by field against what the test computes itself (stat of the
// traced binary, the pids it spawned); networking and GPU-bridge gadgets, which ig cannot attach yet, are
// built and their objects inspected.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonLines, runIg, repoRoot } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith, uptimeNs } from '../helpers/run-with.js';
import { getcwdTrigger } from '../helpers/getcwd.js';
import { compileBpf } from '../helpers/bpf-compile.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-surface-'));
const trigger = getcwdTrigger(work, 'igsurfpwd');
const exe = path.join(work, 'igsurfpwd');

beforeAll(async () => {
  await buildGadget('test/gadgets/header_surface', 'header_surface', env);
}, 120_000);
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** FNV-1a 32 over the 4 little-endian bytes of a u32, as fnv_32a_update_u32() feeds them. */
function fnv1a32(v: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < 4; i++) {
    h ^= (v >>> (8 * i)) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

type Ev = Record<string, any>;

async function eventOf(extra: string[]): Promise<{ ev: Ev; before: number; after: number }> {
  const before = uptimeNs();
  const r = await runWith(['run', 'header_surface', '--comm', trigger.comm, '-o', 'json', '-t', '2', ...extra], env, () => trigger.run(1));
  const after = uptimeNs();
  expect(r.code, r.stderr).toBe(0);
  const mine = jsonLines(r.stdout).filter((e) => e.proc && (e.proc as Ev).pid === r.triggered[0]);
  expect(mine).toHaveLength(1);
  return { ev: mine[0]!, before, after };
}

describe('header groups from a tracepoint (getcwd of a copy of /bin/pwd)', () => {
  it('common.h, core_fixes, bits, fnv1a, filesystem, maps, kernel stack: process with parent tid, exe ctime from its inode, slot and hash of the pid, fd 1 path, task state', async () => {
    const { ev } = await eventOf([]);
    const pid = ev.proc.pid as number;
    const st = statSync(exe, { bigint: true });
    expect(ev.proc).toEqual({
      comm: trigger.comm, pid, tid: pid, mntns_id: ev.proc.mntns_id,
      creds: { uid: process.getuid!(), gid: process.getgid!() },
      // spawned from this test process's main thread: parent pid and tid are both ours
      parent: { comm: readFileSync('/proc/self/comm', 'utf8').trim(), pid: process.pid, tid: process.pid },
    });
    expect(ev.proc.mntns_id).toBe(Number(statSync('/proc/self/ns/mnt').ino));
    expect(String(ev.exe_ctime_ns)).toBe(st.ctimeNs.toString());
    expect(ev.pid_slot).toBe(Math.floor(Math.log2(pid)) + 1);
    expect(ev.pid_fnv1a).toBe(fnv1a32(pid));
    expect(ev.fd1_path).toBe('/dev/null'); // spawnSync's stdio 'ignore'
    expect(ev.calls).toBe(1); // first getcwd of this pid, counted by bpf_map_lookup_or_try_init
    expect(ev.state).toBe(0); // TASK_RUNNING: the task is in a syscall
    expect(Number.isInteger(ev.kstack_raw) && ev.kstack_raw >= 0 && ev.kstack_raw < 16384).toBe(true);
    // user stacks are off by default: every field zero, and the ustack operator's texts empty
    const { addresses, buildid, symbols, ...ids } = ev.ustack;
    expect(Object.values(ids).every((v) => v === 0)).toBe(true);
    expect([addresses, buildid, symbols]).toEqual(['', '', '']);
  });

  it('user_stack_map.h with --collect-ustack: the exe found by device, inode and mtime, the pids, a stack id', async () => {
    const { ev, before, after } = await eventOf(['--collect-ustack']);
    const pid = ev.proc.pid as number;
    const st = statSync(exe, { bigint: true });
    const dev = Number(st.dev);
    const u = ev.ustack;
    expect({ major: u.major, minor: u.minor, inode: u.inode, mtime_sec: u.mtime_sec, mtime_nsec: u.mtime_nsec }).toEqual({
      major: (dev >>> 8) & 0xfff, minor: (dev & 0xff) | ((dev >>> 12) & 0xfff00), inode: Number(st.ino),
      mtime_sec: Number(st.mtimeNs / 1_000_000_000n), mtime_nsec: Number(st.mtimeNs % 1_000_000_000n),
    });
    expect({ tgid: u.tgid_level0, pid: u.pid_level0, pidns: u.pidns_level0, pid1: u.pid_level1, pidns1: u.pidns_level1 }).toEqual({
      tgid: pid, pid, pidns: Number(statSync('/proc/self/ns/pid').ino), pid1: 0, pidns1: 0,
    });
    // an id of ig_ustack (10000 entries: ids below 2^14, its bucket count), not an error code stored as u32
    expect(u.stack_id).toBeGreaterThanOrEqual(0);
    expect(u.stack_id).toBeLessThan(16384);
    expect(u.base_addr_hash).not.toBe(0);
    expect(u.otel_correlation_id).toBe(0);
    expect(u.boot_timestamp).toBeGreaterThanOrEqual(before - 20e6);
    expect(u.boot_timestamp).toBeLessThanOrEqual(after + 20e6);
  });
});

/** Write a one-file gadget into a fresh directory and `ig image build` it. */
async function buildSource(name: string, source: string, yaml?: string) {
  const dir = path.join(work, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'program.bpf.c'), source);
  if (yaml) writeFileSync(path.join(dir, 'gadget.yaml'), yaml);
  return { dir, r: await runIg(['image', 'build', dir, '-t', name], { env, timeoutMs: 120_000 }) };
}

async function inspect(name: string): Promise<Ev> {
  const r = await runIg(['image', 'inspect', name, '-o', 'json'], { env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).ebpf as Ev;
}

describe('gadgets ig can build but not attach yet', () => {
  it('a GADGET_TYPE_NETWORKING socket filter on <linux/...h>, <stdbool.h> and <asm/errno.h>, with the socket enricher lookup', async () => {
    await buildGadget('test/gadgets/net_udp_filter', 'net_udp_filter', env);
    const d = await inspect('net_udp_filter');
    expect(d.programs).toEqual([{ name: 'udp_filter', section: 'socket1' }]);
    const sockets = (d.maps as Ev[]).find((m) => m.name === 'gadget_sockets');
    // IG's layouts: key {u32 netns; u16 family; u8 proto; u16 port} = 12 bytes; value with cwd/exepath = 8280
    expect(sockets).toMatchObject({ type: 'hash', keySize: 12, valueSize: 8280, maxEntries: 16384 });
    const fields = (d.datasources as Ev[])[0]!.fields.map((f: Ev) => f.name);
    expect(fields).toEqual(expect.arrayContaining(['proc.parent.tid', 'src', 'dst', 'ingress', 'netns_id']));
  });

  it('gpu_bridge_maps.h declares only the maps asked for; packetfilter.h gives a tc program its filter hook', async () => {
    const { r } = await buildSource('gpu_pf', `
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#define GPU_BRIDGE_WANT_META
#define GPU_BRIDGE_WANT_PER_PID
#include <gadget/gpu_bridge_maps.h>
#include <gadget/packetfilter.h>
#include <gadget/buffer.h>
#include <gadget/macros.h>
struct event { __u32 gpu_mem_holder; };
GADGET_TRACER_MAP(events, 4096);
GADGET_TRACER(drops, events, event);
GADGET_PF(web);
SEC("classifier/ingress/drop")
int drop(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct event e = {};
	if (gpu_meta_fresh(bpf_ktime_get_boot_ns(), 1000) && gpu_pid_holder(1, 1))
		e.gpu_mem_holder = 1;
	gadget_output_buf(skb, &events, &e, sizeof(e));
	return gadget_pf_matches(web, skb, data, end) ? 2 : 0;
}
char LICENSE[] SEC("license") = "GPL";
`);
    expect(r.code, r.stderr).toBe(0);
    const d = await inspect('gpu_pf');
    const maps = (d.maps as Ev[]).map((m) => m.name);
    expect(maps).toEqual(expect.arrayContaining(['gpu_meta', 'gpu_per_pid']));
    expect(maps).not.toContain('gpu_device');
    expect((d.maps as Ev[]).find((m) => m.name === 'gpu_meta')).toMatchObject({ type: 'array', valueSize: 32, maxEntries: 1 });
    expect((d.programs as Ev[]).map((p) => p.section)).toEqual(['classifier/ingress/drop']);
  });
});

describe('kprobe and perf_event programs through the gadget headers alone', () => {
  it('BPF_KPROBE comes with gadget/filter.h (as in IG); gadget_get_user_stack() picks its variant by ctx type', async () => {
    const { r } = await buildSource('kprobe_chain', `
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/user_stack_map.h>
struct event { gadget_pid pid; struct gadget_user_stack ustack; };
GADGET_TRACER_MAP(events, 4096 * 64);
GADGET_TRACER(opens, events, event);
SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(openat2, int dfd, const char *name)
{
	struct event e = { .pid = bpf_get_current_pid_tgid() >> 32 };
	gadget_get_user_stack(ctx, &e.ustack); /* struct pt_regs *: the kprobe variant */
	gadget_output_buf(ctx, &events, &e, sizeof(e));
	return 0;
}
SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	struct event e = { .pid = bpf_get_current_pid_tgid() >> 32 };
	gadget_get_user_stack(ctx, &e.ustack); /* the perf_event variant */
	gadget_output_buf(ctx, &events, &e, sizeof(e));
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`);
    expect(r.code, r.stderr).toBe(0);
    const d = await inspect('kprobe_chain');
    expect((d.programs as Ev[]).map((p) => p.section).sort()).toEqual(['kprobe/do_sys_openat2', 'perf_event']);
    // running it needs kprobes (probed as run-trace-open.test.ts does): without, the runtime names the feature
    const run = await runIg(['run', 'kprobe_chain', '-t', '1'], { env });
    if (readFileSync('/proc/kallsyms', 'utf8').includes(' register_kprobe')) expect(run.code, run.stderr).toBe(0);
    else expect(run.stderr).toMatch(/no kprobe support \(CONFIG_KPROBES\)/);
  });
});

describe('buffer.h with GADGET_NO_BUF_RESERVE', () => {
  it('gadget_output_buf still works (it used the wakeup policy defined only with reserve): one event per getcwd', async () => {
    const { r } = await buildSource('no_reserve', `
#define GADGET_NO_BUF_RESERVE
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>
struct event { gadget_pid pid; gadget_comm comm[TASK_COMM_LEN]; };
GADGET_TRACER_MAP(events, 4096 * 64);
GADGET_TRACER(calls, events, event);
SEC("tracepoint/syscalls/sys_enter_getcwd")
int no_reserve(void *ctx)
{
	struct event e = { .pid = bpf_get_current_pid_tgid() >> 32 };
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	gadget_output_buf(ctx, &events, &e, sizeof(e));
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`);
    expect(r.code, r.stderr).toBe(0);
    const run = await runWith(['run', 'no_reserve', '-o', 'json', '-t', '2'], env, () => trigger.run(2));
    expect(run.code, run.stderr).toBe(0);
    const mine = jsonLines(run.stdout).filter((e) => e.comm === trigger.comm);
    expect(mine.map((e) => e.pid)).toEqual(run.triggered);
  });
});

describe('every header at once', () => {
  it('bpf/test/all_headers.bpf.c (every header included, every helper and macro used) compiles and keeps its markers', async () => {
    const { objectPath, bytes } = await compileBpf(readFileSync(path.join(repoRoot, 'bpf/test/all_headers.bpf.c'), 'utf8'));
    rmSync(path.dirname(objectPath), { recursive: true, force: true });
    for (const marker of ['gadget_mapelem_iter_target_all_headers___counts', 'gadget_sk_prog_target_all_headers_skb___counts', 'gadget_tracer_all___events___event']) {
      expect(bytes.includes(Buffer.from(marker)), marker).toBe(true);
    }
  });
});

describe('a name from IG\'s surface that ig lacks, or no one has', () => {
  it('names the identifier and says it is part of IG\'s surface ig does not provide', async () => {
    const { r } = await buildSource('lacks_get_buf', `
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <gadget/filesystem.h>
SEC("tracepoint/syscalls/sys_enter_getcwd")
int t(void *ctx) { return get_buf(0) != 0; }
char LICENSE[] SEC("license") = "GPL";
`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/get_buf is part of Inspektor Gadget's header surface that ig lacks \(gadget\/filesystem\.h: an internal/);
  });

  it('a gadget/ header that is neither ig\'s nor IG\'s is named as such', async () => {
    const { r } = await buildSource('no_such_header', '#include <gadget/tracepoints.h>\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/gadget\/tracepoints\.h is neither an ig header nor one of Inspektor Gadget's/);
  });
});
