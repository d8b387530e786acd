import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerCollection, matches, parseSelector, enrich, type ContainerInfo } from '../../src/containers/index.js';
import { IgError } from '../../src/errors.js';
import { containerdAvailable, startContainerd, type ContainerdHandle, type CriPod } from '../helpers/containerd.js';
import { podmanAvailable, startPodman, type PodmanHandle, type PodmanContainer } from '../helpers/podman.js';

const mntnsOfPid = (pid: number) => fs.statSync(`/proc/${pid}/ns/mnt`, { bigint: true }).ino;

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!containerdAvailable() || !podmanAvailable())('container collection (real containerd + podman)', () => {
  let ctrd: ContainerdHandle;
  let pm: PodmanHandle;
  let podA: CriPod;
  let podB: CriPod;
  let web: PodmanContainer;
  let coll: ContainerCollection;
  const warnings: string[] = [];

  beforeAll(async () => {
    [ctrd, pm] = await Promise.all([startContainerd(), startPodman()]);
    podA = await ctrd.runPod({ name: 'pod-a', namespace: 'ns-one', labels: { app: 'x', tier: 'web' }, containerName: 'loop-a' });
    podB = await ctrd.runPod({ name: 'pod-b', namespace: 'ns-two', labels: { app: 'y' }, containerName: 'loop-b' });
    web = await pm.run('ig-web1');
    coll = await ContainerCollection.open({
      runtimes: ['containerd', 'podman', 'docker'],
      containerdSocket: ctrd.socket,
      podmanSocket: pm.socket,
      dockerSocket: '/nonexistent/docker.sock', // not explicit: skipped quietly
      explicit: new Set(['containerd', 'podman']),
      warn: (m) => warnings.push(m),
    });
  });

  afterAll(async () => {
    await coll?.close();
    await Promise.allSettled([ctrd?.stop(), pm?.stop()]);
  });

  it('finds both CRI pods with pid, mntns, netns, labels, namespace, pod and container names', () => {
    const byName = (n: string) => coll.list().find((c) => c.k8s?.podName === n);
    for (const [pod, ns, labels, cname] of [
      [podA, 'ns-one', { app: 'x', tier: 'web' }, 'loop-a'],
      [podB, 'ns-two', { app: 'y' }, 'loop-b'],
    ] as const) {
      const c = byName(pod.name)!;
      expect(c, pod.name).toBeDefined();
      expect(c.runtime).toBe('containerd');
      expect(c.id).toBe(pod.containerId);
      expect(c.pid).toBe(pod.pid);
      expect(c.mntns).toBe(mntnsOfPid(pod.pid));
      expect(c.mntns).not.toBe(mntnsOfPid(process.pid));
      expect(c.netns).toBe(Number(fs.statSync(`/proc/${pod.pid}/ns/net`).ino));
      expect(c.name).toBe(cname);
      expect(c.imageName).toBe(ctrd.image);
      expect(c.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(Date.parse(c.startedAt)).toBeGreaterThan(Date.now() - 10 * 60_000);
      expect(c.k8s).toMatchObject({ namespace: ns, podName: pod.name, podUid: pod.uid, containerName: cname, podLabels: labels });
      expect(coll.byMntns(c.mntns)).toBe(c);
    }
    expect(coll.hasKubernetes()).toBe(true);
    expect(coll.byMntns(mntnsOfPid(process.pid))).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('finds the podman container with name, id, image and pid', () => {
    const c = coll.list().find((x) => x.runtime === 'podman')!;
    expect(c).toBeDefined();
    expect(c).toMatchObject({ id: web.id, name: 'ig-web1', pid: web.pid, imageName: pm.image });
    expect(c.mntns).toBe(mntnsOfPid(web.pid));
    expect(c.imageDigest).toMatch(/^sha256:/);
    expect(c.k8s).toBeUndefined();
    expect(coll.byMntns(c.mntns)).toBe(c);
  });

  it('selectors pick the right containers', () => {
    const names = (args: Record<string, unknown>) => {
      const sel = parseSelector(args)!;
      return coll.list().filter((c) => matches(c, sel)).map((c) => c.name).sort();
    };
    expect(names({ 'k8s-podname': 'pod-a' })).toEqual(['loop-a']);
    expect(names({ 'k8s-selector': 'app=x' })).toEqual(['loop-a']);
    expect(names({ 'k8s-selector': 'app=y' })).toEqual(['loop-b']);
    expect(names({ 'k8s-namespace': 'ns-two' })).toEqual(['loop-b']);
    expect(names({ 'k8s-namespace': '!ns-two' })).toEqual(['ig-web1', 'loop-a']);
    expect(names({ 'k8s-podname': 'pod-a,pod-b', 'k8s-containername': '!loop-a' })).toEqual(['loop-b']);
    expect(names({ containername: 'ig-web1' })).toEqual(['ig-web1']);
    expect(names({ containername: '!ig-web1' })).toEqual(['loop-a', 'loop-b']);
    expect(coll.select(parseSelector({ 'k8s-podname': 'pod-b' })).map((c) => c.pid)).toEqual([podB.pid]);
  });

  it('enriches by mntns', () => {
    const ev: Record<string, unknown> = { gadget_mntns_id: mntnsOfPid(podA.pid) };
    enrich(ev, coll.byMntns(ev.gadget_mntns_id as bigint), 'node-x');
    expect(ev).toMatchObject({ 'k8s.node': 'node-x', 'k8s.namespace': 'ns-one', 'k8s.podName': 'pod-a', 'k8s.podLabels': 'app=x,tier=web', 'runtime.containerPid': podA.pid });
  });

  it('a pod created after open() appears via onChange (refresh) and leaves when removed', async () => {
    const seen: [string, ContainerInfo][] = [];
    const off = coll.onChange((kind, c) => seen.push([kind, c]));
    const podC = await ctrd.runPod({ name: 'pod-c', namespace: 'ns-one', labels: { app: 'z' } });
    await coll.refresh();
    const added = seen.find(([k, c]) => k === 'added' && c.k8s?.podName === 'pod-c');
    expect(added).toBeDefined();
    expect(added![1].pid).toBe(podC.pid);
    expect(coll.byMntns(mntnsOfPid(podC.pid))?.k8s?.podName).toBe('pod-c');
    const mntns = added![1].mntns;
    await ctrd.removePod(podC.podId);
    // the 1 s poll notices on its own
    await until('removal', () => seen.find(([k, c]) => k === 'removed' && c.k8s?.podName === 'pod-c'), 5000);
    expect(coll.byMntns(mntns)).toBeUndefined();
    off();
  });

  it('a lookup of an unknown mntns triggers a refresh (no waiting for the poll)', async () => {
    const slow = await ContainerCollection.open({ runtimes: ['containerd'], containerdSocket: ctrd.socket, explicit: new Set(['containerd']), pollIntervalMs: 60_000 });
    try {
      const podD = await ctrd.runPod({ name: 'pod-d', namespace: 'ns-one' });
      const id = mntnsOfPid(podD.pid);
      expect(slow.byMntns(id)).toBeUndefined();
      const c = await until('refresh after miss', () => slow.byMntns(id), 3000);
      expect(c.k8s?.podName).toBe('pod-d');
      await ctrd.removePod(podD.podId);
    } finally {
      await slow.close();
    }
  });

  it('a podman container started later appears on the next poll', async () => {
    const got = new Promise<ContainerInfo>((resolve) => {
      const off = coll.onChange((kind, c) => {
        if (kind === 'added' && c.name === 'ig-web2') {
          off();
          resolve(c);
        }
      });
    });
    const w2 = await pm.run('ig-web2');
    const c = await got;
    expect(c.pid).toBe(w2.pid);
  });

  it('podman events make a new container visible without waiting for a poll', async () => {
    const p = await ContainerCollection.open({ runtimes: ['podman'], podmanSocket: pm.socket, explicit: new Set(['podman']), pollIntervalMs: 60_000 });
    try {
      const got = new Promise<ContainerInfo>((resolve) => {
        p.onChange((kind, c) => kind === 'added' && c.name === 'ig-web3' && resolve(c));
      });
      const w3 = await pm.run('ig-web3');
      const c = await Promise.race([got, new Promise<undefined>((r) => setTimeout(r, 5000))]);
      expect(c?.pid).toBe(w3.pid);
      const gone = new Promise<ContainerInfo>((resolve) => {
        p.onChange((kind, c) => kind === 'removed' && c.name === 'ig-web3' && resolve(c));
      });
      await pm.podman(['rm', '-f', '-t', '0', 'ig-web3']);
      expect(await Promise.race([gone, new Promise<undefined>((r) => setTimeout(r, 5000))])).toBeDefined();
    } finally {
      await p.close();
    }
  });

  it('docker API source works (against podman compat API)', async () => {
    const d = await ContainerCollection.open({ runtimes: ['docker'], dockerSocket: pm.socket, explicit: new Set(['docker']) });
    try {
      const c = d.list().find((x) => x.name === 'ig-web1');
      expect(c).toMatchObject({ runtime: 'docker', id: web.id, pid: web.pid });
      expect(c!.mntns).toBe(mntnsOfPid(web.pid));
    } finally {
      await d.close();
    }
  });

  it('--containerd-namespace other than k8s.io reads containerd\'s own API (ctr run containers)', async () => {
    const pid = await ctrd.ctrRun('ig-plain', 'plain-1');
    const c = await ContainerCollection.open({ runtimes: ['containerd'], containerdSocket: ctrd.socket, containerdNamespace: 'ig-plain', explicit: new Set(['containerd']) });
    try {
      expect(c.list()).toHaveLength(1);
      const p = c.list()[0]!;
      expect(p).toMatchObject({ id: 'plain-1', name: 'plain-1', runtime: 'containerd', pid, imageName: ctrd.image });
      expect(p.mntns).toBe(mntnsOfPid(pid));
      expect(p.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(Math.abs(Date.parse(p.startedAt) - Date.now())).toBeLessThan(120_000);
      expect(p.k8s).toBeUndefined();
    } finally {
      await c.close();
    }
  });

  it('podman API service going away: one warning, last known containers kept (runs last in this block)', async () => {
    const warned: string[] = [];
    const p = await ContainerCollection.open({ runtimes: ['podman'], podmanSocket: pm.socket, explicit: new Set(['podman']), warn: (m) => warned.push(m), pollIntervalMs: 100 });
    try {
      const before = p.list().map((c) => c.name).sort();
      expect(before).toContain('ig-web1');
      await pm.killService();
      await p.refresh();
      await new Promise((r) => setTimeout(r, 400));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatch(/podman at .* stopped answering/);
      expect(p.list().map((c) => c.name).sort()).toEqual(before);
    } finally {
      await p.close();
    }
  });

  it('explicitly named sockets that fail are IgError("container"); unknown runtimes are usage errors', async () => {
    const err = await ContainerCollection.open({ runtimes: ['containerd'], containerdSocket: '/nonexistent/ctrd.sock', explicit: new Set(['containerd']) }).catch((e) => e);
    expect(err).toBeInstanceOf(IgError);
    expect(err.code).toBe('container');
    expect(err.message).toContain('/nonexistent/ctrd.sock');
    expect(err.hint).toContain('--containerd-socketpath');
    // a socket file nobody listens on
    const dead = `${pm.dir}/dead.sock`;
    fs.writeFileSync(dead, '');
    const err2 = await ContainerCollection.open({ runtimes: ['podman'], podmanSocket: dead, explicit: new Set(['podman']) }).catch((e) => e);
    expect(err2).toBeInstanceOf(IgError);
    expect(err2.message).toMatch(/cannot reach podman/);
    const err3 = await ContainerCollection.open({ runtimes: ['rkt'] }).catch((e) => e);
    expect(err3.code).toBe('usage');
    // missing default sockets: quietly nothing
    const none = await ContainerCollection.open({ runtimes: ['cri-o'], crioSocket: '/nonexistent/crio.sock' });
    expect(none.list()).toEqual([]);
    await none.close();
  });
});

describe.skipIf(!containerdAvailable())('containerd dies while a collection is open', () => {
  let ctrd: ContainerdHandle;
  afterAll(async () => ctrd?.stop());

  it('warns once, keeps the last known containers, keeps answering', async () => {
    ctrd = await startContainerd();
    const pod = await ctrd.runPod({ name: 'survivor', namespace: 'ns-k' });
    const warnings: string[] = [];
    const coll = await ContainerCollection.open({ runtimes: ['containerd'], containerdSocket: ctrd.socket, explicit: new Set(['containerd']), warn: (m) => warnings.push(m), pollIntervalMs: 200 });
    try {
      expect(coll.list().map((c) => c.k8s?.podName)).toEqual(['survivor']);
      await ctrd.kill();
      const t0 = Date.now();
      await coll.refresh();
      await coll.refresh();
      await new Promise((r) => setTimeout(r, 700)); // a few polls
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/containerd at .* stopped answering.*keeping its 1 last known/);
      expect(coll.list().map((c) => c.k8s?.podName)).toEqual(['survivor']);
      expect(coll.byMntns(mntnsOfPid(pod.pid))?.id).toBe(pod.containerId);
    } finally {
      await coll.close();
    }
  });
});
