// IG's wasm API, syscall and kallsyms functions (guests/kernel.c): names and numbers of x86_64
// syscalls, a declaration read from tracefs, symbols of /proc/kallsyms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIg } from '../helpers/ig.js';
import { PWD_COMM } from '../helpers/run-with.js';
import { tempStore } from '../helpers/gadgets.js';
import { buildWasmGadget, guestLines } from '../helpers/wasm.js';

const store = tempStore();
beforeAll(() => buildWasmGadget('kernel', 'wasm_kernel', store.env), 120_000);
afterAll(() => store.cleanup());

describe('wasm syscalls and kallsyms', () => {
  it('names, ids, declarations; buffers too small refused; kallsyms', async () => {
    const r = await runIg(['run', 'wasm_kernel', '-o', 'json', '-t', '0.5', '--comm', PWD_COMM], { env: store.env });
    expect(r.code, r.stderr).toBe(0);
    expect(guestLines(r.stderr)).toEqual([
      'syscall 0: read',
      'syscall 59: execve',
      'syscall 1000: syscall_3e8',
      'syscall 59 into 4 bytes: -1',
      'openat is 257, no_such_syscall is -1',
      'openat(dfd, filename*, flags, mode)',
      'declaration of no_such_syscall: -1',
      'declaration into 8 bytes: 1',
      'kallsyms: vfs_read 1, no_such_symbol_ig 0',
    ]);
    for (const w of [
      'getSyscallName: writing to guest memory for execve: 6 bytes do not fit 3',
      'getSyscallID: no syscall no_such_syscall',
      'getSyscallDeclaration: getting syscall declaration for "no_such_syscall": no syscall correspond to "no_such_syscall"',
      'getSyscallDeclaration: writing back syscall declaration to stack: buffer size 252 is bigger than 4',
    ]) expect(r.stderr).toContain(`warning: wasm wasm_kernel: ${w}\n`);
  });
});
