import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { IgError } from '../errors.js';
import { sha256 } from './json.js';
import { ANN, INDEX_TYPES, MANIFEST_TYPES } from './mediatypes.js';
import { normalizeReference, parseReference } from './reference.js';
import type { Store } from './store.js';
import type { Descriptor, ImageIndex, ImageManifest } from './types.js';
import { resolveLocal, notFoundLocally } from './image.js';
import { checkDescriptor } from './validate.js';
import { isSignatureReference, signatureReference } from './signing.js';

const MTIME = new Date(0);

/**
 * Write a deterministic tar of an OCI layout holding the given images: entries sorted by name,
 * mtime 0, uid/gid 0, mode 0644 (dirs 0755). index.json lists the images with their full references.
 */
export async function exportImages(store: Store, refs: string[], file: string): Promise<{ images: number; blobs: number }> {
  const entries: Descriptor[] = [];
  const digests = new Set<string>();
  for (const r of refs) {
    const full = normalizeReference(r);
    const d = await resolveLocal(store, full);
    if (!d) throw notFoundLocally(full);
    entries.push({ mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { ...(d.annotations ?? {}), [ANN.refName]: full } });
    await store.reachable(d, digests);
    // An image's signatures go with it, so it still verifies after `import` on an offline machine.
    const sigRef = signatureReference(parseReference(full), d.digest);
    const sig = await store.resolveTag(sigRef);
    if (sig && !entries.some((e) => e.annotations?.[ANN.refName] === sigRef)) {
      entries.push({ mediaType: sig.mediaType, digest: sig.digest, size: sig.size, annotations: { [ANN.refName]: sigRef } });
      await store.reachable(sig, digests, true);
    }
  }
  entries.sort((a, b) => (a.annotations![ANN.refName]! < b.annotations![ANN.refName]! ? -1 : 1));
  const files = new Map<string, Buffer | string>();
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries })));
  for (const d of digests) files.set(`blobs/sha256/${d.slice(7)}`, store.blobPath(d));
  const names = ['blobs/', 'blobs/sha256/', ...files.keys()].sort();

  const pack = tar.pack();
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeTar(pack, tmp, names, files);
    await fs.rename(tmp, file);
  } catch (e) {
    pack.destroy();
    await fs.rm(tmp, { force: true });
    if (e instanceof IgError) throw e;
    throw new IgError('usage', `cannot write ${file}: ${(e as Error).message}`, { hint: 'nothing was left behind; check the path and the free space', cause: e, exitCode: 1 });
  }
  return { images: entries.filter((e) => !isSignatureReference(e.annotations![ANN.refName]!)).length, blobs: digests.size };
}

/** The tar's entries, in order, into `tmp` (fsync'ed before it is renamed by the caller). */
async function writeTar(pack: tar.Pack, tmp: string, names: string[], files: Map<string, Buffer | string>): Promise<void> {
  const out = pipeline(pack, createWriteStream(tmp, { flush: true }));
  out.catch(() => {}); // awaited below; an early failure must not be an unhandled rejection
  // An entry's callback may never come once the file failed (a full disk): whichever is first.
  const entry = (h: Parameters<tar.Pack["entry"]>[0], data: Buffer) =>
    Promise.race([new Promise<void>((resolve, reject) => pack.entry(h, data, (err) => (err ? reject(err) : resolve()))), out.then(() => {})]);
  const hdr = { mtime: MTIME, uid: 0, gid: 0, uname: '', gname: '' };
  for (const name of names) {
    if (name.endsWith('/')) {
      pack.entry({ ...hdr, name, type: 'directory', mode: 0o755 });
      continue;
    }
    const v = files.get(name)!;
    const data = typeof v === 'string' ? await fs.readFile(v) : v;
    if (typeof v === 'string' && sha256(data) !== `sha256:${path.basename(v)}`) {
      throw new IgError('digest', `blob ${path.basename(v)} in the local store is corrupt`, { hint: 'pull the image again' });
    }
    await entry({ ...hdr, name, mode: 0o644, size: data.length }, data);
  }
  pack.finalize();
  await out;
}

const MAX_IMPORT = 2 ** 31; // 2 GiB in memory at most

/** Normalize a tar entry name; refuse absolute paths and any `..`. */
export function safeEntryName(raw: string): string {
  const name = raw.replace(/\\/g, '/');
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) {
    throw new IgError('invalid-image', `archive entry "${raw}" has an absolute path`, { hint: 'refusing to import a tar that writes outside the layout' });
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new IgError('invalid-image', `archive entry "${raw}" contains ".."`, { hint: 'refusing to import a tar that writes outside the layout' });
  }
  return parts.join('/');
}

/** Resolve a link target relative to the entry; refuse one escaping the layout. */
export function safeLinkTarget(entry: string, target: string, type: 'symlink' | 'link'): string {
  if (target.startsWith('/')) throw new IgError('invalid-image', `archive ${type} "${entry}" points to an absolute path "${target}"`, { hint: 'refusing to import a tar with links leaving the layout' });
  const base = type === 'symlink' ? path.posix.dirname(entry) : '.';
  const resolved = path.posix.normalize(path.posix.join(base, target));
  if (resolved === '..' || resolved.startsWith('../')) {
    throw new IgError('invalid-image', `archive ${type} "${entry}" points outside the layout ("${target}")`, { hint: 'refusing to import a tar with links leaving the layout' });
  }
  return resolved;
}

export interface ImportedImage {
  reference?: string;
  digest: string;
}

