import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runIg, spawnIg, collect, jsonLines } from '../helpers/ig.js';
import { tempStore, buildGadget, writeImageTar } from '../helpers/gadgets.js';
import { heldBpfIds, bpfObjectExists, mntnsOf, waitFor } from '../helpers/kernel.js';
import { linkCount } from '../helpers/run-with.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-run-'));

beforeAll(async () => {
  await buildGadget('gadgets/trace_open', 'trace_open', env);
}, 120_000);
afterAll(() => store.cleanup());

/**
 * Run `fn` while a process (pid known) opens a new file `file` and a missing `missing` every 50 ms;
 * the process is stopped after.
 */
async function withOpener(fn: (o: { file: string; missing: string; pid: number }) => Promise<void>): Promise<void> {
  const file = path.join(tmpdir(), `ig-${randomBytes(6).toString('hex')}`);
  const missing = `${file}-missing`;
  writeFileSync(file, 'x');
  const child = spawn(process.execPath, ['-e', `
    const fs = require('fs');
    setInterval(() => { fs.closeSync(fs.openSync(${JSON.stringify(file)}, 'r')); try { fs.openSync(${JSON.stringify(missing)}, 'r'); } catch {} }, 50);
  `], { stdio: 'ignore' });
  try {
    await fn({ file, missing, pid: child.pid! });
  } finally {
    child.kill();
  }
}

function assertCleanError(r: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  expect(r.code).not.toBeNull();
  expect(r.stderr).toMatch(/^error: /m);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m); // no stack trace
}

