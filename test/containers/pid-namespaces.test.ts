// Processes as their own pid namespace sees them (gadget/pidns.h): trace_open, trace_connect,
// trace_tcp and trace_exec show the host's pid and the namespace's (1 for a namespace's first
// process, the small pid the process sees itself), the pid namespace's id, the uid and the result,
// for a process in an `unshare --pid --fork` (which shares the host's mount namespace: the
// `proc` runtime names it by its pid namespace) and for one in a podman container.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonLines, runIg } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith, runChild } from '../helpers/run-with.js';
import { startPodman, podmanAvailable, type PodmanContainer } from '../helpers/podman.js';
import { waitFor } from '../helpers/kernel.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-pidns-'));

beforeAll(async () => {
  for (const g of ['trace_open', 'trace_connect', 'trace_tcp', 'trace_exec']) await buildGadget(`gadgets/${g}`, g, env);
}, 240_000);
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

type Ev = Record<string, unknown> & { runtime: { containerName: string; runtimeName: string } };
const events = (stdout: string) => jsonLines(stdout).filter((e) => !('lost' in e)) as Ev[];

async function listen(host: string): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((c) => c.on('error', () => undefined).end());
  await new Promise<void>((res) => server.listen(0, host, res));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/**
 * python3 as the first process of a new pid namespace (host's mount namespace kept), started now
 * and waiting for a line on stdin; the returned trigger sends it: it then opens `file`, connects to
 * 127.0.0.1:port4 and [::1]:port6, runs /bin/true, and prints what it knows of itself: its pid
 * there (getpid), its host pid (/proc still shows the host's view), its pid namespace, its uid,
 * the fd it got. (Started before ig, so the proc runtime lists its namespace at ig's start.)
 */