/**
 * Read an OCI layout tar, check everything (paths, links, digests, completeness) in memory,
 * and only then copy blobs into the store and tag the images.
 */
export async function importArchive(store: Store, file: string): Promise<ImportedImage[]> {
  const files = new Map<string, Buffer>();
  const links: [string, string][] = [];
  let total = 0;
  const extract = tar.extract();
  const reading = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const name = safeEntryName(h.name);
      if (h.type === 'symlink' || h.type === 'link') {
        links.push([name, safeLinkTarget(name, h.linkname ?? '', h.type)]);
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        const chunks: Buffer[] = [];
        for await (const c of entry) {
          const b = c as Buffer;
          total += b.length;
          if (total > MAX_IMPORT) throw new IgError('invalid-image', `archive ${file} is larger than 2 GiB`);
          chunks.push(b);
        }
        files.set(name, Buffer.concat(chunks));
        continue;
      } else if (h.type !== 'directory') {
        throw new IgError('invalid-image', `archive entry "${h.name}" has unsupported type ${h.type}`);
      }
      entry.resume();
    }
  })();
  try {
    await Promise.all([pipeline(createReadStream(file), extract), reading]);
  } catch (e) {
    if (e instanceof IgError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new IgError('not-found', `archive ${file} not found`);
    throw new IgError('invalid-image', `${file} is not a readable tar archive: ${(e as Error).message}`);
  }
  for (const [name, target] of links) {
    let t = target;
    for (let i = 0; i < 16 && !files.has(t); i++) {
      const l = links.find(([n]) => n === t);
      if (!l) break;
      t = l[1];
    }
    const data = files.get(t);
    if (!data) throw new IgError('invalid-image', `archive link "${name}" points to "${target}", which is not in the archive`);
    files.set(name, data);
  }
  const idxBuf = files.get('index.json');
  if (!files.has('oci-layout') || !idxBuf) {
    throw new IgError('invalid-image', `${file} is not an OCI layout archive (no oci-layout or index.json)`, { hint: 'create one with `ig image export IMAGE FILE.tar`' });
  }
  let idx: ImageIndex;
  try {
    idx = JSON.parse(idxBuf.toString('utf8')) as ImageIndex;
    if (idx === null || typeof idx !== 'object' || !Array.isArray(idx.manifests)) throw new Error('no manifests array');
  } catch (e) {
    throw new IgError('invalid-image', `index.json in ${file} is invalid: ${(e as Error).message}`);
  }
  // Every blob must match its name.
  const blobs = new Map<string, Buffer>();
  for (const [name, data] of files) {
    const m = /^blobs\/sha256\/([^/]+)$/.exec(name);
    if (!m) continue;
    const d = `sha256:${m[1]}`;
    if (!/^[a-f0-9]{64}$/.test(m[1]!) || sha256(data) !== d) {
      throw new IgError('digest', `blob ${name} in ${file} does not match its digest`, { hint: 'the archive is corrupt or was tampered with; nothing was imported' });
    }
    blobs.set(d, data);
  }
  // Every descriptor reachable from index.json must be present with its size.
  const need = (d: Descriptor, where: string): Buffer => {
    const b = blobs.get(d.digest);
    if (!b) throw new IgError('invalid-image', `${file}: blob ${d.digest} (${where}) is missing from the archive`);
    if (b.length !== d.size) throw new IgError('digest', `${file}: blob ${d.digest} has size ${b.length}, its descriptor says ${d.size}`);
    return b;
  };
  const walk = (d: unknown, where: string, depth = 0): void => {
    checkDescriptor(d, `${file}: the descriptor ${where}`);
    const b = need(d, where);
    if (depth > 4) throw new IgError('invalid-image', `${file}: indexes nested too deep`);
    if (INDEX_TYPES.includes(d.mediaType) || MANIFEST_TYPES.includes(d.mediaType)) {
      let j: ImageIndex & ImageManifest;
      try {
        j = JSON.parse(b.toString('utf8'));
      } catch {
        throw new IgError('invalid-image', `${file}: manifest ${d.digest} is not JSON`);
      }
      if (j === null || typeof j !== 'object') throw new IgError('invalid-image', `${file}: manifest ${d.digest} is not a JSON object`);
      for (const m of Array.isArray(j.manifests) ? j.manifests : []) walk(m, `listed by ${d.digest}`, depth + 1);
      if (j.config) {
        checkDescriptor(j.config, `${file}: the config of ${d.digest}`);
        need(j.config, `config of ${d.digest}`);
      }
      for (const l of Array.isArray(j.layers) ? j.layers : []) {
        checkDescriptor(l, `${file}: a layer of ${d.digest}`);
        need(l, `layer of ${d.digest}`);
      }
    }
  };
  const result: ImportedImage[] = [];
  for (const [i, d] of idx.manifests.entries()) {
    walk(d, `${i + 1} of index.json`);
    const rn = d.annotations?.[ANN.refName];
    result.push({ reference: typeof rn === 'string' && rn ? parseReference(rn).full : undefined, digest: d.digest });
  }
  // All checks passed: now the store.
  for (const [d, data] of blobs) await store.writeBlob(data, d);
  for (let i = 0; i < idx.manifests.length; i++) {
    const d = idx.manifests[i]!;
    const r = result[i]!;
    if (!r.reference) continue;
    const created = d.annotations?.[ANN.created];
    await store.setTag(r.reference, { mediaType: d.mediaType, digest: d.digest, size: d.size }, created ? { [ANN.created]: created } : {});
  }
  return result;
}
