// IG's runtime conventions, each shown by a gadget of ours through the real CLI, asserting the
// events the test causes: <map>_max_entries sizing, an empty int default, tp_btf, programs left
// unattached by gadget_program_disabled (section and gadget.yaml), kernel stacks named through
// kallsyms and user stacks through the binary's symbols, IG's perf_event/<name> section with
// gadget.yaml's sampling frequency, uprobe/uretprobe on libc by library name, a USDT probe by
// library name, and --skip-unsupported-programs for a gadget with an optional kprobe.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync, existsSync, statfsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonLines, runIg } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith, linkCount } from '../helpers/run-with.js';
import { runWhenReady } from '../helpers/netns.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-conv-'));
const pwd = path.join(work, 'igcvpwd');
copyFileSync('/bin/pwd', pwd);
const runPwd = (n: number) => Array.from({ length: n }, () => spawnSync(pwd, ['-P'], { stdio: 'ignore' }).pid!);

/** A C program whose getcwd(2) is issued from ig_test_leaf, called by ig_test_middle, called by main. */
function stackProgram(): string {
  const src = path.join(work, 'stk.c'), bin = path.join(work, 'igcvstack');
  writeFileSync(src, `#include <unistd.h>
__attribute__((noinline)) void ig_test_leaf(void) {
  char b[256]; long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "0"(79L), "D"(b), "S"(sizeof b) : "rcx", "r11", "memory");
}
__attribute__((noinline)) void ig_test_middle(void) { ig_test_leaf(); __asm__ volatile(""); }
int main(void) { ig_test_middle(); sleep(2); return 0; }
`);
  execFileSync('gcc', ['-O0', '-fno-omit-frame-pointer', '-o', bin, src]);
  return bin;
}

beforeAll(async () => {
  for (const g of ['conventions', 'uprobe_libc', 'usdt_throw', 'optional_kprobe', 'perf_named', 'pinned_map']) await buildGadget(`test/gadgets/${g}`, g, env);
}, 180_000);
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

type Ev = Record<string, unknown> & { proc: { pid: number; comm: string } };
const convEvents = (stdout: string) => jsonLines(stdout) as Ev[];

