// Programs attached to interfaces and cgroups (bpfman's program types), through the real CLI on
// a veth pair into a network namespace the test makes: xdp and tcx links and IG's legacy tc
// classifiers (with the runtime's dispatcher) count exactly the UDP datagrams the test sends;
// cgroup programs see the socket and the packets of a process in a cgroup the test makes; a
// socket filter with the socket enricher names the process that owns a socket. After each run,
// bpftool finds nothing of ours on the interface or the cgroup, also after SIGKILL for links.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { statSync } from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import { jsonLines } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { linkCount } from '../helpers/run-with.js';
import { waitFor, heldBpfIds, bpfObjectExists } from '../helpers/kernel.js';
import { spawnIg, collect } from '../helpers/ig.js';
import { makeVeth, makeCgroup, bpftoolNet, bpftoolCgroup, runWhenReady, type VethPair } from '../helpers/netns.js';

const store = tempStore();
const env = store.env;
let veth: VethPair;
const spawnSyncText = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
const ifindexOf = (dev: string) => Number(spawnSyncText('cat', [`/sys/class/net/${dev}/ifindex`]));

beforeAll(async () => {
  for (const g of ['net_xdp', 'net_tc', 'net_tcx', 'net_cgroup', 'net_udp_filter']) await buildGadget(`test/gadgets/${g}`, g, env);
  veth = makeVeth('na', 91);
}, 180_000);
afterAll(() => {
  veth?.remove();
  store.cleanup();
});

const packets = (stdout: string, port: number) => jsonLines(stdout).filter((e) => e.dport === port || e.sport === port);

describe('xdp', () => {
  it('counts exactly the datagrams sent to the interface, and detaches at the end', async () => {
    const port = 47101;
    const r = await runWhenReady(['run', 'net_xdp', '--iface', veth.host, '--port', String(port), '-o', 'json', '-t', '3'], env,
      (pid) => linkCount(pid) >= 1, () => veth.sendFromNs(port, 7));
    expect(r.code, r.stderr).toBe(0);
    const ev = packets(r.stdout, port);
    expect(ev).toHaveLength(7);
    for (const e of ev) expect(e).toEqual({ ifindex: ifindexOf(veth.host), dport: port, len: 18 });
    expect(bpftoolNet(veth.host)).not.toMatch(/driver id|generic id/);
  });

  it('SIGKILL of ig leaves no XDP program on the interface (a link dies with its fd)', async () => {
    const child = spawnIg(['run', 'net_xdp', '--iface', veth.host, '--port', '1', '-o', 'json'], { env });
    const done = collect(child, 30_000);
    await waitFor(() => linkCount(child.pid!) >= 1, 20_000, 'xdp attached');
    expect(bpftoolNet(veth.host)).toMatch(/driver id|generic id/);
    child.kill('SIGKILL');
    await done;
    await waitFor(() => !/driver id|generic id/.test(bpftoolNet(veth.host)), 5_000, 'xdp gone');
  });

  it('an interface that does not exist, or none given, is a clear error', async () => {
    const none = await collect(spawnIg(['run', 'net_xdp', '--port', '1', '-t', '1'], { env }));
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/program xdp_count \(xdp\) attaches to a network interface: give it with --iface/);
    const bad = await collect(spawnIg(['run', 'net_xdp', '--iface', 'nosuchif0', '--port', '1', '-t', '1'], { env }));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/there is no interface nosuchif0/);
  });
});