describe('ig run trace_open on the real kernel', () => {
  it('reports an open of a known file with pid, comm, fd, mntns_id, and a failed one with ENOENT', async () => {
    await withOpener(async ({ file, missing, pid }) => {
      const r = await runIg(['run', 'trace_open', '-o', 'json', '-t', '3'], { env });
      expect(r.code, r.stderr).toBe(0);
      const events = jsonLines(r.stdout);
      const ok = events.find((e) => e.fname === file);
      expect(ok, `no event for ${file} among ${events.length}`).toBeDefined();
      expect(ok!.pid).toBe(pid);
      expect(ok!.comm).toBe('node');
      expect(ok!.fd as number).toBeGreaterThanOrEqual(0);
      expect(ok!.mntns_id).toBe(mntnsOf(pid));
      expect(ok!.error).toBe('');
      const bad = events.find((e) => e.fname === missing);
      expect(bad, 'no event for the missing file').toBeDefined();
      expect(bad!.error).toBe('ENOENT');
      expect(bad!.pid).toBe(pid);
    });
  });

  it('flags and mode as the caller passed them: openat with O_CREAT from a second thread, openat2 with its struct open_how', async () => {
    const created = path.join(work, `created-${randomBytes(4).toString('hex')}`);
    const target = path.join(work, 'openat2-target');
    writeFileSync(target, 'x');
    // a worker thread (tid != pid) creates a file with mode 0640 every 50 ms
    const node = spawn(process.execPath, ['-e', `
      const { Worker } = require('worker_threads');
      new Worker(\`
        const fs = require('fs');
        setInterval(() => { fs.closeSync(fs.openSync(${JSON.stringify(created)}, 'wx', 0o640)); fs.unlinkSync(${JSON.stringify(created)}); }, 50);
      \`, { eval: true });
    `], { stdio: 'ignore' });
    // openat2(AT_FDCWD, target, {O_RDONLY|O_NOFOLLOW|O_CLOEXEC}) every 50 ms (syscall 437 on x86_64 and arm64)
    const py = spawn('python3', ['-c', `
import ctypes, os, struct, time
libc = ctypes.CDLL(None, use_errno=True)
how = struct.pack('QQQ', os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0, 0)
while True:
    fd = libc.syscall(ctypes.c_long(437), ctypes.c_long(-100), ${JSON.stringify(target)}.encode(), how, ctypes.c_size_t(len(how)))
    if fd >= 0: os.close(fd)
    time.sleep(0.05)
`], { stdio: 'ignore' });
    try {
      const r = await runIg(['run', 'trace_open', '-o', 'json', '-t', '3'], { env });
      expect(r.code, r.stderr).toBe(0);
      const events = jsonLines(r.stdout);
      const c = events.find((e) => e.fname === created && e.pid === node.pid);
      expect(c, `no event for ${created} among ${events.length}`).toBeDefined();
      expect(c!.flags).toMatch(/O_WRONLY/);
      expect(c!.flags).toMatch(/O_CREAT/);
      expect(c!.flags).toMatch(/O_EXCL/);
      expect(c!.mode_raw).toBe(0o640);
      expect(c!.mode).toBe('-rw-r-----');
      expect(c!.tid).not.toBe(c!.pid);
      expect([c!.ns_pid, c!.ns_tid]).toEqual([c!.pid, c!.tid]); // the host's pid namespace
      const o = events.find((e) => e.fname === target && e.pid === py.pid);
      expect(o, 'no event for the openat2 call').toBeDefined();
      expect(o!.flags).toBe('O_RDONLY|O_NOFOLLOW|O_CLOEXEC');
      expect(o!.fd as number).toBeGreaterThanOrEqual(0);
    } finally {
      node.kill();
      py.kill();
    }
  });

  it('--pid keeps only that process (pushed into the kernel as targ_pid)', async () => {
    await withOpener(async ({ pid }) => {
      const r = await runIg(['run', 'trace_open', '-o', 'json', '-t', '2', '--pid', String(pid)], { env });
      expect(r.code, r.stderr).toBe(0);
      const events = jsonLines(r.stdout).filter((e) => e.fname !== undefined);
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.pid === pid)).toBe(true);
    });
  });

  it('prints columns with a header by default', async () => {
    const r = await runIg(['run', 'trace_open', '-t', '1'], { env });
    expect(r.code, r.stderr).toBe(0);
    const header = r.stdout.split('\n')[0];
    for (const col of ['PID', 'COMM', 'FD', 'ERROR', 'FNAME']) expect(header).toContain(col);
  });

  it('-F keeps only the matching events in JSON, on any field, formatted ones too', async () => {
    await withOpener(async ({ file, missing, pid }) => {
      const r = await runIg(['run', 'trace_open', '-o', 'json', '-t', '2', '-F', `fname~^${file}`, '-F', 'error==ENOENT'], {
        env: { ...env, IG_STATS: '1' },
      });
      expect(r.code, r.stderr).toBe(0);
      const events = jsonLines(r.stdout);
      expect(events.length).toBeGreaterThan(5);
      for (const e of events) expect([e.fname, e.error, e.pid]).toEqual([missing, 'ENOENT', pid]);
      const shown = Number(/ig-stats: received=\d+ shown=(\d+)/.exec(r.stderr)?.[1]);
      expect(shown).toBe(events.length);
    });
  });

  it('stops quietly with exit 0 when the reader of its output goes away (| head -n 1)', async () => {
    await withOpener(async ({ pid }) => {
      for (const output of ['json', 'columns']) {
        const sh = spawn('bash', ['-c', `"${process.execPath}" bin/ig.js run trace_open -o ${output} --pid ${pid} | head -n 1; echo "ig exit \${PIPESTATUS[0]}" >&2`], {
          env: { ...process.env, ...env }, cwd: path.resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'],
        });
        const r = await collect(sh, 30_000);
        expect(r.stdout.trim().split('\n')).toHaveLength(1);
        expect(r.stderr.trim(), output).toBe('ig exit 0');
      }
    });
  });

  it('sizes its ring buffer: 1 MiB per CPU by default, what --buffer-size says, never below the gadget\'s own', async () => {
    const ringOf = async (extra: string[]) => {
      const child = spawnIg(['run', 'trace_open', '-o', 'json', ...extra], { env });
      const result = collect(child, 30_000);
      try {
        const ids = await waitFor(() => {
          const h = heldBpfIds(child.pid!);
          return h.links.length >= 2 ? h.maps : undefined;
        }, 15_000, 'ig to attach');
        for (const id of ids) {
          const m = JSON.parse(execFileSync('bpftool', ['-j', 'map', 'show', 'id', String(id)], { encoding: 'utf8' })) as { type: string; max_entries: number };
          if (m.type === 'ringbuf') return m.max_entries;
        }
        return undefined;
      } finally {
        child.kill('SIGINT');
        await result;
      }
    };
    // possible CPUs, as the kernel (and libbpf) count them: "0-1", "0-3,8-11"
    const cpus = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',')
      .reduce((n, r) => { const [a, b] = r.split('-').map(Number); return n + (b === undefined ? 1 : b! - a! + 1); }, 0);
    const pow2 = (n: number) => 2 ** Math.ceil(Math.log2(n));
    expect(await ringOf([])).toBe(pow2(Math.min(64, cpus) * 1024 * 1024));
    expect(await ringOf(['--buffer-size', '8M'])).toBe(8 * 1024 * 1024);
    expect(await ringOf(['--buffer-size', '16k'])).toBe(256 * 1024); // trace_open declares 256 KiB
    const bad = await runIg(['run', 'trace_open', '--buffer-size', 'lots'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --buffer-size: "lots" is not a size/m);
  });

  it('attaches only the programs that do something on this kernel: with bpf_task_pt_regs, the exit tracepoints', async () => {
    // trace_open's enter programs only return where the exit reads the arguments (Linux 5.15+):
    // an attached syscall tracepoint would still cost every traced open a perf buffer fill
    const atExit = /\sbpf_task_pt_regs$/m.test(readFileSync('/proc/kallsyms', 'utf8'));
    await withOpener(async ({ file, pid }) => {
      const child = spawnIg(['run', 'trace_open', '-o', 'json', '--pid', String(pid), '-t', '3'], { env });
      const result = collect(child, 30_000);
      await waitFor(() => linkCount(child.pid!) >= 3, 15_000, 'ig to attach');
      await new Promise((r) => setTimeout(r, 500)); // attached one after the other
      const links = linkCount(child.pid!);
      const r = await result;
      expect(r.code, r.stderr).toBe(0);
      expect(links).toBe(atExit ? 3 : 6);
      expect(jsonLines(r.stdout).some((e) => e.fname === file), 'no event for the opened file').toBe(true);
    });
  });

  for (const how of ['timeout', 'SIGINT'] as const) {
    it(`releases every program and map it created after exiting by ${how}`, async () => {
      const child = spawnIg(['run', 'trace_open', '-o', 'json', ...(how === 'timeout' ? ['-t', '2'] : [])], { env });
      const result = collect(child, 30_000);
      const held = await waitFor(() => {
        const h = heldBpfIds(child.pid!);
        return h.progs.length >= 2 ? h : undefined;
      }, 15_000, 'ig to load its programs');
      if (how === 'SIGINT') child.kill('SIGINT');
      const r = await result;
      expect(r.code, r.stderr).toBe(0);
      // The kernel frees a map after an RCU grace period once its last reference is gone, so
      // allow it a moment; anything ig left pinned or held would stay for good.
      const gone = async (kind: 'prog' | 'map', id: number) =>
        waitFor(() => !bpfObjectExists(kind, id), 3000).then(() => true, () => false);
      for (const id of held.progs) expect(await gone('prog', id), `prog ${id} left behind`).toBe(true);
      for (const id of held.maps) expect(await gone('map', id), `map ${id} left behind`).toBe(true);
    });
  }

  it('lists the gadget params in ig run IMAGE --help', async () => {
    const r = await runIg(['run', 'trace_open', '--help'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Gadget params:/);
    expect(r.stdout).toMatch(/--failed/);
    expect(r.stdout).toMatch(/--pid/);
  });
});

