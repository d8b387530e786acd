// End to end: the built `ig list-containers` (run `npx tsc -p tsconfig.json` first) against real runtimes.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, igBin, jsonLines, runIg, spawnIg } from '../helpers/ig.js';
import { containerdAvailable, startContainerd, type ContainerdHandle, type CriPod } from '../helpers/containerd.js';
import { podmanAvailable, startPodman, type PodmanHandle, type PodmanContainer } from '../helpers/podman.js';

const built = fs.existsSync(igBin.replace(/bin\/ig\.js$/, 'dist/cli/main.js'));

describe.skipIf(!built || !containerdAvailable() || !podmanAvailable())('ig list-containers (built CLI, real containerd + podman)', () => {
  let ctrd: ContainerdHandle;
  let pm: PodmanHandle;
  let podA: CriPod;
  let podB: CriPod;
  let web: PodmanContainer;
  let rt: string[];

  beforeAll(async () => {
    [ctrd, pm] = await Promise.all([startContainerd(), startPodman()]);
    [podA, podB, web] = await Promise.all([
      ctrd.runPod({ name: 'cli-a', namespace: 'team-a', labels: { app: 'x' }, containerName: 'worker' }),
      ctrd.runPod({ name: 'cli-b', namespace: 'team-b', labels: { app: 'y' }, containerName: 'worker' }),
      pm.run('ig-cli-web'),
    ]);
    rt = ['-r', 'containerd,podman', '--containerd-socketpath', ctrd.socket, '--podman-socketpath', pm.socket];
  });

  afterAll(async () => {
    await Promise.allSettled([ctrd?.stop(), pm?.stop()]);
  });

  it('-o json shows every container with runtime and Kubernetes data', async () => {
    const r = await runIg(['list-containers', '-o', 'json', ...rt]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('[')).toBe(true); // one array, as IG prints it
    const rows = JSON.parse(r.stdout) as any[];
    expect(rows).toHaveLength(3);
    const a = rows.find((x) => x.k8s.podName === 'cli-a');
    expect(a.runtime).toMatchObject({ runtimeName: 'containerd', containerId: podA.containerId, containerName: 'worker', containerPid: podA.pid });
    expect(a.k8s).toMatchObject({ namespace: 'team-a', containerName: 'worker', podLabels: { app: 'x' } });
    expect(a.mntns).toBe(Number(fs.statSync(`/proc/${podA.pid}/ns/mnt`).ino));
    const w = rows.find((x) => x.runtime.runtimeName === 'podman');
    expect(w.runtime).toMatchObject({ containerName: 'ig-cli-web', containerId: web.id, containerPid: web.pid, containerImageName: pm.image });
  });

  it('columns output and selection flags', async () => {
    const all = await runIg(['list-containers', ...rt]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^RUNTIME\.CONTAINERNAME\s+K8S\.NAMESPACE\s+K8S\.PODNAME\s+K8S\.CONTAINERNAME\s+RUNTIME\.RUNTIMENAME\s+RUNTIME\.CONTAINERID\s+PID\s+MNTNS/);
    expect(lines).toHaveLength(4);
    expect(all.stdout).toContain(podB.containerId.slice(0, 13));
    expect(all.stdout).not.toContain(podB.containerId);

    const sel = async (...flags: string[]) => (JSON.parse((await runIg(['list-containers', '-o', 'json', ...rt, ...flags])).stdout) as any[]).map((x: any) => x.runtime.containerName + '/' + x.k8s.podName).sort();
    expect(await sel('-c', 'ig-cli-web')).toEqual(['ig-cli-web/']);
    expect(await sel('--k8s-podname', 'cli-b')).toEqual(['worker/cli-b']);
    expect(await sel('--k8s-selector', 'app=x')).toEqual(['worker/cli-a']);
    expect(await sel('--k8s-namespace', '!team-a')).toEqual(['ig-cli-web/', 'worker/cli-b']);
  });

  it('bad input: selector syntax error and a named socket that does not exist', async () => {
    const bad = await runIg(['list-containers', ...rt, '--k8s-selector', 'app=x,,tier=y']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --k8s-selector "app=x,,tier=y": "" is empty/m);
    expect(bad.stdout).toBe('');
    const sock = await runIg(['list-containers', '--containerd-socketpath', '/nonexistent/containerd.sock']);
    expect(sock.code).toBe(1);
    expect(sock.stderr).toContain('error: containerd socket /nonexistent/containerd.sock does not exist');
    expect(sock.stderr).toContain('hint:');
    const badRt = await runIg(['list-containers', '-r', 'rkt']);
    expect(badRt.code).toBe(2);
    expect(badRt.stderr).toContain('unknown container runtime "rkt"');
  });

  it('-w prints ADDED/REMOVED, survives containerd being killed, exits on SIGINT', async () => {
    const child = spawnIg(['list-containers', '-w', '-o', 'json', ...rt]);
    const done = collect(child, 60_000);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const waitFor = async (what: string, f: () => boolean, ms = 10_000) => {
      const end = Date.now() + ms;
      while (!f()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stdout=${out} stderr=${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitFor('initial list', () => out.split('\n').filter(Boolean).length >= 3);
    expect(jsonLines(out).every((e: any) => e.event === 'ADDED')).toBe(true);
    const c = await ctrd.runPod({ name: 'cli-late', namespace: 'team-a' });
    await waitFor('late pod ADDED', () => /"event":"ADDED".*"podName":"cli-late"/.test(out));
    await ctrd.removePod(c.podId);
    await waitFor('late pod REMOVED', () => /"event":"REMOVED".*"podName":"cli-late"/.test(out));
    await ctrd.kill();
    await waitFor('warning', () => /warning: containerd at .* stopped answering/.test(err));
    await new Promise((r) => setTimeout(r, 1500));
    expect(child.exitCode).toBeNull();
    expect(err.match(/warning:/g)).toHaveLength(1);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(0);
  });
});