describe('conventions gadget', () => {
  it('sizes a map from <map>_max_entries, keeps the object value of an int param whose default is "", attaches tp_btf and not the disabled programs', async () => {
    const r = await runWith(['run', 'conventions', '--comm', 'igcvpwd', '--slots-max-entries', '2', '-o', 'json', '-t', '3'], env, () => runPwd(3), { links: 2 });
    expect(r.code, r.stderr).toBe(0);
    const ev = convEvents(r.stdout);
    const tp = ev.filter((e) => e.source === 'TRACEPOINT');
    // three pids, room for two: the third insert fails with -E2BIG
    expect(tp.map((e) => [e.proc.pid, e.insert_ret, e.signal_like])).toEqual([[r.triggered[0], 0, 7], [r.triggered[1], 0, 7], [r.triggered[2], -7, 7]]);
    expect(ev.filter((e) => e.source === 'TP_BTF').map((e) => e.proc.pid)).toEqual(r.triggered);
    expect(ev.filter((e) => e.source !== 'TRACEPOINT' && e.source !== 'TP_BTF')).toEqual([]);
  });

  it('a given int param replaces the object value; an empty one keeps it', async () => {
    const three = await runWith(['run', 'conventions', '--comm', 'igcvpwd', '--signal-like', '3', '-o', 'json', '-t', '2'], env, () => runPwd(1), { links: 2 });
    expect(convEvents(three.stdout).map((e) => e.signal_like)).toEqual([3, 3]);
    const empty = await runWith(['run', 'conventions', '--comm', 'igcvpwd', '--signal-like', '', '-o', 'json', '-t', '2'], env, () => runPwd(1), { links: 2 });
    expect(convEvents(empty.stdout).map((e) => e.signal_like)).toEqual([7, 7]);
  });

  it('a size of 0 for a sized map is a usage error naming the map and the flag', async () => {
    const r = await runIg(['run', 'conventions', '--slots-max-entries', '0', '-t', '1'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--slots-max-entries is 0: map slots needs at least 1 entry/);
  });

  it('names the frames of kernel stacks (kallsyms) and user stacks (the binary\'s symbols), with IG\'s field names', async () => {
    const bin = stackProgram();
    const r = await runWith(['run', 'conventions', '--comm', 'igcvstack', '--collect-ustack', '-o', 'json', '-t', '4'], env,
      () => spawnSync(bin, [], { stdio: 'ignore' }).pid!, { links: 2 });
    expect(r.code, r.stderr).toBe(0);
    const e = convEvents(r.stdout).find((x) => x.source === 'TRACEPOINT')!;
    expect(e.proc.pid).toBe(r.triggered);
    const kstack = (e.kstack as string).split('; ').filter(Boolean);
    expect(kstack).toContain('do_syscall_64');
    expect(kstack).not.toContain('[unknown]');
    const ustack = e.ustack as { symbols: string; addresses: string; buildid: string };
    expect(ustack.symbols.split('; ').slice(0, 3)).toEqual(['ig_test_leaf', 'ig_test_middle', 'main']);
    expect(ustack.addresses).toMatch(/^(0x[0-9a-f]{16}; )+$/);
    // columns: gadget_process members show under IG's aliases, the raw stack ids hidden
    const cols = await runWith(['run', 'conventions', '--comm', 'igcvpwd', '-t', '2'], env, () => runPwd(1), { links: 2 });
    const header = cols.stdout.split('\n')[0]!.trim().split(/\s+/);
    expect(header).toEqual(expect.arrayContaining(['COMM', 'PID', 'TID', 'UID', 'GID', 'KSTACK']));
    expect(header.filter((h) => h.startsWith('PROC.') || h === 'KSTACK_RAW' || h === 'MNTNS_ID')).toEqual([]);
  });
});

describe('perf_event/<name>', () => {
  it('loads as a perf-event program and samples at gadget.yaml\'s frequency (199 Hz, not the default 49)', async () => {
    const busy = path.join(work, 'igcvbusy');
    copyFileSync('/usr/bin/python3', busy);
    const r = await runWith(['run', 'perf_named', '--comm', 'igcvbusy', '-o', 'json', '-t', '3'], env, () =>
      execFileSync(busy, ['-c', 'import time,os\nt=time.time()\nwhile time.time()-t<0.8: pass\nprint(os.getpid(), time.process_time())'], { encoding: 'utf8' })
        .trim().split(' ').map(Number));
    expect(r.code, r.stderr).toBe(0);
    const [pid, cpuSeconds] = r.triggered;
    const ev = jsonLines(r.stdout);
    expect(new Set(ev.map((e) => e.pid))).toEqual(new Set([pid]));
    // samples follow the CPU time the process used: ~199 per second at 199 Hz, ~49 at the default
    expect(ev.length).toBeGreaterThan(Math.max(0.6 * 199 * cpuSeconds!, 1.5 * 49 * cpuSeconds!));
  });
});

describe('uprobes by library name', () => {
  it('uprobe and uretprobe on libc:malloc see exactly the call the test makes', async () => {
    const size = 1234577;
    const r = await runWith(['run', 'uprobe_libc', '--size', String(size), '-o', 'json', '-t', '3'], env, () =>
      Number(execFileSync('python3', ['-c', `import ctypes,os\nctypes.CDLL(None).malloc(${size})\nprint(os.getpid())`], { encoding: 'utf8' }).trim()), { links: 2 });
    expect(r.code, r.stderr).toBe(0);
    const ev = jsonLines(r.stdout);
    expect(ev.map((e) => [e.pid, e.comm, e.kind, e.size])).toEqual([[r.triggered, 'python3', 'MALLOC_CALL', size], [r.triggered, 'python3', 'MALLOC_RETURN', size]]);
    expect(ev[1]!.ret).not.toBe(0);
  });

  const hasThrowProbe = (() => {
    try {
      return execFileSync('readelf', ['-n', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6'], { encoding: 'utf8' }).includes('Name: throw');
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasThrowProbe || !existsSync('/usr/bin/g++'))('usdt on libstdc++:libstdcxx:throw sees each exception the test throws', async () => {
    const src = path.join(work, 'thr.cc'), bin = path.join(work, 'igcvthrow');
    writeFileSync(src, '#include <stdexcept>\nint main(){ for(int i=0;i<3;i++){ try { throw std::runtime_error("x"); } catch (...) {} } return 0; }\n');
    execFileSync('g++', ['-O0', '-o', bin, src]);
    const r = await runWhenReady(['run', 'usdt_throw', '-o', 'json', '-t', '3'], env, (pid) => linkCount(pid) >= 1,
      () => spawnSync(bin, [], { stdio: 'ignore' }).pid!);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).filter((e) => e.comm === 'igcvthrow').map((e) => e.pid)).toEqual([r.triggered, r.triggered, r.triggered]);
  });
});

describe('--skip-unsupported-programs', () => {
  it('without it, the missing kernel feature is the error; with it, the gadget runs and names each program left out and the fields left empty', async () => {
    const refused = await runIg(['run', 'optional_kprobe', '--comm', 'igcvpwd', '-t', '1'], { env });
    const full = refused.code === 0;
    if (!full) expect(refused.stderr).toMatch(/this kernel has no (kprobe support \(CONFIG_KPROBES\)|fentry\/fexit support \(BPF trampolines\)): cannot (attach|load) program "on_(kprobe|fentry)"/);
    const r = await runWith(['run', 'optional_kprobe', '--comm', 'igcvpwd', '--skip-unsupported-programs', '-o', 'json', '-t', '2'], env, () => runPwd(2));
    expect(r.code, r.stderr).toBe(0);
    // which programs this kernel leaves out: each is named with the field only it fills
    const left = [...r.stderr.matchAll(/warning: program (on_\w+) left out \(--skip-unsupported-programs\): this kernel has no [^;]*; fields that will stay empty: (\w+)/g)].map((m) => [m[1], m[2]]);
    for (const [prog, field] of left) expect(field).toBe(prog === 'on_kprobe' ? 'via_kprobe' : 'via_fentry');
    const skipped = new Set(left.map(([p]) => p));
    if (!full) expect(skipped.size).toBeGreaterThan(0);
    expect(jsonLines(r.stdout).map((e) => [e.pid, e.comm, e.size, e.via_kprobe, e.via_fentry])).toEqual(
      r.triggered.map((p) => [p, 'igcvpwd', 4096, skipped.has('on_kprobe') ? 0 : 1, skipped.has('on_fentry') ? 0 : 1]));
  });
});

describe('pinned maps', () => {
  it('a map pinned by name lives under /sys/fs/bpf (bpffs mounted when missing) and is shared by the next run', async () => {
    const pin = '/sys/fs/bpf/ig_test_pinned_calls';
    rmSync(pin, { force: true });
    try {
      const first = await runWith(['run', 'pinned_map', '--comm', 'igcvpwd', '-o', 'json', '-t', '2'], env, () => runPwd(2));
      expect(first.code, first.stderr).toBe(0);
      expect(jsonLines(first.stdout).map((e) => e.calls)).toEqual([1, 2]);
      expect(statfsSync('/sys/fs/bpf').type).toBe(0xcafe4a11);
      expect(existsSync(pin)).toBe(true);
      const second = await runWith(['run', 'pinned_map', '--comm', 'igcvpwd', '-o', 'json', '-t', '2'], env, () => runPwd(1));
      expect(jsonLines(second.stdout).map((e) => e.calls)).toEqual([3]);
    } finally {
      rmSync(pin, { force: true });
    }
  });
});
