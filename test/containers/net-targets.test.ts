// Programs attached per container, as IG's Attacher does: IG's classifiers on each of a selected
// container's interfaces (inside its network namespace, so ingress/egress are the container's
// own), and socket filters in its network namespace; the runtime's dispatcher tells the gadget
// which namespace a packet is in. The container is podman's (--network none), given a veth
// into a namespace of the test's making; the test sends UDP datagrams from inside it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { jsonLines } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { startPodman, podmanAvailable, type PodmanContainer } from '../helpers/podman.js';
import { runWhenReady } from '../helpers/netns.js';

type Pm = Awaited<ReturnType<typeof startPodman>>;
const store = tempStore();
let pm: Pm;
let box: PodmanContainer;
const HOST_IF = 'igct0', BOX_IF = 'igct1', HOST_ADDR = '10.231.93.1', BOX_ADDR = '10.231.93.2';

const inBox = (...args: string[]) => execFileSync('nsenter', ['-t', String(box.pid), '-n', ...args], { encoding: 'utf8' });
const sendFromBox = (port: number, n: number) => inBox('python3', '-c',
  `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(${n}): s.sendto(b'x'*10,('${HOST_ADDR}',${port}))`);

describe.skipIf(!podmanAvailable())('per-container attachment', () => {
  beforeAll(async () => {
    for (const g of ['net_tc', 'net_udp_filter']) await buildGadget(`test/gadgets/${g}`, g, store.env);
    pm = await startPodman();
    box = await pm.run('ig-net-box');
    try { execFileSync('ip', ['link', 'del', HOST_IF], { stdio: 'ignore' }); } catch { /* not there */ }
    execFileSync('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', BOX_IF, 'netns', `/proc/${box.pid}/ns/net`]);
    execFileSync('ip', ['addr', 'add', `${HOST_ADDR}/24`, 'dev', HOST_IF]);
    execFileSync('ip', ['link', 'set', HOST_IF, 'up']);
    inBox('ip', 'addr', 'add', `${BOX_ADDR}/24`, 'dev', BOX_IF);
    inBox('ip', 'link', 'set', BOX_IF, 'up');
  }, 180_000);
  afterAll(async () => {
    try { execFileSync('ip', ['link', 'del', HOST_IF], { stdio: 'ignore' }); } catch { /* gone with the container */ }
    await pm?.stop();
    store.cleanup();
  });

  const select = () => ['-c', 'ig-net-box', '--runtimes', 'podman', '--podman-socketpath', pm.socket];

  it('IG\'s classifiers attach to the selected container\'s interface, in its namespace, and are deleted at the end', async () => {
    const port = 47201;
    const boxNs = statSync(`/proc/${box.pid}/ns/net`).ino;
    const r = await runWhenReady(['run', 'net_tc', ...select(), '--port', String(port), '-o', 'json', '-t', '4'], store.env,
      () => (inBox('bpftool', 'net', 'show', 'dev', BOX_IF).match(/ig_net_disp/g) ?? []).length === 2, () => sendFromBox(port, 5));
    expect(r.code, r.stderr).toBe(0);
    const ev = jsonLines(r.stdout).filter((e) => e.dport === port);
    // leaving the container: egress on its interface, in its namespace (as the dispatcher says)
    expect(ev.map((e) => [e.netns_id, e.egress, (e.runtime as { containerName: string }).containerName])).toEqual(Array(5).fill([boxNs, true, 'ig-net-box']));
    expect(inBox('bpftool', 'net', 'show', 'dev', BOX_IF)).not.toMatch(/ig_net_disp/);
    // the host's side was never touched: only --iface attaches there
    expect(execFileSync('bpftool', ['net', 'show', 'dev', HOST_IF], { encoding: 'utf8' })).not.toMatch(/ig_net_disp/);
  });

  it('a socket filter reads each target\'s namespace: the host\'s and, without a selection, every container\'s', async () => {
    const port = 47202;
    const boxNs = statSync(`/proc/${box.pid}/ns/net`).ino;
    const hostNs = statSync('/proc/self/ns/net').ino;
    const r = await runWhenReady(['run', 'net_udp_filter', '--runtimes', 'podman', '--podman-socketpath', pm.socket, '-o', 'json', '-t', '4'], store.env,
      // an AF_PACKET socket of ig's in the container's namespace
      () => inBox('cat', '/proc/net/packet').trim().split('\n').length > 1,
      () => {
        sendFromBox(port, 3);
        execFileSync('python3', ['-c', `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(2): s.sendto(b'x',('127.0.0.1',${port}))`]);
      });
    expect(r.code, r.stderr).toBe(0);
    const ev = jsonLines(r.stdout).filter((e) => (e.dst as { port: number }).port === port && !e.ingress);
    expect(ev.map((e) => e.netns_id).sort()).toEqual([boxNs, boxNs, boxNs, hostNs, hostNs].sort());
    // after the run, the container's namespace has no socket of ours left
    expect(inBox('cat', '/proc/net/packet').trim().split('\n')).toHaveLength(1);
  });
});
