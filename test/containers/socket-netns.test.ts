import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { runIg, jsonLines } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { startPodman, type PodmanContainer } from '../helpers/podman.js';
import { waitFor } from '../helpers/kernel.js';
import { statSync } from 'node:fs';

type Pm = Awaited<ReturnType<typeof startPodman>>;
const store = tempStore();
let pm: Pm;
let box: PodmanContainer;
let hostListener: net.Server;
let hostPort: number;
const CONTAINER_PORT = 9931;

beforeAll(async () => {
  await buildGadget('gadgets/snapshot_socket', 'snapshot_socket', store.env);
  pm = await startPodman();
  // --network none: the container has its own network namespace with only lo
  box = await pm.run('ig-sock-box', ['sh', '-c', `while :; do busybox nc -l -p ${CONTAINER_PORT}; done`]);
  hostListener = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => hostListener.once('listening', r));
  hostPort = (hostListener.address() as net.AddressInfo).port;
}, 180_000);
afterAll(async () => {
  hostListener?.close();
  await pm?.stop();
  store.cleanup();
});

type Sock = { src: { addr: string; port: number }; state: string; proto: string; netns_id: number; runtime: { containerName: string } };
const snapshot = async (extra: string[]) => {
  const r = await runIg(['run', 'snapshot_socket', '-o', 'json', '--runtimes', 'podman', '--podman-socketpath', pm.socket, ...extra], { env: store.env });
  expect(r.code, r.stderr).toBe(0);
  return jsonLines(r.stdout).flatMap((x) => (Array.isArray(x) ? x : [x])) as Sock[];
};

describe('snapshot_socket reads tcp/udp sockets inside each container\'s network namespace', () => {
  it('-c NAME shows the container\'s listener (from its own namespace) and not the host\'s', async () => {
    const netns = statSync(`/proc/${box.pid}/ns/net`).ino;
    const rows = await waitFor(async () => {
      const r = await snapshot(['-c', 'ig-sock-box']);
      return r.some((s) => s.src.port === CONTAINER_PORT) ? r : undefined;
    }, 15_000, 'the container listener');
    const listener = rows.find((s) => s.src.port === CONTAINER_PORT)!;
    expect(listener.state).toBe('LISTEN');
    expect(listener.proto).toBe('TCP');
    expect(listener.netns_id).toBe(netns);
    expect(listener.runtime.containerName).toBe('ig-sock-box');
    expect(rows.every((s) => s.netns_id === netns)).toBe(true);
    expect(rows.some((s) => s.src.port === hostPort)).toBe(false);
  });

  it('without a selection shows the host\'s sockets and every container\'s', async () => {
    const rows = await snapshot([]);
    expect(rows.some((s) => s.src.addr === '127.0.0.1' && s.src.port === hostPort && s.state === 'LISTEN')).toBe(true);
    expect(rows.some((s) => s.src.port === CONTAINER_PORT && s.runtime.containerName === 'ig-sock-box')).toBe(true);
  });
});