describe('ig run refuses bad input clearly', () => {
  it('an image that does not exist', async () => {
    const r = await runIg(['run', 'no_such_gadget_zz', '--pull', 'never'], { env });
    assertCleanError(r, /no_such_gadget_zz/);
  });

  it('an unknown flag', async () => {
    const r = await runIg(['run', 'trace_open', '--bogus-flag', '1', '-t', '1'], { env });
    assertCleanError(r, /unknown flag --bogus-flag\n/);
    const negated = await runIg(['run', 'trace_open', '--no-such-param', '1', '-t', '1'], { env });
    assertCleanError(negated, /unknown flag --no-such-param\n/);
  });

  it('a param of the wrong type', async () => {
    const r = await runIg(['run', 'trace_open', '--pid', 'abc', '-t', '1'], { env });
    assertCleanError(r, /--pid: "abc" is not an integer/);
  });

  it('a filter on a field that does not exist', async () => {
    const r = await runIg(['run', 'trace_open', '-F', 'nosuchfield==1', '-t', '1'], { env });
    assertCleanError(r, /nosuchfield/);
  });

  it('an image whose eBPF layer is not ELF', async () => {
    const tar = path.join(work, 'notelf.tar');
    await writeImageTar(tar, 'ghcr.io/inspektor-gadget/gadget/notelf:latest', Buffer.from('this is not an ELF object at all'));
    const imp = await runIg(['image', 'import', tar], { env });
    expect(imp.code, imp.stderr).toBe(0);
    assertCleanError(await runIg(['run', 'notelf', '--pull', 'never'], { env }), /not an ELF object/);
  });

  it('an object without BTF', async () => {
    const dir = mkdtempSync(path.join(work, 'nobtf-'));
    const src = path.join(dir, 'p.bpf.c');
    writeFileSync(src, `
      #define SEC(n) __attribute__((section(n), used))
      SEC("tracepoint/syscalls/sys_enter_getcwd") int f(void *ctx) { return 0; }
      char LICENSE[] SEC("license") = "GPL";
    `);
    execFileSync('clang-19', ['-target', 'bpf', '-O2', '-c', src, '-o', path.join(dir, 'p.o')]);
    const tar = path.join(work, 'nobtf.tar');
    await writeImageTar(tar, 'ghcr.io/inspektor-gadget/gadget/nobtf:latest', readFileSync(path.join(dir, 'p.o')));
    expect((await runIg(['image', 'import', tar], { env })).code).toBe(0);
    assertCleanError(await runIg(['run', 'nobtf', '--pull', 'never'], { env }), /has no BTF/);
  });

  it('a program the verifier rejects, with the verifier\'s last lines', async () => {
    const dir = path.join(work, 'verifier_reject');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'program.bpf.c'), `
      #include <vmlinux.h>
      #include <bpf/bpf_helpers.h>
      struct event { __u32 pid; };
      struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); __type(value, struct event); } print_events SEC(".maps");
      SEC("tracepoint/syscalls/sys_enter_getcwd")
      int reads_far_past_ctx(void *ctx) { return ((char *)ctx)[100000]; }
      char LICENSE[] SEC("license") = "GPL";
    `);
    await buildGadget(dir, 'verifier_reject', env);
    const r = await runIg(['run', 'verifier_reject', '--pull', 'never'], { env });
    assertCleanError(r, /verifier rejected program "reads_far_past_ctx"/);
    expect(r.stderr).toMatch(/dereference of modified ctx ptr/);
    expect(r.stderr).not.toMatch(/libbpf: failed to load object/);
  });

  it('a kprobe program names the missing kernel feature', async () => {
    const dir = path.join(work, 'kprobe_only');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'program.bpf.c'), `
      #include <vmlinux.h>
      #include <bpf/bpf_helpers.h>
      struct event { __u32 pid; };
      struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); __type(value, struct event); } print_events SEC(".maps");
      SEC("kprobe/do_sys_openat2")
      int on_open(void *ctx) { return 0; }
      char LICENSE[] SEC("license") = "GPL";
    `);
    await buildGadget(dir, 'kprobe_only', env);
    const r = await runIg(['run', 'kprobe_only', '--pull', 'never', '-t', '1'], { env });
    const hasKprobes = readFileSync('/proc/kallsyms', 'utf8').includes(' register_kprobe');
    if (hasKprobes) {
      expect(r.code, r.stderr).toBe(0); // a kernel with kprobes runs it
    } else {
      assertCleanError(r, /kprobe support \(CONFIG_KPROBES\)/);
    }
  });
});