describe('tc (IG\'s classifier/<dir>/NAME, legacy clsact through the dispatcher)', () => {
  it('counts exactly the datagrams on --iface, with the namespace in cb[0], and deletes its filters', async () => {
    const port = 47102;
    const r = await runWhenReady(['run', 'net_tc', '--iface', veth.host, '--port', String(port), '-o', 'json', '-t', '3'], env,
      () => /ig_net_disp/.test(bpftoolNet(veth.host)), () => veth.sendFromNs(port, 6));
    expect(r.code, r.stderr).toBe(0);
    const ev = packets(r.stdout, port).map((e) => ({ netns_id: e.netns_id, ifindex: e.ifindex, dport: e.dport, egress: e.egress }));
    const hostNs = statSync('/proc/self/ns/net').ino;
    expect(ev).toEqual(Array(6).fill({ netns_id: hostNs, ifindex: ifindexOf(veth.host), dport: port, egress: false }));
    // both directions were attached, and both filters are gone (the clsact qdisc stays, as IG leaves it)
    expect(bpftoolNet(veth.host)).not.toMatch(/ig_net_disp/);
  });

  it('SIGKILL of ig: its guard deletes the filters (legacy tc filters are not links)', async () => {
    const child = spawnIg(['run', 'net_tc', '--iface', veth.host, '--port', '1', '-o', 'json'], { env });
    const done = collect(child, 30_000);
    await waitFor(() => (bpftoolNet(veth.host).match(/ig_net_disp/g) ?? []).length === 2, 20_000, 'two tc filters');
    child.kill('SIGKILL');
    await done;
    await waitFor(() => !/ig_net_disp/.test(bpftoolNet(veth.host)), 5_000, 'tc filters deleted by the guard');
  });

  it('Ctrl-C (SIGINT) also deletes the filters', async () => {
    const child = spawnIg(['run', 'net_tc', '--iface', veth.host, '--port', '1', '-o', 'json'], { env });
    const done = collect(child, 30_000);
    await waitFor(() => (bpftoolNet(veth.host).match(/ig_net_disp/g) ?? []).length === 2, 20_000, 'two tc filters');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(bpftoolNet(veth.host)).not.toMatch(/ig_net_disp/);
  });
});

/** Whether this kernel has tcx (Linux 6.6+). */
function kernelHasTcx(): boolean {
  const [maj, min] = spawnSyncText('uname', ['-r']).split('.').map(Number);
  return maj! > 6 || (maj === 6 && min! >= 6);
}

describe('tcx', () => {
  it(kernelHasTcx() ? 'attaches as links and counts exactly the datagrams' : 'is refused clearly on this kernel', async () => {
    const port = 47103;
    if (!kernelHasTcx()) {
      const r = await collect(spawnIg(['run', 'net_tcx', '--iface', veth.host, '--port', String(port), '-t', '1'], { env }));
      expect(r.stderr).toMatch(/this kernel has no tcx \(Linux 6\.6\+\)/);
      return;
    }
    let killed = false;
    const r = await runWhenReady(['run', 'net_tcx', '--iface', veth.host, '--port', String(port), '-o', 'json', '-t', '3'], env,
      (pid) => linkCount(pid) >= 2, () => veth.sendFromNs(port, 4));
    expect(r.code, r.stderr).toBe(0);
    expect(packets(r.stdout, port).map((e) => [e.ifindex, e.dport, e.egress])).toEqual(Array(4).fill([ifindexOf(veth.host), port, false]));
    // SIGKILL: the links go with the process
    const child = spawnIg(['run', 'net_tcx', '--iface', veth.host, '--port', '1'], { env });
    const done = collect(child, 30_000);
    await waitFor(() => linkCount(child.pid!) >= 2, 20_000, 'tcx attached');
    const { links } = heldBpfIds(child.pid!);
    expect(links.length).toBeGreaterThanOrEqual(2);
    child.kill('SIGKILL');
    killed = (await done).signal === 'SIGKILL';
    expect(killed).toBe(true);
    await waitFor(() => links.every((id) => !bpfObjectExists('link', id)), 5_000, 'tcx links gone');
  });
});

