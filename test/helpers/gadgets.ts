import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import tar from 'tar-stream';
import { runIg, repoRoot } from './ig.js';

/** A throw-away local store; `env` points ig at it. */
export function tempStore(): { dir: string; env: NodeJS.ProcessEnv; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ig-store-'));
  return { dir, env: { ...process.env, IG_OCI_STORE: dir }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `ig image build DIR -t TAG` into the given store; fails the test with clang's words when it fails. */
export async function buildGadget(dir: string, tag: string, env: NodeJS.ProcessEnv): Promise<void> {
  const r = await runIg(['image', 'build', path.resolve(repoRoot, dir), '-t', tag], { env, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`building ${dir} failed:\n${r.stdout}\n${r.stderr}`);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * An OCI-layout tar holding one gadget image whose layer is whatever bytes the test
 * wants (garbage, an object without BTF): `ig image import` then puts it in a store,
 * so tests reach the runtime's own checks rather than the builder's.
 */
export async function writeImageTar(file: string, ref: string, ebpf: Buffer, gadgetYaml = 'name: test\n'): Promise<void> {
  const config = Buffer.from(gadgetYaml);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.gadget.v1+binary',
    config: { mediaType: 'application/vnd.gadget.config.v1+yaml', digest: `sha256:${sha(config)}`, size: config.length },
    layers: [{ mediaType: 'application/vnd.gadget.ebpf.program.v1+binary', digest: `sha256:${sha(ebpf)}`, size: ebpf.length }],
  }));
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length,
      platform: { architecture: 'amd64', os: 'linux' } }],
  }));
  const top = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${sha(index)}`, size: index.length,
      annotations: { 'org.opencontainers.image.ref.name': ref } }],
  }));
  const pack = tar.pack();
  const done = new Promise<void>((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('finish', resolve).on('error', reject);
    pack.pipe(out);
  });
  pack.entry({ name: 'oci-layout' }, '{"imageLayoutVersion":"1.0.0"}');
  pack.entry({ name: 'index.json' }, top);
  for (const b of [config, ebpf, manifest, index]) pack.entry({ name: `blobs/sha256/${sha(b)}` }, b);
  pack.finalize();
  await done;
}

function writeFile(p: string, text: string): string {
  writeFileSync(p, text);
  return p;
}
