// The catalog's tracers through `ig run … -o json`, each fed a known action whose details the
// test knows (pid, argv, signal, ports, fds, mount point) and checked field by field.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmdirSync, writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { jsonLines } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith, runChild } from '../helpers/run-with.js';
import { mntnsOf } from '../helpers/kernel.js';

const store = tempStore();
const env = store.env;

beforeAll(async () => {
  for (const g of ['trace_exec', 'trace_signal', 'trace_tcp', 'trace_pipe', 'trace_mount', 'trace_oomkill']) {
    await buildGadget(`gadgets/${g}`, g, env);
  }
}, 180_000);
afterAll(() => store.cleanup());

const events = (stdout: string) => jsonLines(stdout).filter((e) => !('lost' in e));

describe('trace_exec', () => {
  it('an exec of /bin/true with known argv: pid, ppid, comm, args (joined by its wasm module, as IG: U+00A0 between), exepath, retval', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `arg${i}`);
    const r = await runWith(['run', 'trace_exec', '-o', 'json', '-t', '2'], env, () => {
      const ok = spawnSync('/bin/true', ['alpha', 'beta', '--gamma'], { stdio: 'ignore' });
      const bad = spawnSync('/nonexistent-ig-exec', ['x'], { stdio: 'ignore' });
      const long = spawnSync('/bin/true', ['two words', ...many], { stdio: 'ignore' });
      return { pid: ok.pid!, badErr: (bad.error as NodeJS.ErrnoException | undefined)?.code, long: long.pid! };
    });
    expect(r.code, r.stderr).toBe(0);
    const ev = events(r.stdout);
    const e = ev.find((x) => x.pid === r.triggered.pid);
    expect(e, `no exec event for pid ${r.triggered.pid}`).toBeDefined();
    expect(e).toMatchObject({
      tid: r.triggered.pid, ppid: process.pid, comm: 'true', args: ['/bin/true', 'alpha', 'beta', '--gamma'].join('\u00a0'), args_count: 3 + 1,
      exepath: realpathSync('/bin/true'), retval: 0, error: '', uid: 0, gid: 0,
    });
    expect(Math.abs(Date.parse(e!.timestamp as string) - Date.now())).toBeLessThan(60_000);
    // a failed exec is shown too (no --failed needed), with its errno
    expect(r.triggered.badErr).toBe('ENOENT');
    const failed = ev.find((x) => String(x.args).startsWith('/nonexistent-ig-exec'));
    expect(failed, 'no event for the failed exec').toBeDefined();
    expect(failed).toMatchObject({ error: 'ENOENT', exepath: '', args: '/nonexistent-ig-exec\u00a0x', args_count: 2 });
    // the whole argv of a successful exec, past the 20 arguments read at entry; spaces inside an argument stay
    expect(ev.find((x) => x.pid === r.triggered.long)).toMatchObject({ args: ['/bin/true', 'two words', ...many].join('\u00a0'), args_count: 42 });
  });
});

