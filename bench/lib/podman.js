// A private podman for the bench (runc, vfs storage in a temp dir, its API socket), and an image
// holding only the static load generator, so a load can run inside a real container.
import { mkdirSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { onCleanup, run, start, stop, tempDir } from './procs.js';

export function podmanAvailable() {
  return process.getuid?.() === 0 && ['/usr/bin/podman', '/usr/sbin/runc'].every((p) => existsSync(p));
}

export async function startPodman(ctx) {
  const dir = tempDir('ig-bench-podman-');
  for (const d of ['root', 'runroot', 'tmp', 'net', 'rootfs']) mkdirSync(path.join(dir, d), { recursive: true });
  const conf = path.join(dir, 'containers.conf');
  writeFileSync(conf, `[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\nnetns = "none"\n\n[engine]\n` +
    `runtime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "${dir}/events.log"\ntmp_dir = "${dir}/tmp"\n\n` +
    `[network]\nnetwork_config_dir = "${dir}/net"\n`);
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const flags = ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--storage-driver', 'vfs', '--tmpdir', path.join(dir, 'tmp')];
  const podman = (args) => run('podman', [...flags, ...args], { env });
  const socket = path.join(dir, 'podman.sock');
  const service = start('podman', [...flags, 'system', 'service', '-t', '0', `unix://${socket}`], { env, stdio: 'ignore' });
  onCleanup(async () => {
    await podman(['rm', '-af', '-t', '0']).catch(() => undefined);
    await stop(service, 'SIGTERM');
  });
  // the image: nothing but the load generator, linked statically
  const rootfs = path.join(dir, 'rootfs');
  await run('gcc', ['-O2', '-static', '-o', path.join(rootfs, 'load'), path.join(ctx.root, 'bench/baseline/load.c')]);
  copyFileSync(ctx.target, path.join(rootfs, 'igbench-target'));
  const tar = path.join(dir, 'rootfs.tar');
  await run('tar', ['-C', rootfs, '-cf', tar, '.']);
  await podman(['import', tar, 'localhost/igbench-load:latest']);
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  return {
    socket,
    env,
    podman,
    /** a container running the load generator (no --wait: it starts at once); resolves to its host pid */
    async runLoad(name, args) {
      await podman(['run', '-d', '--network', 'none', '--name', name, 'localhost/igbench-load:latest', '/load', ...args]);
      return Number((await podman(['inspect', '--format', '{{.State.Pid}}', name])).trim());
    },
  };
}