describe('cgroup programs', () => {
  it('see the socket and the datagrams of a process in the cgroup the test makes, and only those', async () => {
    const cg = makeCgroup('na');
    const port = 47104;
    try {
      const r = await runWhenReady(['run', 'net_cgroup', '--cgroup', cg.dir, '--port', String(port), '-o', 'json', '-t', '3'], env,
        (pid) => linkCount(pid) >= 2, () => {
          const script = `import socket,os\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(3): s.sendto(b'x',('127.0.0.1',${port}))\nprint(os.getpid())`;
          const pid = Number(cg.run(`python3 -c "${script.replace(/"/g, '\\"')}"`).trim());
          // the same from outside the cgroup: not seen
          spawnSyncText('python3', ['-c', `import socket\nsocket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b'x',('127.0.0.1',${port}))`]);
          return pid;
        });
      expect(r.code, r.stderr).toBe(0);
      const ev = jsonLines(r.stdout).map((e) => [e.what, e.pid, e.what === 'SOCK_CREATE' ? [e.comm, e.family, e.type, e.protocol] : e.dport]);
      expect(ev).toEqual([
        ['SOCK_CREATE', r.triggered, ['python3', 2, 2, 17]],
        ['EGRESS_PACKET', r.triggered, port], ['EGRESS_PACKET', r.triggered, port], ['EGRESS_PACKET', r.triggered, port],
      ]);
      expect(bpftoolCgroup(cg.dir)).not.toMatch(/sock_create|egress/);
      // SIGKILL: cgroup links go with the process too
      const child = spawnIg(['run', 'net_cgroup', '--cgroup', cg.dir, '--port', '1'], { env });
      const done = collect(child, 30_000);
      await waitFor(() => /sock_create/.test(bpftoolCgroup(cg.dir)), 20_000, 'cgroup programs attached');
      child.kill('SIGKILL');
      await done;
      await waitFor(() => !/sock_create|egress/.test(bpftoolCgroup(cg.dir)), 5_000, 'cgroup programs gone');
    } finally {
      cg.remove();
    }
  });
});

describe('socket filter (socket1) with the socket enricher', () => {
  it('names the process that owns each socket, in the host network namespace', async () => {
    const port = 47105;
    const r = await runWhenReady(['run', 'net_udp_filter', '-o', 'json', '-t', '3'], env, (pid) => linkCount(pid) >= 3, async () => {
      const py = spawn('python3', ['-c', [
        'import socket,os,sys',
        `srv=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); srv.bind(('127.0.0.1',${port}))`,
        'c=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)',
        `c.sendto(b'hello',('127.0.0.1',${port})); srv.recv(10)`,
        'print(os.getpid(), os.getppid(), c.getsockname()[1], os.readlink("/proc/self/exe"))',
      ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'], cwd: '/tmp' });
      const out = await new Promise<string>((res) => { let s = ''; py.stdout.on('data', (d) => (s += d)); py.on('close', () => res(s)); });
      const [p, pp, cport, exe] = out.trim().split(' ');
      return { pid: Number(p), ppid: Number(pp), clientPort: Number(cport), exe: exe! };
    });
    expect(r.code, r.stderr).toBe(0);
    const { pid, ppid, clientPort, exe } = r.triggered;
    const ev = jsonLines(r.stdout).filter((e) => (e.dst as { port: number }).port === port);
    // the datagram leaves the client (egress) and reaches the server (ingress) on lo: both owned by the test's python
    expect(ev.map((e) => [e.ingress, (e.src as { port: number }).port])).toEqual([[false, clientPort], [true, clientPort]]);
    for (const e of ev) {
      const proc = e.proc as { comm: string; pid: number; tid: number; parent: { pid: number } };
      expect([proc.comm, proc.pid, proc.tid, proc.parent.pid]).toEqual(['python3', pid, pid, ppid]);
      expect(e.netns_id).toBe(statSync('/proc/self/ns/net').ino);
      // IG's optional enricher fields, through CO-RE: the owner's working directory and executable
      expect([e.cwd, e.exepath]).toEqual(['/tmp', exe.slice(0, 63)]);
    }
  });
});
