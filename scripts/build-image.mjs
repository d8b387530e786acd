#!/usr/bin/env node
// `npm run build:image` → dist/image/ (an OCI image layout) and dist/ig-image.tar (the same as an
// oci-archive): the node agent's container image, built offline, from nothing pulled from a registry.
//
// The root file system is the single executable (dist/ig, built first when missing) plus the
// shared libraries it and the native addon link (`ldd`: libc, libstdc++, libgcc_s, libelf, libz),
// taken from Debian's own packages with `apt-get download` (apt checks them against the signed
// archive index) and unpacked with `dpkg -x` — no debootstrap, no base image. Debian 12 has no
// Node 20, which is why node comes inside the executable. The layer is a deterministic tar (sorted,
// mtime SOURCE_DATE_EPOCH or 0, owner root), so the same inputs give the same digests.
//
//   node scripts/build-image.mjs [--sea FILE] [--out DIR] [--tag NAME:TAG]   (default ig:<version>)
//   podman load -i dist/ig-image.tar                       → localhost/ig:<version>
//   skopeo copy oci:dist/image:ig:<version> docker://REGISTRY/ig:<version>
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const sea = path.resolve(arg('--sea', path.join(root, 'dist', 'ig')));
const out = path.resolve(arg('--out', path.join(root, 'dist', 'image')));
const archive = `${out === path.join(root, 'dist', 'image') ? path.join(root, 'dist', 'ig-image') : out}.tar`;
// One image per layout: podman load refuses an archive naming several.
const tag = arg('--tag', `ig:${pkg.version}`);


/** What the executable and the addon link (checked against `ldd` below), by Debian package. */
const PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6', 'zlib1g', 'libelf1'];
/** Parts of those packages the agent never reads (keeping each package's copyright file). */
const DROP = [/^usr\/lib\/x86_64-linux-gnu\/gconv(\/|$)/, /^usr\/share\/(lintian|gcc)(\/|$)/, /^usr\/share\/doc\/[^/]+\/(?!copyright$)/, /^etc\/ld\.so\.conf\.d(\/|$)/];

function fail(msg, hint) {
  process.stderr.write(`error: ${msg}\n${hint ? `hint: ${hint}\n` : ''}`);
  process.exit(1);
}
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

/** File times and `created`: SOURCE_DATE_EPOCH, else the checkout's last commit, so a rebuild of a commit is identical. */
function sourceDate() {
  if (process.env.SOURCE_DATE_EPOCH) return new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000);
  try {
    return new Date(Number(sh('git', ['-C', root, 'log', '-1', '--format=%ct']).trim()) * 1000);
  } catch {
    return new Date(0);
  }
}
const epoch = sourceDate();

