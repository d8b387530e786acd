/**
 * Test starter: a private containerd (1.6, CRI plugin, runc) in a temp dir, plus a
 * busybox image (built from Debian's busybox-static) imported as both the sandbox
 * ("pause") image and the workload image. Nothing touches /run/containerd's socket
 * or /var/lib/containerd.
 *
 *   const ctrd = await startContainerd();            // ~1-2 s
 *   const pod = await ctrd.runPod({ name: 'a', namespace: 'ns1', labels: { app: 'x' } });
 *   pod.pid, pod.podId, pod.containerId, ctrd.socket
 *   await ctrd.removePod(pod.podId);
 *   await ctrd.stop();                                // in afterAll: pods, daemon, shims, mounts, dir
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CriClient } from '../../src/containers/cri/client.js';

const execFileP = promisify(execFile);

const BUSYBOX_IMAGE = 'docker.io/library/ig-test-busybox:latest';
/** The workload command the tests run in every container: opens a file in a loop. */
export const LOOP_COMMAND = ['sh', '-c', 'while true; do cat /etc/hostname >/dev/null; sleep 0.2; done'];

/** Is everything needed to run containerd here? (tests `describe.skipIf(!containerdAvailable())`) */
export function containerdAvailable(): boolean {
  return (
    process.getuid?.() === 0 &&
    ['/usr/bin/containerd', '/usr/bin/ctr', '/usr/sbin/runc', '/bin/busybox'].every((p) => fs.existsSync(p))
  );
}

/** Populate `root` with a busybox rootfs (static binary + applet symlinks). */
function makeBusyboxRootfs(root: string, busybox = '/bin/busybox'): void {
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'var']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.copyFileSync(busybox, path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  fs.writeFileSync(path.join(root, 'etc', 'hostname'), 'ig-test\n');
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\n');
  const applets = ['sh', 'cat', 'sleep', 'ls', 'echo', 'true', 'false', 'ps', 'id', 'hostname', 'touch', 'rm', 'mkdir', 'wc', 'grep', 'head', 'env', 'kill', 'mount', 'uname', 'date', 'awk'];
  for (const a of applets) {
    const link = path.join(root, 'bin', a);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
}

/**
 * Build a docker-archive tar of the busybox image (for `ctr images import`) and a
 * plain rootfs tar (for `podman import`) inside `dir` (a few ms; the caller removes `dir`).
 */
export async function busyboxImage(dir: string): Promise<{ archive: string; rootfsTar: string }> {
  fs.mkdirSync(dir, { recursive: true });
  const rootfs = path.join(dir, 'rootfs');
  makeBusyboxRootfs(rootfs);
  const out = path.join(dir, 'archive');
  fs.mkdirSync(out);
  const layer = path.join(out, 'layer.tar');
  await execFileP('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', layer, '.']);
  const diffId = 'sha256:' + crypto.createHash('sha256').update(fs.readFileSync(layer)).digest('hex');
  const config = {
    architecture: os.arch() === 'arm64' ? 'arm64' : 'amd64',
    os: 'linux',
    created: '2026-01-01T00:00:00Z',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      // Works as the pod sandbox ("pause") process too: blocks, exits on TERM.
      Cmd: ['/bin/sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 1; done"],
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '2026-01-01T00:00:00Z', created_by: 'ig test helper' }],
  };
  const configJson = JSON.stringify(config);
  const configName = crypto.createHash('sha256').update(configJson).digest('hex') + '.json';
  fs.writeFileSync(path.join(out, configName), configJson);
  fs.writeFileSync(
    path.join(out, 'manifest.json'),
    JSON.stringify([{ Config: configName, RepoTags: [BUSYBOX_IMAGE], Layers: ['layer.tar'] }]),
  );
  const archive = path.join(dir, 'busybox-docker-archive.tar');
  await execFileP('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', out, '-cf', archive, 'manifest.json', configName, 'layer.tar']);
  fs.rmSync(rootfs, { recursive: true, force: true });
  return { archive, rootfsTar: layer };
}

interface RunPodOptions {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** name of the (single) container in the pod; default "main" */
  containerName?: string;
  command?: string[];
  image?: string;
}

export interface CriPod {
  podId: string;
  containerId: string;
  /** host pid of the container's first process */
  pid: number;
  name: string;
  namespace: string;
  uid: string;
  containerName: string;
}

