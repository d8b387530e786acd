// `ig image import`: mutated OCI layout tars (headers, sizes, names, links, index.json, blobs)
// imported into a fresh store each.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dist } from '../dist.js';
import { fixtureImage } from '../fixture.js';
import { mutateBytes } from '../mutate.js';

export default {
  name: 'tar',
  describe: 'OCI layout tar archives (image import)',
  async init() {
    const { Store } = await dist('oci/store.js');
    const { exportImages } = await dist('oci/archive.js');
    const fx = await fixtureImage();
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'ig-fuzz-tar-'));
    const store = await Store.open(path.join(tmp, 'src'));
    for (const [d, b] of fx.blobs) await store.writeBlob(b, d);
    await store.setTag('ghcr.io/fuzz/gadget:v1', { mediaType: fx.MT.index, digest: fx.indexDigest, size: fx.index.length });
    const file = path.join(tmp, 'fixture.tar');
    await exportImages(store, ['ghcr.io/fuzz/gadget:v1'], file);
    return { tmp, tar: await readFile(file) };
  },
  generate(rng, { tar }) {
    // Half the edits aim at a 512-byte header block (names, modes, sizes, types, link names).
    const headers = rng.chance(0.5);
    const block = rng.int(Math.floor(tar.length / 512));
    return headers ? mutateBytes(rng, tar, { from: block * 512, to: block * 512 + 512, max: 4 }) : mutateBytes(rng, tar, { max: 8 });
  },
  async run(input, { tmp }) {
    const { Store } = await dist('oci/store.js');
    const { importArchive } = await dist('oci/archive.js');
    const dir = await mkdtemp(path.join(tmp, 'i-'));
    try {
      const file = path.join(dir, 'in.tar');
      await writeFile(file, input);
      await importArchive(await Store.open(path.join(dir, 'store')), file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  async close({ tmp }) {
    await rm(tmp, { recursive: true, force: true });
  },
};
