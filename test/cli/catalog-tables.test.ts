// The catalog's snapshotters and toppers through `ig run … -o json`: one JSON array per table.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runIg, spawnIg, collect } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { waitFor } from '../helpers/kernel.js';
import { linkCount } from '../helpers/run-with.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-catalog-'));

beforeAll(async () => {
  for (const g of ['snapshot_process', 'snapshot_socket', 'top_file', 'top_syscall']) await buildGadget(`gadgets/${g}`, g, env);
}, 180_000);
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

type Row = Record<string, unknown>;
const tables = (stdout: string): Row[][] => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row[]);

/**
 * A python3 child that waits for a line on stdin, runs `code`, prints what it prints and exits;
 * ig is started with `--pid <child>` in between, so the table holds only the child's rows.
 */
async function topperRun(gadget: string, code: string, igArgs: string[]): Promise<{ tables: Row[][]; pid: number; out: string; stderr: string; code: number | null }> {
  const child: ChildProcess = spawn('/usr/bin/python3', ['-c', `import sys, os\nsys.stdin.readline()\n${code}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const childDone = new Promise((r) => child.on('exit', r));
  const ig = spawnIg(['run', gadget, '--pid', String(child.pid), '-o', 'json', ...igArgs], { env });
  const result = collect(ig, 30_000);
  let exited = false;
  ig.on('exit', () => (exited = true));
  try {
    await waitFor(() => exited || linkCount(ig.pid!) >= 1, 20_000, `${gadget} to attach`);
    await new Promise((r) => setTimeout(r, 300)); // the remaining programs of the gadget
    child.stdin!.end('go\n');
    await childDone;
  } finally {
    child.kill();
  }
  const r = await result;
  return { tables: tables(r.stdout), pid: child.pid!, out, stderr: r.stderr, code: r.code };
}

describe('snapshot_process', () => {
  it('lists a child of the test with its pid, comm and parent', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await waitFor(() => child.pid !== undefined, 2000);
      const r = await runIg(['run', 'snapshot_process', '-o', 'json'], { env });
      expect(r.code, r.stderr).toBe(0);
      const t = tables(r.stdout);
      expect(t.length).toBe(1);
      const row = t[0]!.find((x) => x.pid === child.pid);
      expect(row, `pid ${child.pid} not among ${t[0]!.length} rows`).toBeDefined();
      expect(row).toMatchObject({ comm: 'sleep', tid: child.pid, ppid: process.pid, uid: 0, gid: 0 });
      // our own process is there too
      expect(t[0]!.some((x) => x.pid === process.pid)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('-F works on the learned fields, columns show a header', async () => {
    const r = await runIg(['run', 'snapshot_process', '-F', `pid==${process.pid}`], { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/COMM/);
    expect(lines[0]).toMatch(/PID/);
    expect(lines.length).toBe(2);
    expect(lines[1]).toContain(String(process.pid));
  });
});

describe('snapshot_socket', () => {
  it('shows a TCP listener the test opened on 127.0.0.1', async () => {
    const server = net.createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await runIg(['run', 'snapshot_socket', '-o', 'json', '--fields', 'proto,src,dst,state,uid'], { env });
      expect(r.code, r.stderr).toBe(0);
      const t = tables(r.stdout);
      expect(t.length).toBe(1);
      const row = t[0]!.find((x) => x.src === `127.0.0.1:${port}`);
      expect(row, r.stdout.slice(0, 2000)).toBeDefined();
      expect(row).toEqual({ proto: 'TCP', src: `127.0.0.1:${port}`, dst: '0.0.0.0:0', state: 'LISTEN', uid: 0 });
    } finally {
      server.close();
    }
  });

  it('a UDP socket too', async () => {
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
    try {
      const r = await runIg(['run', 'snapshot_socket', '-o', 'json', '--fields', 'proto,src,state', '-F', 'proto==UDP'], { env });
      expect(r.code, r.stderr).toBe(0);
      const t = tables(r.stdout);
      expect(t[0]).toContainEqual({ proto: 'UDP', src: `127.0.0.1:${s.address().port}`, state: 'CLOSE' });
      expect(t[0]!.every((x) => x.proto === 'UDP')).toBe(true);
    } finally {
      s.close();
    }
  });
});

describe('top_file', () => {
  it('the file read most comes first with --sort -reads', async () => {
    const a = path.join(work, 'fileA');
    const b = path.join(work, 'fileB');
    writeFileSync(a, 'aaaa');
    writeFileSync(b, 'bbbb');
    // one read(2) each: os.read of a known size
    const code = `
for _ in range(50):
    fd = os.open(${JSON.stringify(a)}, os.O_RDONLY); os.read(fd, 4); os.close(fd)
for _ in range(5):
    fd = os.open(${JSON.stringify(b)}, os.O_RDONLY); os.read(fd, 4); os.close(fd)
`;
    const r = await topperRun('top_file', code, ['--map-fetch-count', '1', '--map-fetch-interval', '2s', '--sort', '-reads']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.tables.length).toBe(1);
    const rows = r.tables[0]!;
    expect(rows[0]).toMatchObject({ pid: r.pid, file: 'fileA', reads: 50, rbytes: 200, writes: 0, t: 'R', comm: 'python3' });
    const rowB = rows.find((x) => x.file === 'fileB');
    expect(rowB).toMatchObject({ reads: 5, rbytes: 20 });
    expect(rows.every((x) => x.pid === r.pid)).toBe(true);
    // sorted: reads never increase down the table
    const reads = rows.map((x) => x.reads as number);
    expect([...reads].sort((p, q) => q - p)).toEqual(reads);
  });

  it('--max-entries 1 keeps the top row only', async () => {
    const a = path.join(work, 'fileC');
    writeFileSync(a, 'cc');
    const code = `
for _ in range(20):
    fd = os.open(${JSON.stringify(a)}, os.O_RDONLY); os.read(fd, 2); os.close(fd)
`;
    const r = await topperRun('top_file', code, ['--map-fetch-count', '1', '--map-fetch-interval', '1500ms', '--sort', '-reads', '--max-entries', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.tables).toEqual([[expect.objectContaining({ file: 'fileC', reads: 20 })]]);
  });
});

describe('top_syscall', () => {
  it('counts a process\'s getcwd calls exactly', async () => {
    const r = await topperRun('top_syscall', 'for _ in range(37): os.getcwd()', ['--map-fetch-count', '1', '--map-fetch-interval', '1500ms', '--sort', '-count']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.tables.length).toBe(1);
    const rows = r.tables[0]!;
    const getcwd = rows.find((x) => x.syscall_raw === 79);
    expect(getcwd, JSON.stringify(rows)).toMatchObject({ pid: r.pid, comm: 'python3', syscall: 'SYS_GETCWD', count: 37 });
    expect(rows.every((x) => x.pid === r.pid)).toBe(true);
    const counts = rows.map((x) => x.count as number);
    expect([...counts].sort((p, q) => q - p)).toEqual(counts);
  });
});
