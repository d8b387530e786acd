// A small gadget image made by hand, the same bytes every time: the starting point of the
// manifest and tar targets. Its signature uses an Ed25519 key derived from a fixed seed
// (Ed25519 signatures are deterministic), so the corpus is reproducible.
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { dist } from './dist.js';

const SEED = Buffer.alloc(32, 7);
export const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), SEED]), format: 'der', type: 'pkcs8' });
export const publicKey = createPublicKey(privateKey);

export async function fixtureImage() {
  const { manifestBytes, indexBytes, sha256 } = await dist('oci/json.js');
  const { MT, SIMPLE_SIGNING } = await dist('oci/mediatypes.js');
  const blobs = new Map();
  const put = (data) => {
    const d = sha256(data);
    blobs.set(d, data);
    return d;
  };
  const config = Buffer.from('name: fuzz\ndescription: fuzz fixture\ndatasources:\n  open:\n    fields:\n      pid:\n        annotations:\n          columns.width: 7\n');
  const ebpf = Buffer.from('\x7fELF fuzz fixture, not an object');
  const manifest = manifestBytes({
    schemaVersion: 2, mediaType: MT.manifest, artifactType: MT.artifact,
    config: { mediaType: MT.config, digest: put(config), size: config.length },
    layers: [{ mediaType: MT.ebpf, digest: put(ebpf), size: ebpf.length }],
    annotations: { 'org.opencontainers.image.title': 'fuzz' },
  });
  const md = put(manifest);
  const index = indexBytes({
    schemaVersion: 2, mediaType: MT.index,
    manifests: [{ mediaType: MT.manifest, digest: md, size: manifest.length, platform: { architecture: 'amd64', os: 'linux' } }],
    annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
  });
  const id = put(index);
  const payload = Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': 'fuzz/gadget' }, image: { 'docker-manifest-digest': id }, type: 'cosign container image signature' },
    optional: null,
  }));
  const sigConfig = Buffer.from('{"architecture":"","os":""}');
  const sigManifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MT.manifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(sigConfig), size: sigConfig.length },
    layers: [{ mediaType: SIMPLE_SIGNING, digest: put(payload), size: payload.length, annotations: { 'dev.cosignproject.cosign/signature': sign(null, payload, privateKey).toString('base64') } }],
  }));
  put(sigManifest);
  return { blobs, config, ebpf, manifest, index, indexDigest: id, sigManifest, MT };
}
