/**
 * Test starter: podman 4.3 with runc, private storage (--root/--runroot/--tmpdir in a
 * temp dir, vfs driver) and its libpod REST API (`podman system service`) on a temp
 * unix socket. Nothing lands in the host's podman storage.
 *
 *   const pm = await startPodman();                      // ~0.5 s
 *   const c = await pm.run('web1');                      // busybox loop, --network none
 *   c.id, c.pid, pm.socket, pm.image
 *   await pm.podman(['rm', '-f', '-t', '0', 'web1']);
 *   await pm.stop();                                      // in afterAll
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { busyboxImage, LOOP_COMMAND, pidsWithArg, unmountUnder } from './containerd.js';

const execFileP = promisify(execFile);

const PODMAN_IMAGE = 'localhost/ig-test-busybox:latest';

export function podmanAvailable(): boolean {
  return process.getuid?.() === 0 && ['/usr/bin/podman', '/usr/sbin/runc', '/bin/busybox'].every((p) => fs.existsSync(p));
}

export interface PodmanContainer { id: string; name: string; pid: number }

export interface PodmanHandle {
  dir: string;
  /** the libpod API socket (pass as --podman-socketpath) */
  socket: string;
  image: string;
  /** env for running podman by hand (CONTAINERS_CONF etc.) */
  env: NodeJS.ProcessEnv;
  /** run the podman CLI with this instance's storage flags; resolves to stdout */
  podman(args: string[]): Promise<string>;
  /** `podman run -d --network none --name NAME image <loop>`; returns id and host pid */
  run(name: string, command?: string[], extraArgs?: string[]): Promise<PodmanContainer>;
  /** kill the API service only */
  killService(): Promise<void>;
  stop(): Promise<void>;
}

function get(socket: string, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: socket, path: p, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
  });
}

/** `socket`: where the API listens (default DIR/podman.sock), e.g. inside a stand-in for a node's /run. */
export async function startPodman(opts: { socket?: string } = {}): Promise<PodmanHandle> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-podman-'));
  for (const d of ['root', 'runroot', 'tmp', 'volumes', 'net']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const socket = opts.socket ?? path.join(dir, 'podman.sock');
  fs.mkdirSync(path.dirname(socket), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${dir}/events.log"
tmp_dir = "${dir}/tmp"
volume_path = "${dir}/volumes"

[network]
network_config_dir = "${dir}/net"
`,
  );
  fs.writeFileSync(
    path.join(dir, 'storage.conf'),
    `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/runroot"\n`,
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
  };
  const flags = ['--root', `${dir}/root`, '--runroot', `${dir}/runroot`, '--tmpdir', `${dir}/tmp`, '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
  const podman = async (args: string[]): Promise<string> => {
    const r = await execFileP('/usr/bin/podman', [...flags, ...args], { env, maxBuffer: 16 << 20 });
    return r.stdout;
  };
  const logFd = fs.openSync(path.join(dir, 'service.log'), 'a');
  let svc: ChildProcess | null = spawn('/usr/bin/podman', [...flags, 'system', 'service', '--time=0', `unix://${socket}`], {
    env,
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  let stopped = false;
  const killService = async (): Promise<void> => {
    const p = svc;
    svc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        p.kill('SIGKILL');
      }, 3000);
      p.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      p.kill('SIGTERM');
    });
  };

  const handle: PodmanHandle = {
    dir,
    socket,
    image: PODMAN_IMAGE,
    env,
    podman,
    async run(name, command = LOOP_COMMAND, extraArgs = []) {
      const id = (await podman(['run', '-d', '--network', 'none', '--name', name, ...extraArgs, PODMAN_IMAGE, ...command])).trim();
      const pid = Number((await podman(['inspect', '--format', '{{.State.Pid}}', id])).trim());
      return { id, name, pid };
    },
    killService,
    async stop() {
      if (stopped) return;
      stopped = true;
      await podman(['rm', '-a', '-f', '-t', '0']).catch(() => {});
      await killService();
      // conmon processes name our storage dir; anything left is ours to kill
      for (const pid of pidsWithArg(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      unmountUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };

  try {
    const img = await busyboxImage(path.join(dir, 'image'));
    await podman(['import', '--change', 'CMD=["/bin/sh"]', img.rootfsTar, PODMAN_IMAGE]);
    const end = Date.now() + 20_000;
    for (;;) {
      const ok = await get(socket, '/v4.0.0/libpod/_ping').then((s) => s === 200, () => false);
      if (ok) break;
      if (Date.now() > end) throw new Error(`podman service did not answer on ${socket}: ${fs.readFileSync(path.join(dir, 'service.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    await handle.stop();
    throw e;
  }
  return handle;
}
