// Native addon against the real kernel: open/inspect/BTF, rodata, load errors, attach,
// ringbuf + perf consumers, iterators, map ops, close. Needs root and `make -C native`.
// Kernels differ in which program types they allow (some refuse iter/bpf_map_elem with EPERM when
// CAP_SYS_RESOURCE is missing): each iterator lives in its own small object, is probed first, and
// its test checks either the feature or the error the product gives for the refusal.
import { execFile, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { native as loadAddon } from '../../src/runtime/native.js';
import type { BtfType, RecordBatch } from '../../native/index.js';
import { compileBpf } from '../helpers/bpf-compile.js';
import { IgError } from '../../src/errors.js';
import { loadError } from '../../src/runtime/kernel-errors.js';

const run = promisify(execFile);
/** the addon, through the one loader the runtime uses */
const native = loadAddon();
/** A batch as a consumer hands it, with its bytes copied: `data` views a buffer the consumer reuses after the callback. */
const kept = (b: RecordBatch): RecordBatch => ({ ...b, data: Buffer.from(b.data) });
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const MAIN_SRC = String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

typedef unsigned int my_u32_t;
enum color { RED = 1, GREEN = 2, BLUE = 40 };
enum big64 { BIG_SMALL = 5, BIG_HUGE = 0xfffffffffffffff0ULL };

struct event {
  __u32 pid;
  __u32 seq;
  my_u32_t tag;
  unsigned int flag_a : 3;
  unsigned int flag_b : 5;
  enum color color;
  char comm[16];
};

const volatile __u32 target_pid = 0;
const volatile __u32 tag_value = 7;
__u32 seq_rb = 0;
__u32 seq_perf = 0;
enum big64 big_var = BIG_SMALL;

struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 256 * 1024); } events SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct event);
} arr SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u32);
} pcpu SEC(".maps");

/* only our opens: the test opens with O_NOCTTY|O_NONBLOCK, which node itself never uses */
static __always_inline int ours(struct trace_event_raw_sys_enter *ctx, __u32 pid) {
  return pid == target_pid && (ctx->args[2] & 0x900) == 0x900;
}

static __always_inline void fill(struct event *e, __u32 pid, __u32 seq) {
  e->pid = pid;
  e->seq = seq;
  e->tag = tag_value;
  e->flag_a = 5;
  e->flag_b = 17;
  e->color = BLUE;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
}

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat_rb(struct trace_event_raw_sys_enter *ctx) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (!ours(ctx, pid)) return 0;
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  fill(e, pid, seq_rb++);
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat_perf(struct trace_event_raw_sys_enter *ctx) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  if (!ours(ctx, pid)) return 0;
  struct event e = {};
  fill(&e, pid, seq_perf++);
  bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