describe('trace_signal', () => {
  it('kill -USR1 of a child: sender pid, target pid, SIGUSR1', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const r = await runWith(['run', 'trace_signal', '-o', 'json', '-t', '1.5', '--pid', String(process.pid)], env, () => {
        process.kill(child.pid!, 'SIGUSR1');
      });
      expect(r.code, r.stderr).toBe(0);
      const ev = events(r.stdout);
      const e = ev.find((x) => x.tpid === child.pid);
      expect(e, r.stdout).toBeDefined();
      expect(e).toMatchObject({ pid: process.pid, sig: 'SIGUSR1', sig_raw: 10, error: '', syscall: 'kill' });
      // --pid is the sender filter, done in the kernel
      expect(ev.every((x) => x.pid === process.pid)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('trace_tcp', () => {
  it('a connection to a local listener: connect with 127.0.0.1 and the ports, then accept', async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await runWith(['run', 'trace_tcp', '-o', 'json', '-t', '2', '--fields', 'pid,comm,type,src,dst'], env, async () => {
        const c = net.connect(port, '127.0.0.1');
        await new Promise<void>((res, rej) => c.once('connect', res).once('error', rej));
        const local = c.localPort!;
        await new Promise((res) => setTimeout(res, 100));
        c.destroy();
        return local;
      });
      expect(r.code, r.stderr).toBe(0);
      const ev = events(r.stdout);
      const conn = ev.find((x) => x.type === 'connect' && x.dst === `127.0.0.1:${port}`);
      expect(conn, r.stdout).toBeDefined();
      expect(conn).toEqual({ pid: process.pid, comm: conn!.comm, type: 'connect', src: `127.0.0.1:${r.triggered}`, dst: `127.0.0.1:${port}` });
      const acc = ev.find((x) => x.type === 'accept' && x.src === `127.0.0.1:${port}`);
      expect(acc, 'no accept event').toBeDefined();
      expect(acc!.dst).toBe(`127.0.0.1:${r.triggered}`);
    } finally {
      server.close();
    }
  });

  it('-o json without --fields: the endpoints as objects with addr, port and proto', async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await runWith(['run', 'trace_tcp', '-o', 'json', '-t', '1.5', '--connect-only'], env, async () => {
        const c = net.connect(port, '127.0.0.1');
        await new Promise<void>((res, rej) => c.once('connect', res).once('error', rej));
        c.destroy();
      });
      expect(r.code, r.stderr).toBe(0);
      const e = events(r.stdout).find((x) => (x.dst as { port?: number })?.port === port);
      expect(e, r.stdout).toBeDefined();
      expect(e!.dst).toMatchObject({ addr: '127.0.0.1', port, proto: 'TCP', version: 4 });
      expect(e!.src).toMatchObject({ addr: '127.0.0.1', proto: 'TCP', version: 4 });
    } finally {
      server.close();
    }
  });
});

describe('trace_pipe', () => {
  it('a child calling pipe2: fds [r, w] as the child saw them, O_CLOEXEC', async () => {
    const r = await runWith(['run', 'trace_pipe', '-o', 'json', '-t', '2', '--comm', 'python3'], env, () =>
      runChild('/usr/bin/python3', ['-c', 'import os; r, w = os.pipe2(os.O_CLOEXEC); print(os.getpid(), r, w)']));
    expect(r.code, r.stderr).toBe(0);
    const [pid, rd, wr] = r.triggered.stdout.trim().split(' ').map(Number);
    const e = events(r.stdout).find((x) => x.pid === pid && Array.isArray(x.fds) && (x.fds as number[])[0] === rd);
    expect(e, r.stdout).toBeDefined();
    expect(e).toMatchObject({ comm: 'python3', fds: [rd, wr], flags: 'O_RDONLY|O_CLOEXEC', error: '' });
  });
});

