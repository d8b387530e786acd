// The catalog's networking gadgets that run without kprobes, each fed packets the test sends and
// checked field by field: trace_sni (a TLS ClientHello's server name, socket filter), trace_tcpdrop
// (a SYN to a closed port, and a SYN an iptables rule drops in a network namespace the test makes).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { jsonLines } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith } from '../helpers/run-with.js';
import { runWhenReady } from '../helpers/netns.js';

const store = tempStore();
const env = store.env;

beforeAll(async () => {
  for (const g of ['trace_sni', 'trace_tcpdrop']) await buildGadget(`gadgets/${g}`, g, env);
}, 180_000);
afterAll(() => store.cleanup());

type Ev = Record<string, unknown>;
const events = (stdout: string) => jsonLines(stdout).filter((e) => !('lost' in e));

/** A TCP listener on 127.0.0.1 that reads what a client sends and hangs up. */
async function listener(): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((c) => c.on('data', () => c.destroy()).on('error', () => undefined));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

describe('trace_sni', () => {
  it('shows the server name of a ClientHello sent to a listener on 127.0.0.1, once, with the sender', async () => {
    const srv = await listener();
    const name = `ig-sni-${process.pid}.example.org`;
    try {
      // the socket filter is attached through an AF_PACKET socket, not a link: wait for the dispatcher's socket
      const r = await runWhenReady(['run', 'trace_sni', '-o', 'json', '-t', '3'], env, (pid) => hasPacketSocket(pid), async () => {
        const t = tls.connect({ host: '127.0.0.1', port: srv.port, servername: name });
        let local = 0;
        t.once('connect', () => (local = t.localPort!));
        await new Promise<void>((res) => t.once('close', () => res()).once('error', () => res()));
        return local;
      });
      expect(r.code, r.stderr).toBe(0);
      const mine = events(r.stdout).filter((e) => (e.dst as { port?: number })?.port === srv.port);
      expect(mine.map((e) => e.name), r.stdout).toEqual([name]);
      expect(mine[0]).toMatchObject({
        src: { addr: '127.0.0.1', port: r.triggered, proto: 'TCP', version: 4 },
        dst: { addr: '127.0.0.1', port: srv.port, proto: 'TCP', version: 4 },
        proc: { pid: process.pid, comm: readFileSync('/proc/self/comm', 'utf8').trim() },
      });
    } finally {
      srv.close();
    }
  });
});

/** Whether a process holds an AF_PACKET socket (how ig attaches socket filters). */
function hasPacketSocket(pid: number): boolean {
  const inodes = new Set(
    execFileSync('sh', ['-c', `ls -l /proc/${pid}/fd 2>/dev/null | grep -o 'socket:\\[[0-9]*\\]' | tr -dc '0-9\\n'`], { encoding: 'utf8' })
      .split('\n').filter(Boolean),
  );
  const packets = execFileSync('cat', ['/proc/net/packet'], { encoding: 'utf8' }).split('\n').slice(1);
  return packets.some((l) => inodes.has(l.trim().split(/\s+/).pop() ?? ''));
}

describe('trace_tcpdrop', () => {
  it('a SYN to a closed port on 127.0.0.1: dropped for want of a socket, addresses from the packet, no owner', async () => {
    const closed = await listener();
    const port = closed.port;
    closed.close(); // now nobody listens there
    await new Promise((res) => setTimeout(res, 50));
    const r = await runWith(['run', 'trace_tcpdrop', '-o', 'json', '-t', '2.5'], env, () => {
      const py = spawnSync('python3', ['-c', `import socket\ns=socket.socket()\ntry: s.connect(('127.0.0.1',${port}))\nexcept ConnectionRefusedError: print(s.getsockname()[1])`], { encoding: 'utf8' });
      return Number(py.stdout.trim());
    }, { links: 2 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.triggered).toBeGreaterThan(0);
    const mine = events(r.stdout).filter((e) => (e.dst as { port?: number })?.port === port);
    expect(mine.map((e) => [e.reason, e.tcpflags, e.state]), r.stdout).toEqual([['SKB_DROP_REASON_NO_SOCKET', 'SYN', 'no_socket']]);
    expect(mine[0]).toMatchObject({
      src: { addr: '127.0.0.1', port: r.triggered, proto: 'TCP', version: 4 },
      dst: { addr: '127.0.0.1', port, proto: 'TCP', version: 4 },
      pid: 0, comm: '',
    });
    expect(String(mine[0]!.kernel_stack)).toContain('tcp_v4_rcv');
  });

  it('a SYN dropped by an iptables rule in a test network namespace: NETFILTER_DROP, SYN_SENT, and the connecting process', async () => {
    const ns = `igt-drop-${process.pid}`;
    const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });
    try { ip('netns', 'del', ns); } catch { /* not there */ }
    ip('netns', 'add', ns);
    try {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '9', '-j', 'DROP']);
      const nsInode = Number(execFileSync('stat', ['-L', '-c', '%i', `/run/netns/${ns}`], { encoding: 'utf8' }).trim());
      const r = await runWith(['run', 'trace_tcpdrop', '-o', 'json', '-t', '2.5'], env, () => {
        // one SYN, no retransmission: the connect gives up before the kernel's first retry (1 s)
        const py = spawnSync('ip', ['netns', 'exec', ns, 'python3', '-c',
          "import socket, os\ns=socket.socket()\ns.settimeout(0.5)\ntry: s.connect(('127.0.0.1',9))\nexcept OSError: print(os.getpid(), s.getsockname()[1])"], { encoding: 'utf8' });
        const [pid, sport] = py.stdout.trim().split(' ').map(Number);
        return { pid: pid!, sport: sport! };
      }, { links: 2 });
      expect(r.code, r.stderr).toBe(0);
      const mine = events(r.stdout).filter((e) => e.netns_id === nsInode) as Ev[];
      expect(mine.map((e) => [e.reason, e.tcpflags, e.state]), r.stdout).toEqual([['SKB_DROP_REASON_NETFILTER_DROP', 'SYN', 'tcp_syn_sent']]);
      expect(mine[0]).toMatchObject({
        src: { addr: '127.0.0.1', port: r.triggered.sport }, dst: { addr: '127.0.0.1', port: 9 },
        pid: r.triggered.pid, tid: r.triggered.pid, comm: 'python3', uid: 0,
      });
      expect(String(mine[0]!.kernel_stack)).toContain('nf_hook_slow');
    } finally {
      try { ip('netns', 'del', ns); } catch { /* gone */ }
    }
  });
});