if (!fs.existsSync(sea)) {
  if (sea !== path.join(root, 'dist', 'ig')) fail(`${sea} does not exist`, 'build it with `npm run build:sea` (or scripts/build-sea.mjs --out FILE)');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-sea.mjs')], { stdio: 'inherit' });
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-image-'));
try {
  // 1. Debian packages → rootfs
  const debs = path.join(work, 'debs');
  const rootfs = path.join(work, 'rootfs');
  fs.mkdirSync(debs);
  fs.mkdirSync(rootfs);
  try {
    // as root apt drops to the _apt user for downloads, which cannot write our private folder
    sh('apt-get', ['download', '-o', 'APT::Sandbox::User=root', ...PACKAGES], { cwd: debs });
  } catch (e) {
    fail(`apt-get download ${PACKAGES.join(' ')} failed: ${String(e.stderr || e.message).trim()}`, 'run `apt-get update` (the Debian archive must be reachable)');
  }
  const versions = {};
  for (const f of fs.readdirSync(debs).sort()) {
    const deb = path.join(debs, f);
    versions[sh('dpkg-deb', ['-f', deb, 'Package']).trim()] = sh('dpkg-deb', ['-f', deb, 'Version']).trim();
    sh('dpkg-deb', ['-x', deb, rootfs]);
  }
  // Debian 12 is merged-/usr: /lib and /lib64 are links into /usr, as on an installed system.
  for (const d of ['lib', 'lib64']) {
    const from = path.join(rootfs, d);
    if (!fs.existsSync(from)) continue;
    fs.cpSync(from, path.join(rootfs, 'usr', d), { recursive: true, verbatimSymlinks: true });
    fs.rmSync(from, { recursive: true });
    fs.symlinkSync(`usr/${d}`, from);
  }
  fs.mkdirSync(path.join(rootfs, 'usr', 'local', 'bin'), { recursive: true });
  fs.copyFileSync(sea, path.join(rootfs, 'usr', 'local', 'bin', 'ig'));
  fs.chmodSync(path.join(rootfs, 'usr', 'local', 'bin', 'ig'), 0o755);
  for (const d of ['run', 'var/lib/ig', 'host', 'proc', 'sys', 'dev', 'root']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.mkdirSync(path.join(rootfs, 'tmp'), { mode: 0o1777 });
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.symlinkSync('../run', path.join(rootfs, 'var', 'run'));
  fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\n');
  fs.writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\n');

  // 2. Every library the executable and the addon need is in the rootfs (ldd against it).
  const addon = path.join(root, 'native', 'build', 'ig_native.node');
  for (const bin of [sea, addon]) {
    for (const m of sh('ldd', [bin]).matchAll(/=> (\/\S+)/g)) {
      const lib = path.basename(m[1]);
      if (!['usr/lib/x86_64-linux-gnu', 'usr/lib64'].some((d) => fs.existsSync(path.join(rootfs, d, lib)))) {
        fail(`${path.basename(bin)} links ${lib}, which none of ${PACKAGES.join(', ')} provides`, 'add its Debian package to PACKAGES in scripts/build-image.mjs');
      }
    }
  }

  // 3. The layer: a deterministic tar of the rootfs.
  const entries = [];
  (function walk(rel) {
    for (const name of fs.readdirSync(path.join(rootfs, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (DROP.some((re) => re.test(r))) continue;
      const st = fs.lstatSync(path.join(rootfs, r));
      entries.push({ r, st });
      if (st.isDirectory()) walk(r);
    }
  })('');
  const pack = tar.pack();
  const chunks = [];
  pack.on('data', (c) => chunks.push(c));
  const ended = new Promise((resolve, reject) => pack.on('end', resolve).on('error', reject));
  const hdr = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: epoch };
  for (const { r, st } of entries) {
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) pack.entry({ ...hdr, name: `${r}/`, type: 'directory', mode });
    else if (st.isSymbolicLink()) pack.entry({ ...hdr, name: r, type: 'symlink', linkname: fs.readlinkSync(path.join(rootfs, r)), mode: 0o777 });
    else if (st.isFile()) pack.entry({ ...hdr, name: r, mode }, fs.readFileSync(path.join(rootfs, r)));
    else fail(`unexpected file type at ${r}`);
  }
  pack.finalize();
  await ended;
  const layerTar = Buffer.concat(chunks);
  const layer = gzipSync(layerTar, { level: 6 });

  // 4. Config, manifest, index: an OCI image layout.
  const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const blobs = new Map();
  const blob = (mediaType, data) => {
    const digest = sha(data);
    blobs.set(digest, data);
    return { mediaType, digest, size: data.length };
  };
  const labels = {
    'org.opencontainers.image.title': 'ig node agent',
    'org.opencontainers.image.version': pkg.version,
    'org.opencontainers.image.description': 'ig daemon: eBPF gadgets as OCI images, one agent per node',
    'io.ig.debian-packages': Object.entries(versions).map(([p, v]) => `${p}=${v}`).join(','),
  };
  const config = blob('application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify({
    created: epoch.toISOString(),
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: ['/usr/local/bin/ig'],
      Cmd: ['daemon'],
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin'],
      WorkingDir: '/',
      Labels: labels,
    },
    rootfs: { type: 'layers', diff_ids: [sha(layerTar)] },
    history: [{ created: epoch.toISOString(), created_by: `scripts/build-image.mjs: ${PACKAGES.join(' ')} + /usr/local/bin/ig` }],
  })));
  const layerDesc = blob('application/vnd.oci.image.layer.v1.tar+gzip', layer);
  const manifest = blob('application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers: [layerDesc],
    annotations: { 'org.opencontainers.image.created': epoch.toISOString(), 'org.opencontainers.image.version': pkg.version },
  })));
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...manifest, platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };

  const tmpOut = `${out}.tmp-${process.pid}`;
  fs.rmSync(tmpOut, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmpOut, 'blobs', 'sha256'), { recursive: true });
  fs.writeFileSync(path.join(tmpOut, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  fs.writeFileSync(path.join(tmpOut, 'index.json'), JSON.stringify(index));
  for (const [d, data] of blobs) fs.writeFileSync(path.join(tmpOut, 'blobs', 'sha256', d.slice(7)), data);
  fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(tmpOut, out);
  // The same layout as one tar (podman load -i, skopeo oci-archive:).
  sh('tar', ['--sort=name', `--mtime=@${Math.floor(epoch.getTime() / 1000)}`, '--owner=0', '--group=0', '--numeric-owner', '-cf', `${archive}.tmp`, '-C', out, '.']);
  fs.renameSync(`${archive}.tmp`, archive);
  const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
  process.stdout.write(
    `built ${out} (${tag}) and ${archive}: manifest ${manifest.digest}\n` +
      `  layer ${mb(layer.length)} compressed, ${mb(layerTar.length)} unpacked; ${Object.entries(versions).map(([p, v]) => `${p} ${v}`).join(', ')}\n`,
  );
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
