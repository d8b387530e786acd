import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IgError } from '../errors.js';
import { pidAlive, withLock } from './lock.js';
import { ANN, INDEX_TYPES, MANIFEST_TYPES } from './mediatypes.js';
import { canonicalDescriptor, sha256 } from './json.js';
import type { Descriptor, ImageIndex, ImageManifest } from './types.js';

export function defaultStorePath(): string {
  if (process.env.IG_OCI_STORE) return process.env.IG_OCI_STORE;
  if (process.getuid?.() === 0) return '/var/lib/ig/oci-store';
  return path.join(os.homedir(), '.ig', 'oci-store');
}


const LAYOUT = '{"imageLayoutVersion":"1.0.0"}';
const HEX = /^[a-f0-9]{64}$/;

export interface TagEntry {
  /** Full normalized reference (annotation org.opencontainers.image.ref.name). */
  reference: string;
  descriptor: Descriptor;
}

function digestHex(digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new IgError('invalid-image', `unsupported digest "${digest}"`, { hint: 'only sha256 digests are supported' });
  return m[1]!;
}

/**
 * The local OCI image layout. Tags are index.json entries carrying the full normalized reference in
 * org.opencontainers.image.ref.name (plus the image's created date, so `image list` reads no blob).
 * index.json only ever holds tagged entries: untagged content is just unreferenced blobs, removed by gc.
 * index.json is read once per Store (a Map gives O(1) tag lookup) and rewritten atomically under a lock.
 */
export class Store {
  private cache?: { manifests: Descriptor[]; byRef: Map<string, Descriptor> };

  private constructor(readonly root: string) {}