export interface ContainerdHandle {
  dir: string;
  socket: string;
  /** containerd namespace the CRI plugin uses */
  namespace: string;
  image: string;
  cri: CriClient;
  /** the daemon process (null after kill()) */
  proc: ChildProcess | null;
  runPod(opts: RunPodOptions): Promise<CriPod>;
  /** stop and remove a pod sandbox (and its containers) */
  removePod(podId: string): Promise<void>;
  /** run `ctr` against this daemon (namespace default k8s.io) */
  ctr(args: string[], namespace?: string): Promise<string>;
  /** `ctr run -d` a busybox loop container in a non-CRI namespace (image imported there first); returns its pid */
  ctrRun(namespace: string, id: string, command?: string[]): Promise<number>;
  /** SIGKILL the daemon only (its shims and containers keep running), to test a runtime going away */
  kill(): Promise<void>;
  /** tear everything down; safe to call twice */
  stop(): Promise<void>;
}

function configToml(dir: string, socket: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${socket}"

[ttrpc]
  address = "${socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "${BUSYBOX_IMAGE}"
    restrict_oom_score_adj = true
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          # runc state in our dir, not /run/containerd/runc (shared with other daemons)
          Root = "${dir}/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "${dir}/cni/bin"
      conf_dir = "${dir}/cni/conf"
  [plugins."io.containerd.internal.v1.opt"]
    path = "${dir}/opt"
`;
}

async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs: number, logFile?: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      /* keep trying */
    }
    if (Date.now() > end) {
      const log = logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
      throw new Error(`timed out waiting for ${what}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Processes whose command line contains `needle` (for finding our shims). */
export function pidsWithArg(needle: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes(needle)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Lazily unmount every mount point under `dir`, deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .map((m) => m.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      // umount -l: the mount may be busy; detach is enough for removal.
      spawnSyncQuiet('umount', ['-l', m]);
    } catch {
      /* ignore */
    }
  }
}

import { spawnSync } from 'node:child_process';
function spawnSyncQuiet(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

function killAndWait(proc: ChildProcess, signal: NodeJS.Signals, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
    proc.kill(signal);
  });
}

