// profile_cpu: perf_event sampling on every CPU, counted per process and stack, with the kernel
// frames named through /proc/kallsyms and the user frames through the program's own symbols.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonLines } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith } from '../helpers/run-with.js';

const store = tempStore();
const work = mkdtempSync(path.join(tmpdir(), 'ig-prof-'));
beforeAll(() => buildGadget('gadgets/profile_cpu', 'profile_cpu', store.env), 120_000);
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/**
 * A program that burns CPU in user space in ig_burn_leaf (called by ig_burn_middle, called by
 * main) and in the kernel by reading /dev/zero, for `seconds`.
 */
function burner(): string {
  const src = path.join(work, 'burn.c'), bin = path.join(work, 'igburn');
  writeFileSync(src, `#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static char buf[1 << 20];
__attribute__((noinline)) unsigned long ig_burn_leaf(unsigned long n) { volatile unsigned long x = 0; for (unsigned long i = 0; i < n; i++) x += i * i; return x; }
__attribute__((noinline)) unsigned long ig_burn_middle(unsigned long n) { unsigned long r = ig_burn_leaf(n); __asm__ volatile(""); return r; }
__attribute__((noinline)) void ig_burn_kernel(int fd) { for (int i = 0; i < 64; i++) if (read(fd, buf, sizeof buf) < 0) return; __asm__ volatile(""); }
int main(int argc, char **argv) {
  int fd = open("/dev/zero", O_RDONLY);
  time_t end = time(0) + atoi(argv[1]);
  while (time(0) < end) { ig_burn_middle(20000000); ig_burn_kernel(fd); }
  return 0;
}
`);
  execFileSync('gcc', ['-O1', '-fno-omit-frame-pointer', '-o', bin, src]);
  return bin;
}

type Row = { samples: number; kern_stack: string; kernel_ip: number | string; proc: { pid: number; comm: string }; user_stack_raw: { symbols: string } };

describe('profile_cpu (perf_event program on every CPU)', () => {
  it('a program burning CPU in known functions: about 49 samples per CPU second, user frames and kernel frames named', async () => {
    const bin = burner();
    const r = await runWith(['run', 'profile_cpu', '-o', 'json', '--comm', 'igburn', '--collect-ustack', '--map-fetch-count', '1', '--map-fetch-interval', '3s'],
      store.env, () => spawn(bin, ['6'], { stdio: 'ignore' }), { links: 1 });
    const child = r.triggered;
    try {
      expect(r.code, r.stderr).toBe(0);
      const rows = (jsonLines(r.stdout).flat() as Row[]).filter((x) => x.proc.pid === child.pid);
      const total = rows.reduce((n, x) => n + x.samples, 0);
      // 3 s at 49 Hz is 147 samples on a free CPU; the machine is shared, so ask for a third of that
      expect(total, r.stdout.slice(0, 2000)).toBeGreaterThan(45);
      expect(total).toBeLessThanOrEqual(3 * 49 + 10);
      expect(rows.every((x) => x.proc.comm === 'igburn')).toBe(true);
      // user space: the burning function and its callers, innermost first; no kernel stack
      // (a sample can also interrupt the kernel while the user stack is there: a page fault, an irq)
      const user = rows.filter((x) => x.kern_stack === '' && x.user_stack_raw.symbols.startsWith('ig_burn_leaf; ig_burn_middle; main; '));
      expect(user.reduce((n, x) => n + x.samples, 0)).toBeGreaterThan(total / 2);
      expect(rows.filter((x) => x.kern_stack === '').every((x) => x.kernel_ip === 0)).toBe(true);
      // the kernel: reading /dev/zero, under the syscall entry, and the user frames that asked for it
      const kernel = rows.filter((x) => x.kern_stack.includes('read_zero'));
      expect(kernel.length, 'no sample taken while reading /dev/zero').toBeGreaterThan(0);
      for (const k of kernel) {
        const frames = k.kern_stack.split('; ').filter(Boolean);
        expect(frames).toContain('do_syscall_64');
        expect(frames).toContain('vfs_read');
        expect(frames).not.toContain('[unknown]');
        // a kernel address: beyond 2^53, so JSON carries it as an exact decimal string
        expect(BigInt(k.kernel_ip) >> 63n).toBe(1n);
        expect(k.user_stack_raw.symbols.split('; ')).toContain('main');
      }
    } finally {
      child.kill();
    }
  });
});