  static async open(root: string = defaultStorePath()): Promise<Store> {
    const abs = path.resolve(root);
    try {
      await fs.mkdir(path.join(abs, 'blobs', 'sha256'), { recursive: true, mode: 0o700 });
      await fs.mkdir(path.join(abs, '.ingest'), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new IgError('store', `cannot create the local store ${abs}: ${(e as Error).message}`, {
        hint: 'choose another place with --oci-store DIR or IG_OCI_STORE',
        cause: e,
      });
    }
    const s = new Store(abs);
    const layoutPath = path.join(abs, 'oci-layout');
    try {
      const text = await fs.readFile(layoutPath, 'utf8');
      const v = JSON.parse(text) as { imageLayoutVersion?: string };
      if (!v.imageLayoutVersion?.startsWith('1.')) throw new Error(`imageLayoutVersion ${v.imageLayoutVersion}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new IgError('store', `${layoutPath} is not an OCI layout marker: ${(e as Error).message}`, {
          hint: 'point --oci-store at an OCI image layout directory or an empty one',
        });
      }
      await s.writeAtomic(layoutPath, LAYOUT);
    }
    return s;
  }

  blobPath(digest: string): string {
    return path.join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  private get indexPath(): string {
    return path.join(this.root, 'index.json');
  }

  private async writeAtomic(file: string, data: string | Buffer): Promise<void> {
    const tmp = path.join(this.root, '.ingest', `${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}`);
    await fs.writeFile(tmp, data, { mode: 0o644 });
    await fs.rename(tmp, file);
  }

  // ---- blobs ---------------------------------------------------------------------------------

  async hasBlob(digest: string, size?: number): Promise<boolean> {
    try {
      const st = await fs.stat(this.blobPath(digest));
      return size === undefined || st.size === size;
    } catch {
      return false;
    }
  }

  /** Read a blob and check it against its digest (and size, when given). */
  async readBlob(digest: string, size?: number): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await fs.readFile(this.blobPath(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new IgError('store', `blob ${digest} is missing from the local store ${this.root}`, {
          hint: 'pull the image again (ig image pull IMAGE) to repair it',
        });
      }
      throw e;
    }
    if ((size !== undefined && data.length !== size) || sha256(data) !== digest) {
      throw new IgError('digest', `blob ${digest} in the local store ${this.root} is corrupt (content does not match its digest)`, {
        hint: 'remove the image and pull it again',
      });
    }
    return data;
  }

  /** Put bytes in; when `expected` is given they must match it. Returns the digest. */
  async writeBlob(data: Buffer, expected?: string): Promise<string> {
    const d = sha256(data);
    if (expected && d !== expected) {
      throw new IgError('digest', `content does not match its digest: expected ${expected}, got ${d}`);
    }
    if (await this.hasBlob(d, data.length)) return d;
    await this.writeAtomic(this.blobPath(d), data);
    return d;
  }

  /**
   * Stream a blob in: written to a temp file while hashing, renamed into blobs/ only when digest and
   * size match. `what` names the blob in errors.
   */
  async ingest(
    chunks: AsyncIterable<Uint8Array>,
    desc: { digest: string; size: number },
    opts: { what?: string; onBytes?: (n: number) => void } = {},
  ): Promise<void> {
    const what = opts.what ?? `blob ${desc.digest}`;
    digestHex(desc.digest);
    const tmp = path.join(this.root, '.ingest', `blob.${process.pid}.${randomBytes(6).toString('hex')}`);
    const out = createWriteStream(tmp, { mode: 0o644 });
    const hash = createHash('sha256');
    let n = 0;
    try {
      const done = new Promise<void>((resolve, reject) => {
        out.on('finish', resolve);
        out.on('error', reject);
      });
      for await (const c of chunks) {
        n += c.length;
        if (n > desc.size) {
          throw new IgError('digest', `${what} is larger than announced (${desc.size} bytes)`, {
            hint: 'the registry served different content than the manifest names; the image may have been tampered with',
          });
        }
        hash.update(c);
        if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
        opts.onBytes?.(c.length);
      }
      out.end();
      await done;
      if (n !== desc.size) {
        throw new IgError('digest', `${what} is truncated: received ${n} of ${desc.size} bytes`, {
          hint: 'the connection or the registry cut the download short; try again',
        });
      }
      const got = 'sha256:' + hash.digest('hex');
      if (got !== desc.digest) {
        throw new IgError('digest', `${what} does not match its digest: expected ${desc.digest}, got ${got}`, {
          hint: 'the registry (or something between it and you) served different content; nothing was stored',
        });
      }
      await fs.rename(tmp, this.blobPath(desc.digest));
    } catch (e) {
      out.destroy();
      await fs.rm(tmp, { force: true });
      throw e;
    }
  }

  // ---- index.json (tags) ---------------------------------------------------------------------

  private async loadIndex(): Promise<Descriptor[]> {
    let text: string;
    try {
      text = await fs.readFile(this.indexPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    try {
      const idx = JSON.parse(text) as ImageIndex;
      if (!Array.isArray(idx.manifests)) throw new Error('no "manifests" array');
      return idx.manifests;
    } catch (e) {
      throw new IgError('store', `${this.indexPath} is not a valid OCI index: ${(e as Error).message}`, {
        hint: 'restore it from a backup or move the store away and pull the images again',
      });
    }
  }

  private async index(): Promise<{ manifests: Descriptor[]; byRef: Map<string, Descriptor> }> {
    if (!this.cache) {
      const manifests = await this.loadIndex();
      const byRef = new Map<string, Descriptor>();
      for (const d of manifests) {
        const r = d.annotations?.[ANN.refName];
        if (r) byRef.set(r, d);
      }
      this.cache = { manifests, byRef };
    }
    return this.cache;
  }

  /** The descriptor a full normalized reference is tagged with, or undefined. One index.json read per Store. */
  async resolveTag(reference: string): Promise<Descriptor | undefined> {
    return (await this.index()).byRef.get(reference);
  }

  async listTags(): Promise<TagEntry[]> {
    const { manifests } = await this.index();
    return manifests
      .filter((d) => d.annotations?.[ANN.refName])
      .map((d) => ({ reference: d.annotations![ANN.refName]!, descriptor: d }));
  }

  /** Untagged entries (no ref.name) also count as roots for gc, so we never drop what another tool put there. */
  async roots(): Promise<Descriptor[]> {
    return (await this.index()).manifests;
  }

  /** Read-modify-write index.json under the store lock; fn edits the entry list in place. */
  async updateIndex<T>(fn: (manifests: Descriptor[]) => T | Promise<T>): Promise<T> {
    return withLock(path.join(this.root, 'index.json.lock'), async () => {
      const manifests = await this.loadIndex();
      const result = await fn(manifests);
      const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: manifests.map(canonicalDescriptor) }, null, 0);
      await this.writeAtomic(this.indexPath, body);
      this.cache = undefined;
      return result;
    });
  }

  /**
   * Point `reference` at `desc` (replacing any previous target). The content must be complete: every
   * blob reachable from desc is checked under the lock, so a concurrent gc cannot leave a dangling tag.
   */
  async setTag(reference: string, desc: Descriptor, extra: Record<string, string> = {}): Promise<void> {
    await this.updateIndex(async (manifests) => {
      const missing = await this.missingBlobs(desc);
      if (missing.length) {
        throw new IgError('store', `cannot tag ${reference}: ${missing.length} blob(s) vanished from the store (${missing[0]})`, {
          hint: 'another ig process garbage-collected them meanwhile; run the command again',
        });
      }
      const entry: Descriptor = {
        mediaType: desc.mediaType,
        digest: desc.digest,
        size: desc.size,
        annotations: { ...extra, [ANN.refName]: reference },
      };
      const i = manifests.findIndex((d) => d.annotations?.[ANN.refName] === reference);
      if (i >= 0) manifests[i] = entry;
      else manifests.push(entry);
    });
  }

  /** Remove a tag; returns its descriptor, or undefined when there was none. */
  async removeTag(reference: string): Promise<Descriptor | undefined> {
    return this.updateIndex((manifests) => {
      const i = manifests.findIndex((d) => d.annotations?.[ANN.refName] === reference);
      if (i < 0) return undefined;
      return manifests.splice(i, 1)[0];
    });
  }

  // ---- graph walking and gc ------------------------------------------------------------------

  /** Every digest reachable from desc (desc itself, child manifests, configs, layers). Reads only manifests. */
  async reachable(desc: Descriptor, into = new Set<string>(), lenient = false): Promise<Set<string>> {
    if (into.has(desc.digest)) return into;
    into.add(desc.digest);
    if (INDEX_TYPES.includes(desc.mediaType) || MANIFEST_TYPES.includes(desc.mediaType)) {
      let doc: ImageIndex & ImageManifest;
      try {
        doc = JSON.parse((await this.readBlob(desc.digest, desc.size)).toString('utf8'));
      } catch (e) {
        if (lenient) return into;
        throw e;
      }
      for (const m of doc.manifests ?? []) await this.reachable(m, into, lenient);
      if (doc.config) into.add(doc.config.digest);
      for (const l of doc.layers ?? []) into.add(l.digest);
    }
    return into;
  }

  async missingBlobs(desc: Descriptor): Promise<string[]> {
    const all = await this.reachable(desc, new Set(), true);
    const missing: string[] = [];
    for (const d of all) if (!(await this.hasBlob(d))) missing.push(d);
    return missing;
  }

  /**
   * Delete every blob not reachable from index.json, and stale temp files. Runs under the lock.
   * Blobs newer than `graceMs` are kept: a concurrent pull may be about to tag them.
   */
  async gc(graceMs = 0): Promise<{ removed: number; bytes: number }> {
    return withLock(path.join(this.root, 'index.json.lock'), async () => {
      this.cache = undefined;
      const keep = new Set<string>();
      for (const d of await this.loadIndex()) await this.reachable(d, keep, true);
      let removed = 0;
      let bytes = 0;
      const dir = path.join(this.root, 'blobs', 'sha256');
      const now = Date.now();
      for (const name of await fs.readdir(dir)) {
        if (!HEX.test(name) || keep.has(`sha256:${name}`)) continue;
        const p = path.join(dir, name);
        const st = await fs.stat(p).catch(() => undefined);
        if (!st || now - st.mtimeMs < graceMs) continue;
        await fs.rm(p, { force: true });
        removed++;
        bytes += st.size;
      }
      // Temp files of processes that are gone.
      const ingest = path.join(this.root, '.ingest');
      for (const name of await fs.readdir(ingest).catch(() => [] as string[])) {
        const pid = Number.parseInt(name.split('.').at(-2) ?? '', 10);
        if (!(pid > 0 && pidAlive(pid))) await fs.rm(path.join(ingest, name), { force: true });
      }
      return { removed, bytes };
    });
  }
}