const TASK_ITER_SRC = String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx) {
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  if (!task) return 0;
  BPF_SEQ_PRINTF(seq, "%d %s\n", task->tgid, task->comm);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

const MAP_ITER_SRC = String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
SEC("iter/bpf_map_elem")
int dump_counts(struct bpf_iter__bpf_map_elem *ctx) {
  struct seq_file *seq = ctx->meta->seq;
  __u32 *key = ctx->key;
  __u64 *val = ctx->value;
  if (!key || !val) return 0;
  BPF_SEQ_PRINTF(seq, "%u=%llu\n", *key, *val);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

const BAD_SRC = String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
SEC("tracepoint/syscalls/sys_enter_getppid")
int bad_prog(void *ctx) {
  return *(int *)(long)bpf_get_prandom_u32();
}
char LICENSE[] SEC("license") = "GPL";
`;

const KPROBE_SRC = String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(kp_open) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

const RB_ONLY_SRC = String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
char LICENSE[] SEC("license") = "GPL";
`;

const EXTRA_SRC = String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} hits SEC(".maps");
static __always_inline void bump(__u32 k) {
  __u64 *v = bpf_map_lookup_elem(&hits, &k);
  if (v) __sync_fetch_and_add(v, 1);
}
SEC("uprobe")
int BPF_UPROBE(on_geteuid) { bump(0); return 0; }
SEC("socket")
int sock_count(struct __sk_buff *skb) { bump(1); return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

const EVENT_SIZE = 36;
// a marker pointer reaches its struct; the kernel types only CO-RE names (task_struct) are in the BTF too
const REACH_SRC = String.raw`
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

enum reach_big { REACH_SMALL = 3, REACH_HUGE = 0xfffffffffffffff1ULL };
struct reached { __u32 pid; enum reach_big big; };
const struct reached *marker __attribute__((unused));
const volatile __u32 wanted = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  return BPF_CORE_READ(task, tgid) == wanted;
}

char LICENSE[] SEC("license") = "GPL";
`;

let mainElf: Buffer;
let reachElf: Buffer;
let badElf: Buffer;
let kprobeElf: Buffer;
let extraElf: Buffer;
let taskIterElf: Buffer;
let mapIterElf: Buffer;
let rbOnlyPath: string;
let extraPath: string;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

/** Offset of a global in a datasec, found through BTF. */
function varOffset(btf: BtfType[], sec: string, name: string): number {
  const byId = new Map(btf.map((t) => [t.id, t]));
  const ds = btf.find((t) => t.kind === 'datasec' && t.name === sec);
  if (!ds) throw new Error(`no datasec ${sec}`);
  const v = ds.vars!.find((s) => byId.get(s.type)?.name === name);
  if (!v) throw new Error(`no var ${name} in ${sec}`);
  return v.offset;
}

function openMain(): native.BpfObject {
  return new native.BpfObject(mainElf, 'native_test');
}

/** Open, point target_pid at us and tag_value at `tag`, load. */
function loadMain(tag = 42): native.BpfObject {
  const obj = openMain();
  const btf = obj.btf();
  obj.setMapInitialValue('.rodata', varOffset(btf, '.rodata', 'target_pid'), u32(process.pid));
  obj.setMapInitialValue('.rodata', varOffset(btf, '.rodata', 'tag_value'), u32(tag));
  // ringbuf/perf maps must not carry a BTF value type in the kernel; ours have none.
  obj.load();
  return obj;
}

/**
 * Load a one-program object, or return the error the product turns the kernel's refusal into:
 * what this kernel allows decides which of the two a test checks.
 */
function loadOrRefusal(elf: Buffer, name: string): { obj: native.BpfObject } | { refusal: IgError } {
  const obj = new native.BpfObject(elf, name);
  try {
    obj.load();
    return { obj };
  } catch (e) {
    const programs = obj.programs();
    obj.close();
    return { refusal: loadError(e, programs) };
  }
}

function decode(batch: RecordBatch, i: number) {
  const b = batch.data.subarray(batch.offsets[i], batch.offsets[i] + batch.sizes[i]);
  const bits = b.readUInt32LE(12);
  return {
    size: batch.sizes[i],
    pid: b.readUInt32LE(0),
    seq: b.readUInt32LE(4),
    tag: b.readUInt32LE(8),
    flagA: bits & 7,
    flagB: (bits >> 3) & 31,
    color: b.readUInt32LE(16),
    comm: b.subarray(20, 36).toString('latin1').replace(/\0.*$/s, ''),
  };
}

function openFiles(n: number) {
  for (let i = 0; i < n; i++) closeSync(openSync('/etc/hostname', constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK));
}

async function waitFor(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function progExists(id: number): boolean {
  try {
    execFileSync('bpftool', ['prog', 'show', 'id', String(id)], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  await run(path.join(repoRoot, 'bpf', 'gen-vmlinux.sh'));
  [mainElf, badElf, kprobeElf, extraElf, taskIterElf, mapIterElf] = (
    await Promise.all([
      compileBpf(MAIN_SRC, { name: 'main' }),
      compileBpf(BAD_SRC, { name: 'bad' }),
      compileBpf(KPROBE_SRC, { name: 'kprobe' }),
      compileBpf(EXTRA_SRC, { name: 'extra' }),
      compileBpf(TASK_ITER_SRC, { name: 'taskiter' }),
      compileBpf(MAP_ITER_SRC, { name: 'mapiter' }),
    ])
  ).map((r) => r.bytes);
  reachElf = (await compileBpf(REACH_SRC, { name: 'reach' })).bytes;
  rbOnlyPath = (await compileBpf(RB_ONLY_SRC, { name: 'rbonly' })).objectPath;
  extraPath = (await compileBpf(EXTRA_SRC, { name: 'extra2' })).objectPath;
});

describe('native addon', () => {
  it('reports the vendored libbpf version and CPU count', () => {
    // the newest libbpf >= 1.5 Debian serves (native/fetch-libbpf.sh), as recorded when it was built
    const built = readFileSync(path.join(repoRoot, 'native', 'vendor', 'VERSION'), 'utf8').trim();
    expect(native.libbpfVersion()).toBe(`v${built.split('.').slice(0, 2).join('.')}`);
    expect(Number(built.split('.')[1])).toBeGreaterThanOrEqual(5);
    expect(native.numPossibleCpus()).toBeGreaterThan(0);
  });

  it('lists maps and programs of an opened object', () => {
    const obj = openMain();
    try {
      const maps = obj.maps();
      const byName = new Map(maps.map((m) => [m.name, m]));
      expect(byName.get('events')).toMatchObject({ type: 27, maxEntries: 256 * 1024, internal: false });
      expect(byName.get('perf_events')).toMatchObject({ type: 4, keySize: 4, valueSize: 4 });
      expect(byName.get('counts')).toMatchObject({ type: 1, keySize: 4, valueSize: 8, maxEntries: 1024 });
      expect(byName.get('arr')).toMatchObject({ type: 2, keySize: 4, valueSize: EVENT_SIZE, maxEntries: 4 });
      expect(byName.get('arr')!.btfValueTypeId).toBeGreaterThan(0);
      expect(byName.get('.rodata')).toMatchObject({ type: 2, internal: true });
      expect(byName.get('.bss')).toMatchObject({ internal: true });
      const progs = obj.programs();
      expect(progs.map((p) => p.name).sort()).toEqual(['on_openat_perf', 'on_openat_rb']);
      expect(progs.find((p) => p.name === 'on_openat_rb')).toMatchObject({
        section: 'tracepoint/syscalls/sys_enter_openat',
        type: 5,
      });
      const ro = obj.mapInitialValue('.rodata');
      expect(ro.length).toBeGreaterThanOrEqual(8);
      expect(ro.readUInt32LE(varOffset(obj.btf(), '.rodata', 'tag_value'))).toBe(7);
    } finally {
      obj.close();
    }
  });

  it('exports BTF: struct with bitfields, enum, enum64, array, typedef, datasec', () => {
    const obj = openMain();
    const btf = obj.btf();
    obj.close();
    obj.close(); // idempotent
    const byId = new Map(btf.map((t) => [t.id, t]));
    btf.forEach((t, i) => expect(t.id).toBe(i + 1));
    const ev = btf.find((t) => t.kind === 'struct' && t.name === 'event')!;
    expect(ev.size).toBe(EVENT_SIZE);
    const m = new Map(ev.members!.map((x) => [x.name, x]));
    expect(m.get('pid')).toMatchObject({ bitsOffset: 0, bitfieldSize: 0 });
    expect(m.get('flag_a')).toMatchObject({ bitsOffset: 96, bitfieldSize: 3 });
    expect(m.get('flag_b')).toMatchObject({ bitsOffset: 99, bitfieldSize: 5 });
    const tag = byId.get(m.get('tag')!.type)!;
    expect(tag).toMatchObject({ kind: 'typedef', name: 'my_u32_t' });
    const uint = byId.get(tag.type!)!;
    expect(uint).toMatchObject({ kind: 'int', name: 'unsigned int', size: 4 });
    expect(uint.intEncoding).toMatchObject({ signed: false, bits: 32, bitsOffset: 0 });
    const comm = byId.get(m.get('comm')!.type)!;
    expect(comm.kind).toBe('array');
    expect(comm.array!.nelems).toBe(16);
    expect(byId.get(comm.array!.type)).toMatchObject({ kind: 'int', name: 'char' });
    const color = byId.get(m.get('color')!.type)!;
    expect(color).toMatchObject({ kind: 'enum', name: 'color', size: 4 });
    expect(color.values).toEqual([
      { name: 'RED', value: 1 },
      { name: 'GREEN', value: 2 },
      { name: 'BLUE', value: 40 },
    ]);
    const big = btf.find((t) => t.name === 'big64')!;
    expect(big).toMatchObject({ kind: 'enum64', size: 8, signed: false });
    expect(big.values).toEqual([
      { name: 'BIG_SMALL', value: 5 },
      { name: 'BIG_HUGE', value: 0xfffffffffffffff0n },
    ]);
    const ro = btf.find((t) => t.kind === 'datasec' && t.name === '.rodata')!;
    const vars = ro.vars!.map((v) => byId.get(v.type)!);
    expect(vars.map((v) => v.name)).toEqual(expect.arrayContaining(['tag_value', 'target_pid']));
    expect(vars.find((v) => v.name === 'target_pid')).toMatchObject({ kind: 'var', linkage: 1 });
    const fn = btf.find((t) => t.kind === 'func' && t.name === 'on_openat_rb')!;
    expect(fn.linkage).toBe(1);
    const proto = byId.get(fn.type!)!;
    expect(proto.kind).toBe('func_proto');
    expect(proto.params!.map((p) => p.name)).toEqual(['ctx']);
  });

  it('exports only what globals and functions reach when asked, ids kept: not the kernel types CO-RE names', () => {
    const obj = new native.BpfObject(reachElf, 'reach');
    const all = obj.btf();
    const some = obj.btf(true);
    obj.close();
    const named = (types: BtfType[], name: string) => types.find((t) => t.name === name);
    expect(named(all, 'task_struct')).toBeDefined();
    expect(named(some, 'task_struct')).toBeUndefined();
    expect(some.length).toBeLessThan(all.length / 2);
    // each type kept is the same as in the whole export, under the same id
    const byId = new Map(all.map((t) => [t.id, t]));
    for (const t of some) expect(t).toEqual(byId.get(t.id));
    for (const name of ['marker', 'wanted', '.rodata', 'on_getppid', 'reached', 'reach_big']) expect(named(some, name)).toBeDefined();
    expect(named(some, 'reach_big')!.values).toEqual([
      { name: 'REACH_SMALL', value: 3 },
      { name: 'REACH_HUGE', value: 0xfffffffffffffff1n },
    ]);
  });

  it('throws with op "btf"-free errors for unknown maps and validates before-load ops', () => {
    const obj = openMain();
    try {
      expect(() => obj.mapInitialValue('nope')).toThrow(/no map named nope/);
      expect(() => obj.setMapInitialValue('.rodata', 1 << 20, u32(1))).toThrow(/outside/);
      expect(() => obj.mapFd('events')).toThrow(/not loaded/);
    } finally {
      obj.close();
    }
    expect(() => obj.maps()).toThrow(/closed/);
  });

  it('carries the verifier log when load fails', () => {
    const obj = new native.BpfObject(badElf, 'bad');
    let err: (Error & { log?: string; errno?: number; op?: string }) | undefined;
    try {
      obj.load();
    } catch (e) {
      err = e as typeof err;
    } finally {
      obj.close();
    }
    expect(err).toBeDefined();
    expect(err!.op).toBe('load');
    expect(err!.errno).toBe(13); // EACCES from the verifier
    expect(err!.log).toMatch(/invalid mem access/);
    expect(err!.log).toMatch(/bad_prog/);
  });

  it('attaches tracepoints and delivers ringbuf and perf records in batches; rodata changes behaviour', async () => {
    const N = 200;
    const obj = loadMain(42);
    const rbBatches: RecordBatch[] = [];
    const perfBatches: RecordBatch[] = [];
    const rb = new native.RecordConsumer(obj.mapFd('events'), 'ringbuf', (b) => rbBatches.push(kept(b)));
    const pb = new native.RecordConsumer(obj.mapFd('perf_events'), 'perf', (b) => perfBatches.push(kept(b)), {
      perfPagesPerCpu: 8,
    });
    const ids = [obj.programId('on_openat_rb'), obj.programId('on_openat_perf')];
    try {
      const l1 = obj.attach('on_openat_rb');
      const l2 = obj.attach('on_openat_perf');
      expect(l1).not.toBe(l2);
      openFiles(N);
      const count = (bs: RecordBatch[]) => bs.reduce((n, b) => n + b.offsets.length, 0);
      await waitFor(() => count(rbBatches) >= N && count(perfBatches) >= N);
      obj.detach(l1);
      obj.detach(l2);
      expect(() => obj.detach(l1)).toThrow();
      openFiles(10); // detached: nothing more arrives
      await new Promise((r) => setTimeout(r, 50));
      expect(count(rbBatches)).toBe(N);
      expect(count(perfBatches)).toBe(N);
      // ringbuf records are submitted with BPF_RB_NO_WAKEUP: only the poll timeout drains them.
      expect(rbBatches.length).toBeLessThan(N / 10);
      expect(perfBatches.length).toBeLessThanOrEqual(N);
      const rbRecs = rbBatches.flatMap((b) => Array.from(b.offsets, (_, i) => decode(b, i)));
      expect(rbRecs.map((r) => r.seq)).toEqual(Array.from({ length: N }, (_, i) => i));
      for (const r of rbRecs) {
        expect(r).toMatchObject({ size: EVENT_SIZE, pid: process.pid, tag: 42, flagA: 5, flagB: 17, color: 40 });
      }
      expect(rbRecs[0].comm.length).toBeGreaterThan(0);
      const perfRecs = perfBatches.flatMap((b) => Array.from(b.offsets, (_, i) => decode(b, i)));
      expect(perfRecs.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
      // perf pads raw samples so that size + 4 is a multiple of 8 (36 stays 36).
      for (const r of perfRecs) {
        expect(r.size).toBeGreaterThanOrEqual(EVENT_SIZE);
        expect(r).toMatchObject({ pid: process.pid, tag: 42 });
      }
      expect(perfBatches.reduce((n, b) => n + b.lost, 0)).toBe(0);
    } finally {
      const s1 = rb.stop();
      const s2 = rb.stop(); // twice is fine
      await Promise.all([s1, s2, pb.stop()]);
      await rb.stop(); // after it finished, too
      obj.close();
    }
    for (const id of ids) expect(progExists(id)).toBe(false);
  });

  it('without the rodata pid, the filter drops everything', async () => {
    const obj = openMain(); // target_pid stays 0
    obj.load();
    const batches: RecordBatch[] = [];
    const rb = new native.RecordConsumer(obj.mapFd('events'), 'ringbuf', (b) => batches.push(kept(b)), { pollTimeoutMs: 5 });
    try {
      obj.attach('on_openat_rb');
      openFiles(50);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await rb.stop();
      obj.close();
    }
    expect(batches.length).toBe(0);
  });

  it('delivers pending records before stop() resolves and cuts batches at maxBatchBytes', async () => {
    const obj = loadMain();
    const batches: RecordBatch[] = [];
    // long poll timeout: records (NO_WAKEUP) stay pending until stop() drains them
    const rb = new native.RecordConsumer(obj.mapFd('events'), 'ringbuf', (b) => batches.push(kept(b)), {
      pollTimeoutMs: 60_000,
      maxBatchBytes: EVENT_SIZE * 10 + 8,
    });
    try {
      obj.attach('on_openat_rb');
      await new Promise((r) => setTimeout(r, 20));
      openFiles(95);
      const t0 = Date.now();
      await rb.stop();
      expect(Date.now() - t0).toBeLessThan(2000);
      const total = batches.reduce((n, b) => n + b.offsets.length, 0);
      expect(total).toBe(95);
      // ringbuf records are 8-byte aligned in the ring but reported with their own size
      for (const b of batches) expect(b.offsets.length).toBeLessThanOrEqual(10);
      expect(batches.length).toBeGreaterThanOrEqual(10);
    } finally {
      await rb.stop();
      obj.close();
    }
  });

  it('applies back pressure to a slow consumer without losing records or deadlocking stop()', async () => {
    const obj = loadMain();
    let records = 0;
    let batches = 0;
    const rb = new native.RecordConsumer(
      obj.mapFd('events'),
      'ringbuf',
      (b) => {
        batches++;
        records += b.offsets.length;
        const until = Date.now() + 1;
        while (Date.now() < until); // slow JS
      },
      { maxBatchBytes: EVENT_SIZE * 4, pollTimeoutMs: 1 },
    );
    try {
      obj.attach('on_openat_rb');
      openFiles(1000);
      await rb.stop();
      expect(records).toBe(1000);
      expect(batches).toBeGreaterThanOrEqual(250);
    } finally {
      await rb.stop();
      obj.close();
    }
  });

  it('reads a task iterator containing our own pid, or names the refused program', () => {
    const probe = new native.BpfObject(taskIterElf, 'taskiter');
    expect(probe.programs()).toEqual([expect.objectContaining({ name: 'dump_task', section: 'iter/task', type: 26 })]);
    probe.close();
    const loaded = loadOrRefusal(taskIterElf, 'taskiter');
    if ('refusal' in loaded) {
      expect(loaded.refusal.message).toBe(
        'the kernel refused program dump_task (iter/task): Operation not permitted — a security policy or a missing capability',
      );
      return;
    }
    const obj = loaded.obj;
    try {
      const text = obj.readIter('dump_task').toString();
      const lines = text.split('\n');
      expect(lines.length).toBeGreaterThan(5);
      expect(lines.some((l) => l.startsWith(`${process.pid} `))).toBe(true);
    } finally {
      obj.close();
    }
  });

  it('map ops: update/lookup/delete/nextKey/dump round trip', () => {
    const obj = loadMain();
    try {
      const fd = obj.mapFd('counts');
      expect(obj.mapId('counts')).toBeGreaterThan(0);
      for (let k = 1; k <= 5; k++) native.mapUpdate(fd, u32(k), u64(BigInt(k * 100)));
      expect(native.mapLookup(fd, u32(3), 8)!.readBigUInt64LE()).toBe(300n);
      expect(native.mapLookup(fd, u32(99), 8)).toBeNull();
      expect(() => native.mapUpdate(fd, u32(3), u64(1n), 1 /* NOEXIST */)).toThrow(
        expect.objectContaining({ errno: 17 }),
      );
      expect(native.mapDelete(fd, u32(5))).toBe(true);
      expect(native.mapDelete(fd, u32(5))).toBe(false);
      const keys: number[] = [];
      for (let k = native.mapNextKey(fd, null, 4); k; k = native.mapNextKey(fd, k, 4)) keys.push(k.readUInt32LE());
      expect(keys.sort()).toEqual([1, 2, 3, 4]);

      const d = native.mapDump(fd, 4, 8);
      expect(d.count).toBe(4);
      const entries = Array.from({ length: d.count }, (_, i) => [
        d.keys.readUInt32LE(i * 4),
        Number(d.values.readBigUInt64LE(i * 8)),
      ]);
      expect(entries.sort((a, b) => a[0] - b[0])).toEqual([[1, 100], [2, 200], [3, 300], [4, 400]]);
      const dd = native.mapDump(fd, 4, 8, { andDelete: true });
      expect(dd.count).toBe(4);
      expect(native.mapNextKey(fd, null, 4)).toBeNull();
      expect(native.mapDump(fd, 4, 8).count).toBe(0);

      // array: dump works, andDelete keeps entries (arrays cannot delete)
      const afd = obj.mapFd('arr');
      const v = Buffer.alloc(EVENT_SIZE);
      v.writeUInt32LE(77, 0);
      native.mapUpdate(afd, u32(2), v);
      const ad = native.mapDump(afd, 4, EVENT_SIZE, { andDelete: true });
      expect(ad.count).toBe(4);
      expect(ad.values.readUInt32LE(2 * EVENT_SIZE)).toBe(77);

      // per-CPU hash: value per CPU, 8-byte aligned
      const ncpu = native.numPossibleCpus();
      const pfd = obj.mapFd('pcpu');
      const pv = Buffer.alloc(8 * ncpu);
      for (let c = 0; c < ncpu; c++) pv.writeUInt32LE(c + 10, c * 8);
      native.mapUpdate(pfd, u32(9), pv);
      const pd = native.mapDump(pfd, 4, 4, { perCpu: true });
      expect(pd.count).toBe(1);
      expect(pd.values.length).toBe(8 * ncpu);
      expect(pd.values.readUInt32LE((ncpu - 1) * 8)).toBe(ncpu - 1 + 10);
    } finally {
      obj.close();
    }
  });

  it('a map iterator over a map of another object, or the refusal naming program and section', () => {
    const main = loadMain();
    const loaded = loadOrRefusal(mapIterElf, 'mapiter');
    try {
      if ('refusal' in loaded) {
        // e.g. this machine: CAP_SYS_RESOURCE is not in the effective set, other iterators load
        expect(loaded.refusal).toBeInstanceOf(IgError);
        expect(loaded.refusal.code).toBe('kernel');
        expect(loaded.refusal.message).toBe(
          'the kernel refused program dump_counts (iter/bpf_map_elem): Operation not permitted — a security policy or a missing capability',
        );
        expect(loaded.refusal.hint).toMatch(/CAP_SYS_RESOURCE/);
        return;
      }
      const fd = main.mapFd('counts');
      for (let k = 1; k <= 4; k++) native.mapUpdate(fd, u32(k), u64(BigInt(k * 100)));
      const text = loaded.obj.readIter('dump_counts', { mapFd: fd }).toString();
      expect(text.trim().split('\n').sort()).toEqual(['1=100', '2=200', '3=300', '4=400']);
    } finally {
      if ('obj' in loaded) loaded.obj.close();
      main.close();
    }
  });

  it('close() removes the programs from the kernel (by id)', () => {
    const obj = loadMain();
    const ids = obj.programs().map((p) => obj.programId(p.name));
    expect(new Set(ids).size).toBe(2);
    obj.attach('on_openat_rb');
    for (const id of ids) expect(progExists(id)).toBe(true);
    obj.close();
    for (const id of ids) expect(progExists(id)).toBe(false);
    expect(() => obj.programId('on_openat_rb')).toThrow(/closed/);
  });

  it('kprobe attach fails with ENOENT and names the section (kernel without kprobes)', (ctx) => {
    if (existsSync('/sys/kernel/tracing/kprobe_events') || existsSync('/sys/kernel/debug/tracing/kprobe_events')) {
      ctx.skip();
    }
    const obj = new native.BpfObject(kprobeElf, 'kp');
    try {
      obj.load();
      let err: (Error & { errno?: number; op?: string }) | undefined;
      try {
        obj.attach('kp_open');
      } catch (e) {
        err = e as typeof err;
      }
      expect(err).toBeDefined();
      expect(err!.errno).toBe(2);
      expect(err!.op).toBe('attach');
      expect(err!.message).toContain('kprobe/do_sys_openat2');
    } finally {
      obj.close();
    }
  });

  it('attaches a uprobe by binary + symbol and a socket filter to lo', async () => {
    const libc = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((l) => l.split(/\s+/)[5])
      .find((p) => p && /\/libc\.so\.6$/.test(p));
    expect(libc).toBeDefined();
    const obj = new native.BpfObject(extraElf, 'extra');
    try {
      obj.load();
      const fd = obj.mapFd('hits');
      const hits = (k: number) => native.mapLookup(fd, u32(k), 8)!.readBigUInt64LE();
      const up = obj.attach('on_geteuid', { binaryPath: libc, funcName: 'geteuid', pid: -1 });
      execFileSync('id', ['-u']);
      expect(hits(0)).toBeGreaterThan(0n);
      obj.detach(up);
      expect(() => obj.attach('on_geteuid', { binaryPath: libc, funcName: 'no_such_symbol_x' })).toThrow(
        expect.objectContaining({ op: 'attach' }),
      );

      const sk = obj.attach('sock_count', { socketIfname: 'lo' });
      const sock = dgram.createSocket('udp4');
      for (let i = 0; i < 5; i++) await new Promise((r) => sock.send('x', 9, '127.0.0.1', r));
      sock.close();
      await waitFor(() => hits(1) >= 5n, 2000);
      expect(hits(1)).toBeGreaterThanOrEqual(5n);
      obj.detach(sk);
      expect(() => obj.attach('sock_count', { socketIfname: 'no-such-if0' })).toThrow(
        expect.objectContaining({ op: 'attach', errno: 19 }),
      );
    } finally {
      obj.close();
    }
  });

  it('the GC finalizer releases an object that was never closed', async () => {
    const script = `
      import { native as loadAddon } from ${JSON.stringify(path.join(repoRoot, 'dist', 'runtime', 'native.js'))};
      const native = loadAddon();
      import { readFileSync } from 'node:fs';
      let obj = new native.BpfObject(readFileSync(${JSON.stringify(extraPath)}), 'extra');
      obj.load();
      console.log(obj.programId('sock_count'));
      obj = null;
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log('done');
      setTimeout(() => {}, 2000);
    `;
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    await waitFor(() => out.includes('done'), 5000);
    const id = Number(out.split('\n')[0]);
    expect(id).toBeGreaterThan(0);
    // the process still runs, but its object was collected and closed
    expect(progExists(id)).toBe(false);
    child.kill('SIGKILL');
  });

  it('a stopped consumer does not keep the process alive', async () => {
    const script = `
      import { native as loadAddon } from ${JSON.stringify(path.join(repoRoot, 'dist', 'runtime', 'native.js'))};
      const native = loadAddon();
      import { readFileSync } from 'node:fs';
      const obj = new native.BpfObject(readFileSync(${JSON.stringify(rbOnlyPath)}), 'rbonly');
      obj.load();
      const c = new native.RecordConsumer(obj.mapFd('rb'), 'ringbuf', () => {});
      setTimeout(async () => { await c.stop(); obj.close(); console.log('stopped'); }, 30);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.on('close', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    expect(out.trim()).toBe('stopped');
    expect(code).toBe(0);
  });
});
