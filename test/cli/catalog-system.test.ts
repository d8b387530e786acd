// The catalog's system gadgets that run without kprobes, each fed what the test does and checked
// field by field: trace_init_module (module loads refused), snapshot_file (a file the test holds
// open), trace_malloc (a known malloc and its free, uprobes on libc), profile_blockio (direct I/O
// on a loop device over a tmpfs file, counted per disk and operation).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonLines, runIg } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith, runChild } from '../helpers/run-with.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-catsys-'));

beforeAll(async () => {
  for (const g of ['trace_init_module', 'snapshot_file', 'trace_malloc', 'profile_blockio']) await buildGadget(`gadgets/${g}`, g, env);
}, 240_000);
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

type Ev = Record<string, unknown> & { proc: { pid: number; comm: string } };
const events = (stdout: string) => jsonLines(stdout).filter((e) => !('lost' in e)) as Ev[];

describe('trace_init_module', () => {
  it('finit_module of a bogus file and init_module of a bogus image: arguments, path, and the error the caller got', async () => {
    const bogus = path.join(work, 'bogus.ko');
    writeFileSync(bogus, 'not an ELF module\n');
    // the numbers of x86_64 (the arch this test runs on); errno printed as the caller saw it
    const script = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(${JSON.stringify(bogus)}, os.O_RDONLY)
r1 = libc.syscall(313, fd, b"ig_param=1", 0); e1 = ctypes.get_errno()
img = b"\\x7fELF-not-really" * 4
r2 = libc.syscall(175, img, len(img), b"other=2"); e2 = ctypes.get_errno()
print(os.getpid(), fd, r1, e1, r2, e2, len(img))`;
    const r = await runWith(['run', 'trace_init_module', '-o', 'json', '-t', '2', '--comm', 'python3'], env,
      () => runChild('python3', ['-c', script]), { links: 2 });
    expect(r.code, r.stderr).toBe(0);
    const [pid, fd, r1, e1, r2, e2, len] = r.triggered.stdout.trim().split(' ').map(Number);
    // refused either way (this kernel has no module support: ENOSYS; elsewhere the bogus image is refused)
    expect([r1, r2]).toEqual([-1, -1]);
    const errno = (n: number) => execFileSync('python3', ['-c', `import errno; print(errno.errorcode[${n}])`], { encoding: 'utf8' }).trim();
    const mine = events(r.stdout).filter((e) => e.proc.pid === pid);
    expect(mine.map((e) => e.syscall)).toEqual(['finit_module', 'init_module']);
    expect(mine[0]).toMatchObject({ fd, flags: 0, filepath: bogus, param_values: 'ig_param=1', len: 0, error: errno(e1!), error_raw: e1 });
    expect(mine[1]).toMatchObject({ len, param_values: 'other=2', fd: 0, filepath: '', error: errno(e2!), error_raw: e2 });
    expect(mine[0]!.proc).toMatchObject({ comm: 'python3', tid: pid, creds: { uid: 0, gid: 0 } });
  });
});

describe('snapshot_file', () => {
  it('lists a file the test holds open, with its fd, whole path (--paths), inode and flags; a pipe only when its type is asked for', async () => {
    const file = path.join(work, 'held-open.txt');
    writeFileSync(file, 'x');
    const fd = openSync(file, 'a');
    try {
      const r = await runIg(['run', 'snapshot_file', '-o', 'json', '--pid', String(process.pid), '--paths'], { env });
      expect(r.code, r.stderr).toBe(0);
      const rows = jsonLines(r.stdout).flat() as Record<string, unknown>[];
      const row = rows.filter((x) => x.fd === fd);
      expect(row, r.stdout.slice(0, 2000)).toHaveLength(1);
      expect(row[0]).toMatchObject({
        pid: process.pid, path: file, type: 'REGULAR', inode: statSync(file).ino, flags: 'O_WRONLY|O_APPEND|O_LARGEFILE',
      });
      expect(rows.every((x) => x.pid === process.pid && (x.type === 'REGULAR' || x.type === 'DIRECTORY'))).toBe(true);
      // without --paths: the last component only; with --type-mask 4 pipes only
      const short = await runIg(['run', 'snapshot_file', '-o', 'json', '--pid', String(process.pid)], { env });
      expect((jsonLines(short.stdout).flat() as Record<string, unknown>[]).find((x) => x.fd === fd)?.path).toBe('held-open.txt');
    } finally {
      closeSync(fd);
    }
  });

  it('the two ends of a pipe a child holds show as PIPE with --type-mask 4, and nothing else of it', async () => {
    // (node hands its children socket pairs for stdio, not pipes)
    const child = spawn('python3', ['-c', 'import os, time\nr, w = os.pipe()\nprint(r, w, flush=True)\ntime.sleep(10)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      let line = '';
      await new Promise<void>((res) => child.stdout!.on('data', (d) => (line += d).includes('\n') && res()));
      const [rd, wr] = line.trim().split(' ').map(Number);
      // every pipe the child holds, as /proc shows it: the two it made (and any it inherited)
      const pipes = readdirSync(`/proc/${child.pid}/fd`).map(Number)
        .filter((n) => readlinkSync(`/proc/${child.pid}/fd/${n}`).startsWith('pipe:'));
      expect(pipes).toEqual(expect.arrayContaining([rd, wr]));
      const r = await runIg(['run', 'snapshot_file', '-o', 'json', '--type-mask', '4', '--pid', String(child.pid)], { env });
      expect(r.code, r.stderr).toBe(0);
      const rows = jsonLines(r.stdout).flat() as Record<string, unknown>[];
      expect(rows.map((x) => x.fd).sort()).toEqual(pipes.sort());
      expect(rows.every((x) => x.type === 'PIPE')).toBe(true);
    } finally {
      child.kill();
    }
  });
});

describe('trace_malloc', () => {
  it('a program mallocs 123457 bytes and frees them: the allocation with its size and address, then the free of that address', async () => {
    const src = path.join(work, 'malloc.c'), bin = path.join(work, 'igmalloctest');
    writeFileSync(src, `#include <stdio.h>
#include <stdlib.h>
int main(void) { void *p = malloc(123457); printf("%lu\\n", (unsigned long)p); fflush(stdout); free(p); return 0; }
`);
    execFileSync('gcc', ['-O0', '-o', bin, src]);
    const r = await runWith(['run', 'trace_malloc', '-o', 'json', '-t', '3', '--comm', 'igmalloctest'], env, () => runChild(bin, []), { links: 3 });
    expect(r.code, r.stderr).toBe(0);
    const addr = Number(r.triggered.stdout.trim());
    const mine = events(r.stdout).filter((e) => e.proc.pid === r.triggered.pid);
    const known = mine.filter((e) => e.addr === addr).map((e) => [e.operation, e.size]);
    expect(known, r.stdout.slice(0, 3000)).toEqual([['malloc', 123457], ['free', 0]]);
    // the only other call is stdio's buffer for stdout
    expect(mine.filter((e) => e.addr !== addr).map((e) => e.operation)).toEqual(['malloc']);
    expect(mine[0]!.proc.comm).toBe('igmalloctest');
  });
});

describe('profile_blockio', () => {
  it('16 direct reads and 8 direct writes on a loop device the test makes: exactly that many requests in its histograms', async () => {
    const img = path.join('/dev/shm', `ig-blockio-${process.pid}.img`);
    writeFileSync(img, Buffer.alloc(0));
    execFileSync('truncate', ['-s', '16M', img]);
    const dev = execFileSync('losetup', ['-f', '--show', img], { encoding: 'utf8' }).trim();
    try {
      const [major, minor] = execFileSync('stat', ['-c', '%t %T', dev], { encoding: 'utf8' }).trim().split(' ').map((h) => parseInt(h, 16));
      const devt = (major! << 20) | minor!;
      const r = await runWith(['run', 'profile_blockio', '-o', 'json', '--per-disk', '--per-flag', '--map-fetch-count', '1', '--map-fetch-interval', '2.5s'], env, () => {
        execFileSync('dd', [`if=${dev}`, 'of=/dev/null', 'bs=4096', 'count=16', 'iflag=direct'], { stdio: 'ignore' });
        execFileSync('dd', ['if=/dev/zero', `of=${dev}`, 'bs=4096', 'count=8', 'oflag=direct'], { stdio: 'ignore' });
      }, { links: 2 });
      expect(r.code, r.stderr).toBe(0);
      const rows = jsonLines(r.stdout).flat() as { dev: number; cmd_flags: number; latency: number[] }[];
      const mine = rows.filter((x) => x.dev === devt);
      const byOp = (op: number) => mine.filter((x) => (x.cmd_flags & 0xff) === op).reduce((n, x) => n + x.latency.reduce((a, b) => a + b, 0), 0);
      expect([byOp(0), byOp(1)], r.stdout).toEqual([16, 8]);
      expect(mine.every((x) => x.latency.length === 27)).toBe(true);
    } finally {
      execFileSync('losetup', ['-d', dev]);
      rmSync(img, { force: true });
    }
  });
});