describe('trace_mount', () => {
  it('a tmpfs mount and umount in a private mount namespace, and a failed mount and umount; flags and call from its wasm module', async () => {
    const r = await runWith(['run', 'trace_mount', '-o', 'json', '-t', '2'], env, () =>
      runChild('unshare', ['--mount', 'sh', '-c',
        'mount -t tmpfs -o size=1m,mode=755 none /mnt && umount /mnt; mount -t tmpfs none /nonexistent-ig-mnt 2>/dev/null; umount -l /nonexistent-ig-mnt2 2>/dev/null; true']));
    expect(r.code, r.stderr).toBe(0);
    expect(r.triggered.code).toBe(0);
    const ev = events(r.stdout);
    const m = ev.find((x) => x.op === 'MOUNT' && x.dest === '/mnt');
    expect(m, r.stdout).toBeDefined();
    // no MS_* flag: an empty set prints as "" (not "0")
    expect(m).toMatchObject({ comm: 'mount', src: 'none', fs: 'tmpfs', data: 'size=1m,mode=755', error: '', flags: '' });
    // unshare(1) makes its namespace private first: mount(none, "/", MS_REC|MS_PRIVATE)
    expect(ev.find((x) => x.comm === 'unshare' && x.op === 'MOUNT')).toMatchObject({ dest: '/', flags: 'MS_REC|MS_PRIVATE' });
    const u = ev.find((x) => x.op === 'UMOUNT' && x.dest === '/mnt');
    expect(u, 'no umount event').toBeDefined();
    expect(u).toMatchObject({ comm: 'umount', error: '' });
    // the mount namespace is the unshared one, not ours
    expect(m!.mntns_id).not.toBe(mntnsOf('self'));
    const bad = ev.find((x) => x.dest === '/nonexistent-ig-mnt');
    expect(bad, 'no event for the failed mount').toBeDefined();
    expect(bad!.error).toBe('ENOENT');
    // the wasm module's fields (gadgets/trace_mount/program.c), in IG's format: the errno after "="
    expect(m!.call).toBe('mount("none", "/mnt", "tmpfs", , "size=1m,mode=755") = 0');
    expect(u!.call).toBe('umount("/mnt", "") = 0');
    expect(bad!.call).toBe('mount("none", "/nonexistent-ig-mnt", "tmpfs", , "") = 2');
    expect(ev.find((x) => x.comm === 'unshare' && x.op === 'MOUNT')!.call).toBe('mount("none", "/", "", MS_REC|MS_PRIVATE, "") = 0');
    expect(ev.find((x) => x.dest === '/nonexistent-ig-mnt2')).toMatchObject({
      op: 'UMOUNT', flags: 'MNT_DETACH', error: 'ENOENT', call: 'umount("/nonexistent-ig-mnt2", "MNT_DETACH") = 2',
    });
  });
});

/** A memory cgroup limited to 32 MiB (v2 or v1), or undefined when none can be made here. */
function memoryCgroup(): { dir: string; procs: string } | undefined {
  const name = `ig-oom-${process.pid}`;
  try {
    if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      if (!readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').includes('memory')) return undefined;
      const dir = `/sys/fs/cgroup/${name}`;
      mkdirSync(dir);
      writeFileSync(`${dir}/memory.max`, String(32 << 20));
      writeFileSync(`${dir}/memory.swap.max`, '0');
      return { dir, procs: `${dir}/cgroup.procs` };
    }
    if (existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) {
      const dir = `/sys/fs/cgroup/memory/${name}`;
      mkdirSync(dir);
      writeFileSync(`${dir}/memory.limit_in_bytes`, String(32 << 20));
      try {
        writeFileSync(`${dir}/memory.memsw.limit_in_bytes`, String(32 << 20));
      } catch {
        /* no swap accounting */
      }
      return { dir, procs: `${dir}/cgroup.procs` };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

describe('trace_oomkill', () => {
  it('a process over its memory cgroup limit is reported with its pid and comm', async (ctx) => {
    const cg = memoryCgroup();
    if (!cg) ctx.skip();
    try {
      const r = await runWith(['run', 'trace_oomkill', '-o', 'json', '-t', '3'], env, () =>
        // the shell moves itself into the cgroup, then becomes python, which allocates 200 MiB
        runChild('sh', ['-c', `echo $$ > ${cg!.procs} && exec /usr/bin/python3 -c 'import os; print(os.getpid(), flush=True); a = bytearray(200 << 20)'`]));
      expect(r.code, r.stderr).toBe(0);
      const victim = Number(r.triggered.stdout.trim());
      expect(r.triggered.code).not.toBe(0); // killed
      const e = events(r.stdout).find((x) => x.tpid === victim);
      expect(e, r.stdout).toBeDefined();
      expect(e).toMatchObject({ tcomm: 'python3', fpid: victim, fcomm: 'python3', tuid: 0 });
      expect(e!.anon_rss_kb as number).toBeGreaterThan(16 << 10);
      expect(e!.anon_rss_kb as number).toBeLessThanOrEqual(33 << 10);
    } finally {
      for (let i = 0; i < 20; i++) {
        try {
          rmdirSync(cg!.dir);
          break;
        } catch {
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    }
  });
});
