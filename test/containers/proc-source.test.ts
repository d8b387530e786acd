import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { runIg, jsonLines } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { mntnsOf, waitFor } from '../helpers/kernel.js';
import { readFileSync } from 'node:fs';

const store = tempStore();
let ns: ChildProcess;
let nsMntns: number;
beforeAll(async () => {
  await buildGadget('gadgets/trace_open', 'trace_open', store.env);
  // its own process group, so the forked shell dies with unshare at the end
  ns = spawn('unshare', ['--mount', '--fork', 'sh', '-c', 'while :; do cat /etc/hostname >/dev/null; sleep 0.2; done'], { stdio: 'ignore', detached: true });
  // the forked shell is unshare's child; its mount namespace is the new one
  const child = await waitFor(() => {
    try {
      return Number(readFileSync(`/proc/${ns.pid}/task/${ns.pid}/children`, 'utf8').trim().split(' ')[0]) || undefined;
    } catch {
      return undefined;
    }
  }, 5_000, 'the unshared shell');
  nsMntns = mntnsOf(child);
}, 120_000);
afterAll(() => {
  if (ns?.pid) process.kill(-ns.pid, 'SIGKILL');
  store.cleanup();
});

describe('--runtimes proc: processes in mount namespaces no runtime owns', () => {
  it('ig list-containers -r proc lists the namespace, named after its oldest process', async () => {
    const r = await runIg(['list-containers', '-r', 'proc', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { mntns: number; runtime: { containerName: string; runtimeName: string; containerPid: number } }[];
    const row = rows.find((x) => x.mntns === nsMntns);
    expect(row).toBeDefined();
    expect(row!.runtime.runtimeName).toBe('proc');
    expect(row!.runtime.containerName).toBe(`unshare-${ns.pid}`);
    expect(rows.some((x) => x.mntns === mntnsOf('self'))).toBe(false); // the host is not a container
  });

  it('ig run -r proc -c NAME traces only that namespace', async () => {
    const r = await runIg(['run', 'trace_open', '-o', 'json', '-t', '2', '-r', 'proc', '-c', `unshare-${ns.pid}`], { env: store.env });
    expect(r.code, r.stderr).toBe(0);
    const events = jsonLines(r.stdout) as { mntns_id: number; fname: string; runtime: { containerName: string } }[];
    expect(events.filter((e) => e.fname === '/etc/hostname').length).toBeGreaterThan(2);
    expect(events.every((e) => e.mntns_id === nsMntns && e.runtime.containerName === `unshare-${ns.pid}`)).toBe(true);
  });
});