export async function startContainerd(opts: { keepLogs?: boolean } = {}): Promise<ContainerdHandle> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-ctrd-'));
  const socket = path.join(dir, 'containerd.sock');
  for (const d of ['cni/bin', 'cni/conf', 'opt', 'logs']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.toml'), configToml(dir, socket));
  const logFile = path.join(dir, 'containerd.log');
  const launch = (): ChildProcess => {
    const logFd = fs.openSync(logFile, 'a');
    const p = spawn('/usr/bin/containerd', ['--config', path.join(dir, 'config.toml'), '--log-level', 'info'], {
      stdio: ['ignore', logFd, logFd],
    });
    fs.closeSync(logFd);
    return p;
  };
  const ready = async () => {
    await waitFor('containerd socket', () => fs.existsSync(socket), 20_000, logFile);
    await waitFor('containerd CRI', async () => (await cri.version()).runtime_name !== '', 20_000, logFile);
  };
  let proc: ChildProcess | null = launch();
  let stopped = false;
  const cri = new CriClient(socket, 5000);
  const pods = new Set<string>();

  const ctr = async (args: string[], namespace = 'k8s.io'): Promise<string> => {
    const r = await execFileP('/usr/bin/ctr', ['--address', socket, '-n', namespace, ...args], { maxBuffer: 16 << 20 });
    return r.stdout;
  };
  const imported = new Set<string>(['k8s.io']);
  const ctrContainers: [string, string][] = []; // [namespace, id]

  const handle: ContainerdHandle = {
    dir,
    socket,
    namespace: 'k8s.io',
    image: BUSYBOX_IMAGE,
    cri,
    get proc() {
      return proc;
    },
    ctr,
    async ctrRun(namespace: string, id: string, command = LOOP_COMMAND): Promise<number> {
      if (!imported.has(namespace)) {
        await ctr(['images', 'import', path.join(dir, 'image', 'busybox-docker-archive.tar')], namespace);
        imported.add(namespace);
      }
      ctrContainers.push([namespace, id]);
      await ctr(['run', '-d', '--runc-root', path.join(dir, 'runc'), BUSYBOX_IMAGE, id, ...command], namespace);
      const out = await ctr(['tasks', 'ls'], namespace);
      const line = out.split('\n').find((l) => l.startsWith(id + ' '));
      const pid = Number(line?.trim().split(/\s+/)[1]);
      if (!pid) throw new Error(`ctr run ${id}: no running task (${out})`);
      return pid;
    },
    async runPod(o: RunPodOptions): Promise<CriPod> {
      const namespace = o.namespace ?? 'default';
      const uid = o.uid ?? crypto.randomUUID();
      const containerName = o.containerName ?? 'main';
      const logDir = path.join(dir, 'logs', `${namespace}_${o.name}_${uid}`);
      fs.mkdirSync(logDir, { recursive: true });
      const sandboxConfig = {
        metadata: { name: o.name, uid, namespace, attempt: 0 },
        log_directory: logDir,
        labels: {
          ...o.labels,
          'io.kubernetes.pod.name': o.name,
          'io.kubernetes.pod.namespace': namespace,
          'io.kubernetes.pod.uid': uid,
        },
        annotations: o.annotations ?? {},
        linux: { security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } } },
      };
      const { pod_sandbox_id: podId } = await cri.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config: sandboxConfig }, 30_000);
      pods.add(podId);
      const { container_id: containerId } = await cri.call<{ container_id: string }>(
        'CreateContainer',
        {
          pod_sandbox_id: podId,
          config: {
            metadata: { name: containerName, attempt: 0 },
            image: { image: o.image ?? BUSYBOX_IMAGE },
            command: o.command ?? LOOP_COMMAND,
            log_path: `${containerName}.log`,
            labels: {
              'io.kubernetes.pod.name': o.name,
              'io.kubernetes.pod.namespace': namespace,
              'io.kubernetes.pod.uid': uid,
              'io.kubernetes.container.name': containerName,
            },
            annotations: {},
            linux: {},
          },
          sandbox_config: sandboxConfig,
        },
        30_000,
      );
      await cri.call('StartContainer', { container_id: containerId }, 30_000);
      const { pid } = await cri.containerStatus(containerId);
      return { podId, containerId, pid, name: o.name, namespace, uid, containerName };
    },
    async removePod(podId: string): Promise<void> {
      await cri.call('StopPodSandbox', { pod_sandbox_id: podId }, 30_000);
      await cri.call('RemovePodSandbox', { pod_sandbox_id: podId }, 30_000);
      pods.delete(podId);
    },
    async kill(): Promise<void> {
      if (proc) await killAndWait(proc, 'SIGKILL', 5000);
      proc = null;
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      // A killed daemon is started again so that it removes its shims and containers cleanly.
      if (!proc && pidsWithArg(socket).length > 0) {
        proc = launch();
        await ready().catch(() => {});
      }
      if (proc) {
        const sandboxes = await cri.listPodSandbox().catch(() => []);
        for (const p of new Set([...pods, ...sandboxes.map((x) => x.id)])) await handle.removePod(p).catch(() => {});
        for (const [ns, id] of ctrContainers) {
          await ctr(['tasks', 'kill', '-s', 'SIGKILL', id], ns).catch(() => {});
          for (let i = 0; i < 20; i++) {
            const r = await ctr(['tasks', 'delete', id], ns).then(() => true, (e) => /not found/.test(String(e.stderr)));
            if (r) break;
            await new Promise((res) => setTimeout(res, 50));
          }
          await ctr(['containers', 'delete', id], ns).catch(() => {});
        }
      }
      cri.close();
      if (proc) {
        if (!(await killAndWait(proc, 'SIGTERM', 5000))) await killAndWait(proc, 'SIGKILL', 5000);
        proc = null;
      }
      // Last resort: shims (and the containers under them) that are still there name our socket.
      for (const pid of pidsWithArg(socket)) {
        const sockets = unixSocketsOf(pid).filter((p) => p.startsWith('/run/containerd/s/'));
        for (const child of childrenOf(pid)) killQuiet(child);
        killQuiet(pid);
        for (const sp of sockets) fs.rmSync(sp, { force: true });
      }
      await new Promise((r) => setTimeout(r, 100));
      unmountUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };

  try {
    await ready();
    const img = await busyboxImage(path.join(dir, 'image'));
    await ctr(['images', 'import', '--no-unpack=false', img.archive]).catch(async () => ctr(['images', 'import', img.archive]));
  } catch (e) {
    await handle.stop();
    throw e;
  }
  return handle;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e), ...childrenOf(Number(e)));
    } catch {
      /* gone */
    }
  }
  return out;
}

function killQuiet(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Paths of the unix sockets a process has open (listening shims). */
function unixSocketsOf(pid: number): string[] {
  const inodes = new Set<string>();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        /* closed */
      }
    }
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && inodes.has(f[6]!)) out.push(f[7]!.replace(/^@/, ''));
  }
  return out;
}
