// Manifests, indexes and signature manifests as a registry serves them, and the store's own
// index.json: mutated JSON goes through a real pull from a registry served on 127.0.0.1 by this
// process into a fresh store, is read back as a gadget image and, for signatures, verified; or is
// written as index.json and read through every store lookup.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { dist } from '../dist.js';
import { fixtureImage, publicKey } from '../fixture.js';
import { mutateBytes, mutateJson } from '../mutate.js';

const ROLES = ['top', 'child', 'signature', 'store-index'];

/** A registry answering from `state.content` (by digest) and `state.tags`. */
function startRegistry(state) {
  const server = http.createServer((req, res) => {
    const m = /^\/v2\/fuzz\/gadget\/(manifests|blobs)\/([^/?]+)/.exec(req.url ?? '');
    if (req.url === '/v2/') return res.end('{}');
    const body = m && (state.tags.get(m[2]) ?? state.content.get(m[2]));
    if (!body) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export default {
  name: 'manifest',
  describe: 'manifests, indexes, signature manifests (pull, read, verify) and the store index.json',
  async init({ generateOnly }) {
    const fx = await fixtureImage();
    const { sha256 } = await dist('oci/json.js');
    const { ANN } = await dist('oci/mediatypes.js');
    const storeIndex = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: fx.MT.index,
      manifests: [
        { mediaType: fx.MT.index, digest: fx.indexDigest, size: fx.index.length, annotations: { [ANN.refName]: 'ghcr.io/fuzz/gadget:v1' } },
        { mediaType: fx.MT.manifest, digest: sha256(fx.sigManifest), size: fx.sigManifest.length, annotations: { [ANN.refName]: `ghcr.io/fuzz/gadget:${fx.indexDigest.replace(':', '-')}.sig` } },
      ],
    }));
    const docs = [fx.index, fx.manifest, fx.sigManifest, storeIndex];
    const state = { fx, docs, sha256, content: new Map(), tags: new Map() };
    if (!generateOnly) {
      state.server = await startRegistry(state);
      state.host = `127.0.0.1:${state.server.address().port}`;
      state.tmp = await mkdtemp(path.join(os.tmpdir(), 'ig-fuzz-manifest-'));
    }
    return state;
  },
  /** Byte 0 is the role (which document is mutated), the rest the mutated JSON text. */
  generate(rng, { docs }) {
    const role = rng.int(ROLES.length);
    const doc = docs[role];
    const text = rng.chance(0.8) ? Buffer.from(JSON.stringify(mutateJson(rng, JSON.parse(doc.toString())) ?? null)) : mutateBytes(rng, doc, { max: 6 });
    return Buffer.concat([Buffer.from([role]), text]);
  },
  async run(input, state) {
    const { Store } = await dist('oci/store.js');
    const { RegistryClient } = await dist('oci/registry.js');
    const { pullImage } = await dist('oci/transfer.js');
    const { getGadgetImage, resolveLocal, readResolved } = await dist('oci/image.js');
    const { verifyDigest } = await dist('oci/signing.js');
    const { parseReference } = await dist('oci/reference.js');
    const { fx, sha256 } = state;
    const role = ROLES[input[0] % ROLES.length];
    const doc = input.subarray(1);
    const dir = await mkdtemp(path.join(state.tmp, 's-'));
    try {
      const store = await Store.open(dir);
      if (role === 'store-index') {
        for (const [d, b] of fx.blobs) await store.writeBlob(b, d);
        await writeFile(path.join(dir, 'index.json'), doc);
        const s2 = await Store.open(dir);
        for (const t of await s2.listTags()) await s2.reachable(t.descriptor, new Set(), true);
        const d = await resolveLocal(s2, 'ghcr.io/fuzz/gadget:v1');
        if (d) await readResolved(s2, 'ghcr.io/fuzz/gadget:v1', d);
        await getGadgetImage('ghcr.io/fuzz/gadget:v1', 'never', { store: dir });
        return;
      }
      state.content = new Map(fx.blobs);
      state.tags = new Map();
      let top = fx.index;
      if (role === 'top') top = doc;
      if (role === 'child') {
        state.content.set(sha256(doc), doc);
        const idx = JSON.parse(fx.index.toString());
        idx.manifests[0].digest = sha256(doc);
        idx.manifests[0].size = doc.length;
        top = Buffer.from(JSON.stringify(idx));
      }
      state.content.set(sha256(top), top);
      state.tags.set('v1', top);
      state.tags.set(`${sha256(top).replace(':', '-')}.sig`, role === 'signature' ? doc : fx.sigManifest);
      const client = new RegistryClient({ insecureRegistries: [state.host], attempts: 1, authfile: path.join(state.tmp, 'no-auth.json') });
      const ref = `${state.host}/fuzz/gadget:v1`;
      const pulled = await pullImage(store, client, ref);
      await getGadgetImage(ref, 'never', { store: dir });
      if (role === 'signature') await verifyDigest(store, parseReference(ref), pulled.descriptor.digest, [publicKey], client);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  async close(state) {
    state.server?.close();
    if (state.tmp) await rm(state.tmp, { recursive: true, force: true });
  },
};