function inNewPidns(file: string, port4: number, port6: number) {
  const script = `import os, socket, subprocess, sys
sys.stdin.readline()
fd = os.open(${JSON.stringify(file)}, os.O_RDONLY)
a = socket.socket(); a.connect(("127.0.0.1", ${port4}))
b = socket.socket(socket.AF_INET6); b.connect(("::1", ${port6}))
subprocess.run(["/bin/true"])
print(os.getpid(), os.readlink("/proc/self"), os.stat("/proc/self/ns/pid").st_ino, os.getuid(), fd, a.getsockname()[1], b.getsockname()[1])`;
  const child = spawn('unshare', ['--pid', '--fork', '/usr/bin/python3', '-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise((res) => child.on('close', res));
  return async () => {
    child.stdin!.end('go\n');
    await done;
    const r = { stdout, stderr };
    const [nsPid, hostPid, pidns, uid, fd, sport4, sport6] = r.stdout.trim().split(' ').map(Number);
    return { nsPid: nsPid!, hostPid: hostPid!, pidns: pidns!, uid: uid!, fd: fd!, sport4: sport4!, sport6: sport6!, stderr: r.stderr };
  };
}

describe('a process in a new pid namespace (unshare --pid --fork)', () => {
  const file = path.join(work, 'opened-in-pidns.txt');
  writeFileSync(file, 'x');

  it('trace_open: host pid, pid 1 in its namespace, the namespace id, uid and fd; the proc runtime names it by its pid namespace', async () => {
    const l4 = await listen('127.0.0.1'), l6 = await listen('::1');
    try {
      const r = await runWith(['run', 'trace_open', '-o', 'json', '-t', '3', '--comm', 'python3', '--runtimes', 'proc'], env, inNewPidns(file, l4.port, l6.port));
      expect(r.code, r.stderr).toBe(0);
      const t = r.triggered;
      expect(t.nsPid, t.stderr).toBe(1);
      expect(t.hostPid).toBeGreaterThan(1);
      const e = events(r.stdout).filter((x) => x.fname === file);
      expect(e, r.stdout.slice(0, 2000)).toHaveLength(1);
      expect(e[0]).toMatchObject({ pid: t.hostPid, tid: t.hostPid, ns_pid: 1, ns_tid: 1, pidns_id: t.pidns, uid: t.uid, fd: t.fd, error: '' });
      // same mount namespace as the host: only the pid namespace says whose it is
      expect(e[0]!.mntns_id).toBe(statSync('/proc/self/ns/mnt').ino);
      expect(e[0]!.pidns_id).not.toBe(statSync('/proc/self/ns/pid').ino);
      expect(e[0]!.runtime).toMatchObject({ runtimeName: 'proc', containerName: expect.stringMatching(/^python3-\d+$|^unshare-\d+$/) });
    } finally {
      l4.close();
      l6.close();
    }
  });

  it('trace_connect: IPv4 and IPv6 peers decoded from the packed record, with host and namespace pids, ppid 0 there, and the result', async () => {
    const l4 = await listen('127.0.0.1'), l6 = await listen('::1');
    try {
      const r = await runWith(['run', 'trace_connect', '-o', 'json', '-t', '3', '--comm', 'python3'], env, inNewPidns(file, l4.port, l6.port));
      expect(r.code, r.stderr).toBe(0);
      const t = r.triggered;
      const mine = events(r.stdout).filter((x) => x.pid === t.hostPid);
      expect(mine.map((x) => [x.family, (x.addr as { addr: string }).addr, (x.addr as { port: number }).port, x.retval, x.error]))
        .toEqual([['AF_INET', '127.0.0.1', l4.port, 0, ''], ['AF_INET6', '::1', l6.port, 0, '']]);
      for (const x of mine) {
        // members at unaligned offsets of the packed struct (mntns_id at byte 12, retval at 52, addr at 89)
        expect(x).toMatchObject({
          tid: t.hostPid, ns_pid: 1, ns_tid: 1, ns_ppid: 0, pidns_id: t.pidns, uid: t.uid, gid: 0, comm: 'python3',
          mntns_id: statSync('/proc/self/ns/mnt').ino,
        });
        expect(x.ppid).toBeGreaterThan(1); // unshare, on the host
        expect(x.addr).toMatchObject({ version: (x.family === 'AF_INET' ? 4 : 6), proto: 'TCP' });
      }
      // a refused connect: the negative return value and its errno
      const refused = await listen('127.0.0.1');
      refused.close();
      const bad = await runWith(['run', 'trace_connect', '-o', 'json', '-t', '2', '--comm', 'python3', '--failed'], env, () =>
        runChild('unshare', ['--pid', '--fork', '/usr/bin/python3', '-c', `import socket\ntry: socket.create_connection(("127.0.0.1", ${refused.port}))\nexcept ConnectionRefusedError: print("refused")`]));
      expect(bad.triggered.stdout.trim()).toBe('refused');
      const b = events(bad.stdout).filter((x) => (x.addr as { port: number }).port === refused.port);
      expect(b.map((x) => [x.retval, x.error, x.ns_pid])).toEqual([[-111, 'ECONNREFUSED', 1]]);
    } finally {
      l4.close();
      l6.close();
    }
  });

  it('trace_tcp and trace_exec carry the namespace pids too', async () => {
    const l4 = await listen('127.0.0.1'), l6 = await listen('::1');
    try {
      const tcp = await runWith(['run', 'trace_tcp', '-o', 'json', '-t', '3', '--connect-only'], env, inNewPidns(file, l4.port, l6.port));
      expect(tcp.code, tcp.stderr).toBe(0);
      const c = events(tcp.stdout).filter((x) => x.pid === tcp.triggered.hostPid);
      expect(c.map((x) => [(x.dst as { port: number }).port, x.ns_pid, x.pidns_id])).toEqual([
        [l4.port, 1, tcp.triggered.pidns], [l6.port, 1, tcp.triggered.pidns]]);
      const ex = await runWith(['run', 'trace_exec', '-o', 'json', '-t', '3'], env, inNewPidns(file, l4.port, l6.port));
      expect(ex.code, ex.stderr).toBe(0);
      const e = events(ex.stdout).filter((x) => x.ppid === ex.triggered.hostPid && x.comm === 'true');
      // /bin/true, child of the namespace's pid 1: pid 2 there, its parent 1
      expect(e.map((x) => [x.comm, x.ns_pid, x.ns_tid, x.ns_ppid, x.pidns_id, x.retval])).toEqual([['true', 2, 2, 1, ex.triggered.pidns, 0]]);
    } finally {
      l4.close();
      l6.close();
    }
  });
});

describe.skipIf(!podmanAvailable())('a process in a podman container', () => {
  let pm: Awaited<ReturnType<typeof startPodman>>;
  let box: PodmanContainer;
  let listener: ChildProcess | undefined;
  const PORT = 47311;
  const NAME = 'ig-pidns-box';
  const boxFile = (p: string) => `/proc/${box.pid}/root${p}`;

  beforeAll(async () => {
    pm = await startPodman();
    // waits for /tmp/go, then (as pid 1) opens /etc/hostname itself and starts nc towards the
    // listener; nc's pid inside goes to /tmp/ncpid, and nc stays connected until the end
    box = await pm.run(NAME, ['sh', '-c',
      `while [ ! -e /tmp/go ]; do sleep 0.1; done; read x < /etc/hostname; sleep 60 | nc 127.0.0.1 ${PORT} & echo $! > /tmp/ncpid; sleep 60`]);
    // the listener lives in the container's network namespace (it has no other network)
    listener = spawn('nsenter', ['-t', String(box.pid), '-n', 'python3', '-c',
      `import socket, time\ns = socket.socket(); s.bind(("127.0.0.1", ${PORT})); s.listen()\nprint("up", flush=True)\nc, _ = s.accept()\ntime.sleep(60)`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res) => listener!.stdout!.once('data', () => res()));
  }, 180_000);
  afterAll(async () => {
    listener?.kill();
    await pm?.stop();
  });

  it('trace_open and trace_connect: the container\'s pid 1 and nc as the container sees them, beside their host pids', async () => {
    const select = ['-c', NAME, '--runtimes', 'podman', '--podman-socketpath', pm.socket];
    const pidns = statSync(`/proc/${box.pid}/ns/pid`).ino;
    const open = spawn(process.execPath, ['bin/ig.js', 'run', 'trace_open', ...select, '-o', 'json', '-t', '6'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let openOut = '';
    open.stdout!.on('data', (d) => (openOut += d));
    const r = await runWith(['run', 'trace_connect', ...select, '-o', 'json', '-t', '4'], env, async () => {
      await new Promise((res) => setTimeout(res, 1500)); // trace_open, started alongside, attaches meanwhile
      writeFileSync(boxFile('/tmp/go'), '');
      await waitFor(() => existsSync(boxFile('/tmp/ncpid')) && readFileSync(boxFile('/tmp/ncpid'), 'utf8').trim() !== '', 10_000, 'nc to start');
      return Number(readFileSync(boxFile('/tmp/ncpid'), 'utf8').trim());
    });
    await new Promise((res) => open.on('close', res));
    expect(r.code, r.stderr).toBe(0);
    const ncNsPid = r.triggered;
    const conn = events(r.stdout).filter((x) => x.comm === 'nc');
    expect(conn, r.stdout.slice(0, 2000)).toHaveLength(1);
    const c = conn[0]!;
    expect(c).toMatchObject({
      ns_pid: ncNsPid, ns_tid: ncNsPid, ns_ppid: 1, pidns_id: pidns, uid: 0, retval: 0, error: '', family: 'AF_INET',
      addr: { addr: '127.0.0.1', port: PORT, version: 4 },
      runtime: { containerName: NAME, runtimeName: 'podman', containerPid: box.pid },
    });
    // the host's pid of that same process, as the kernel lists it: "NSpid: <host> <container>"
    const nspid = /^NSpid:\s+(\d+)\s+(\d+)$/m.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
    expect(nspid?.slice(1).map(Number)).toEqual([c.pid, ncNsPid]);
    expect(c.ppid).toBe(box.pid);
    const opened = events(openOut).filter((x) => x.fname === '/etc/hostname');
    expect(opened, openOut.slice(0, 2000)).toHaveLength(1);
    expect(opened[0]).toMatchObject({
      pid: box.pid, ns_pid: 1, ns_tid: 1, pidns_id: pidns, uid: 0, error: '', runtime: { containerName: NAME },
    });
    expect(Number(opened[0]!.fd)).toBeGreaterThanOrEqual(0);
  });

  it('columns: NS_PID is shown by default when the run selects containers, hidden on the host', async () => {
    const header = (out: string) => out.split('\n')[0]!.trim().split(/\s+/);
    const sel = await runIg(['run', 'trace_open', '-c', NAME, '--runtimes', 'podman', '--podman-socketpath', pm.socket, '-t', '1'], { env });
    expect(sel.code, sel.stderr).toBe(0);
    expect(header(sel.stdout)).toContain('NS_PID');
    const host = await runIg(['run', 'trace_open', '--comm', 'ig-nobody', '-t', '1'], { env });
    expect(host.code, host.stderr).toBe(0);
    expect(header(host.stdout)).toContain('PID');
    expect(header(host.stdout)).not.toContain('NS_PID');
  });
});
