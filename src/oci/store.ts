import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IgError } from '../errors.js';
import { checkStop } from './interrupt.js';
import { currentOwner, ownerGone, parseOwner, withLock } from './lock.js';
import { MAX_LAYER_BYTES, MAX_MANIFEST_BYTES, MAX_STORE_INDEX_BYTES, mib } from './limits.js';
import { ANN, INDEX_TYPES, MANIFEST_TYPES } from './mediatypes.js';
import { canonicalDescriptor, sha256 } from './json.js';
import { diskError, ensureDir, hashFile, readStoreFile, writeAll, writeFileDurably } from './store-io.js';
import type { Descriptor, ImageIndex, ImageManifest } from './types.js';
import { checkDescriptor } from './validate.js';

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

/** Temp files (of blobs, index.json, the lock) and pins live in .ingest/, named `<what>.<pid>.<random>`. */
const INGEST = '.ingest';
/** An index of indexes of … : gadget images have one level; allow a few. */
const MAX_NESTING = 4;

/**
 * The local OCI image layout. Tags are index.json entries carrying the full normalized reference in
 * org.opencontainers.image.ref.name (plus the image's created date, so `image list` reads no blob).
 * index.json only ever holds tagged entries: untagged content is just unreferenced blobs, removed by gc.
 * index.json is read once per Store (a Map gives O(1) tag lookup) and rewritten atomically under a lock.
 *
 * Every file is written to a temp name, fsync'ed and renamed; a blob enters only once its digest
 * matches, and one found corrupt is replaced by the next write of the same digest. A Store pins
 * the blobs it writes (or is about to) until they are tagged, so a concurrent `image prune`
 * keeps them (see pin()).
 */
export class Store {
  private cache?: { manifests: Descriptor[]; byRef: Map<string, Descriptor> };
  private pinFile?: string;
  private readonly pinned = new Set<string>();

  private constructor(readonly root: string, private readonly signal?: AbortSignal) {}

  /** Open (and create, if needed) the store at `root`; `signal` ends its lock waits (Ctrl-C). */
  static async open(root: string = defaultStorePath(), opts: { signal?: AbortSignal } = {}): Promise<Store> {
    const abs = path.resolve(root);
    if (abs === '/proc' || abs.startsWith('/proc/') || abs === '/sys' || abs.startsWith('/sys/')) {
      throw new IgError('store', `cannot put the local store in ${abs}: it is a kernel file system`, {
        hint: 'choose another place with --oci-store DIR or IG_OCI_STORE',
      });
    }
    try {
      // An existing store (nearly every run) is two stats: a mkdir that fails with EEXIST costs an
      // exception and a thread-pool round trip, ~1-4 ms of ig run's start-up.
      const dirs = [path.join(abs, 'blobs', 'sha256'), path.join(abs, INGEST)];
      if (!dirs.every((d) => statSync(d, { throwIfNoEntry: false })?.isDirectory())) for (const d of dirs) await ensureDir(d);
    } catch (e) {
      throw new IgError('store', `cannot create the local store ${abs}: ${(e as Error).message}`, {
        hint: 'choose another place with --oci-store DIR or IG_OCI_STORE',
        cause: e,
      });
    }
    const s = new Store(abs, opts.signal);
    const layoutPath = path.join(abs, 'oci-layout');
    try {
      const text = readFileSync(layoutPath, 'utf8'); // 30 bytes: no thread pool round trip (store-io.ts readStoreFile)
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

  private tempPath(what: string): string {
    return path.join(this.root, INGEST, `${what}.${process.pid}.${randomBytes(6).toString('hex')}`);
  }

  private async writeAtomic(file: string, data: string | Buffer, opts: { sync?: boolean; syncDir?: boolean } = {}): Promise<void> {
    try {
      await writeFileDurably(this.tempPath(path.basename(file)), file, data, opts);
    } catch (e) {
      throw diskError(e, path.basename(file), this.root);
    }
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

  /** Whether the blob is present and its content matches its digest (and size): hashed, not trusted. */
  async hasGoodBlob(digest: string, size?: number): Promise<boolean> {
    if (!(await this.hasBlob(digest, size))) return false;
    return (await hashFile(this.blobPath(digest)).catch(() => '')) === digest;
  }

  /**
   * Read a blob and check it against its digest (and size, when given). The file's size is
   * checked before it is read, so a damaged or planted huge file is never loaded whole.
   */
  async readBlob(digest: string, size?: number, max = MAX_LAYER_BYTES): Promise<Buffer> {
    const file = this.blobPath(digest);
    const corrupt = (why: string) =>
      new IgError('digest', `blob ${digest} in the local store ${this.root} is corrupt (${why})`, {
        hint: 'pull the image again (`ig image pull IMAGE`, or `ig run --pull always`) to repair it, or rebuild it',
      });
    let data: Buffer;
    try {
      data = await readStoreFile(file, (st) => {
        if (size !== undefined && st !== size) throw corrupt(`${st} bytes, its descriptor says ${size}`);
        if (st > max) throw corrupt(`${st} bytes, more than the ${mib(max)} a blob may have`);
      });
    } catch (e) {
      if (e instanceof IgError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new IgError('store', `blob ${digest} is missing from the local store ${this.root}`, {
          hint: 'pull the image again (ig image pull IMAGE) to repair it',
        });
      }
      throw new IgError('store', `cannot read blob ${digest} in the local store ${this.root}: ${(e as Error).message}`, { cause: e });
    }
    if ((size !== undefined && data.length !== size) || sha256(data) !== digest) throw corrupt('content does not match its digest');
    return data;
  }

  /**
   * Put bytes in; when `expected` is given they must match it. Returns the digest. A blob already
   * there is kept only if its content is right; a corrupt one is replaced.
   */
  async writeBlob(data: Buffer, expected?: string): Promise<string> {
    const d = sha256(data);
    if (expected && d !== expected) {
      throw new IgError('digest', `content does not match its digest: expected ${expected}, got ${d}`);
    }
    await this.pin([d]);
    if (await this.hasGoodBlob(d, data.length)) return d;
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
    opts: { what?: string; onBytes?: (n: number) => void; signal?: AbortSignal } = {},
  ): Promise<void> {
    const what = opts.what ?? `blob ${desc.digest}`;
    digestHex(desc.digest);
    const ownPin = !this.pinned.has(desc.digest);
    await this.pin([desc.digest]);
    const tmp = this.tempPath('blob');
    const hash = createHash('sha256');
    let n = 0;
    let fh: fs.FileHandle | undefined;
    try {
      try {
        fh = await fs.open(tmp, 'wx', 0o644);
      } catch (e) {
        throw diskError(e, what, this.root);
      }
      for await (const c of chunks) {
        checkStop(opts.signal, `downloading ${what}`);
        n += c.length;
        if (n > desc.size) {
          throw new IgError('digest', `${what} is larger than announced (${desc.size} bytes)`, {
            hint: 'the registry served different content than the manifest names; the image may have been tampered with',
          });
        }
        hash.update(c);
        try {
          await writeAll(fh, c);
        } catch (e) {
          throw diskError(e, what, this.root);
        }
        opts.onBytes?.(c.length);
      }
      checkStop(opts.signal, `downloading ${what}`);
      try {
        await fh.sync();
        await fh.close();
      } catch (e) {
        throw diskError(e, what, this.root);
      } finally {
        fh = undefined;
      }
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
      await fs.rename(tmp, this.blobPath(desc.digest)).catch((e) => {
        throw diskError(e, what, this.root);
      });
    } catch (e) {
      await fh?.close().catch(() => {});
      await fs.rm(tmp, { force: true }).catch(() => {});
      if (ownPin) await this.unpin([desc.digest]).catch(() => {});
      throw e;
    }
  }

  // ---- index.json (tags) ---------------------------------------------------------------------

  private async loadIndex(): Promise<Descriptor[]> {
    let text: string;
    const invalid = (why: string, cause?: unknown) =>
      new IgError('store', `${this.indexPath} is not a valid OCI index: ${why}`, {
        hint: 'restore it from a backup or move the store away and pull the images again',
        cause,
      });
    try {
      const bytes = await readStoreFile(this.indexPath, (size) => {
        if (size > MAX_STORE_INDEX_BYTES) throw invalid(`${size} bytes, more than ${mib(MAX_STORE_INDEX_BYTES)}`);
      });
      text = bytes.toString('utf8');
    } catch (e) {
      if (e instanceof IgError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new IgError('store', `cannot read ${this.indexPath}: ${(e as Error).message}`, { cause: e });
    }
    let idx: ImageIndex;
    try {
      idx = JSON.parse(text) as ImageIndex;
    } catch (e) {
      throw invalid((e as Error).message, e);
    }
    if (idx === null || typeof idx !== 'object' || !Array.isArray(idx.manifests)) throw invalid('no "manifests" array');
    idx.manifests.forEach((d, i) => {
      try {
        checkDescriptor(d, `entry ${i + 1}`);
      } catch (e) {
        throw invalid((e as Error).message, e);
      }
    });
    return idx.manifests;
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
      .filter((d) => typeof d.annotations?.[ANN.refName] === 'string' && d.annotations[ANN.refName])
      .map((d) => ({ reference: d.annotations![ANN.refName]!, descriptor: d }));
  }

  /** Untagged entries (no ref.name) also count as roots for gc, so we never drop what another tool put there. */
  async roots(): Promise<Descriptor[]> {
    return (await this.index()).manifests;
  }

  /** Read-modify-write index.json under the store lock; fn edits the entry list in place. */
  async updateIndex<T>(fn: (manifests: Descriptor[]) => T | Promise<T>): Promise<T> {
    return this.locked(async () => {
      const manifests = await this.loadIndex();
      const result = await fn(manifests);
      const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: manifests.map(canonicalDescriptor) }, null, 0);
      await this.writeAtomic(this.indexPath, body, { syncDir: true });
      this.cache = undefined;
      return result;
    });
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(path.join(this.root, 'index.json.lock'), fn, { signal: this.signal, tempDir: path.join(this.root, INGEST) });
  }

  // ---- pins: blobs a running pull or build needs, which gc must keep -------------------------

  /**
   * Keep these blobs from gc until they are tagged (setTag) or unpinned. The pin file is updated
   * under the store lock before the blob is written, so a gc either runs before the blob exists or
   * sees the pin. A pin of a process that has exited counts for nothing and is removed by gc.
   */
  async pin(digests: string[]): Promise<void> {
    const fresh = digests.filter((d) => !this.pinned.has(d));
    if (fresh.length === 0) return;
    for (const d of fresh) this.pinned.add(d);
    await this.locked(() => this.writePins());
  }

  /** Release pins (after a failed pull; a tag releases what it reaches by itself). */
  async unpin(digests: Iterable<string>): Promise<void> {
    let changed = false;
    for (const d of digests) changed = this.pinned.delete(d) || changed;
    if (changed) await this.writePins();
  }

  private async writePins(): Promise<void> {
    if (this.pinned.size === 0) {
      if (this.pinFile) await fs.rm(this.pinFile, { force: true });
      return;
    }
    this.pinFile ??= this.tempPath('pin');
    // A pin means nothing after a crash (its process is gone): no fsync.
    await this.writeAtomic(this.pinFile, JSON.stringify({ owner: currentOwner(), digests: [...this.pinned] }), { sync: false });
  }

  /**
   * Digests pinned by live processes (other Stores of this process too, not this one: whoever
   * asks this Store for a gc knows what it wrote); pin files of exited ones are removed. Called under the lock.
   */
  private async livePins(): Promise<Set<string>> {
    const keep = new Set<string>();
    const dir = path.join(this.root, INGEST);
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      const file = path.join(dir, name);
      if (!name.startsWith('pin.') || file === this.pinFile) continue;
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      let pins: { owner?: unknown; digests?: unknown } = {};
      try {
        pins = JSON.parse(text);
      } catch {
        /* unreadable: judged by its name's pid below */
      }
      const owner = parseOwner(JSON.stringify(pins.owner ?? '')) ?? parseOwner(name.split('.').at(-2) ?? '');
      if (!owner || ownerGone(owner)) {
        await fs.rm(file, { force: true });
        continue;
      }
      if (Array.isArray(pins.digests)) for (const d of pins.digests) if (typeof d === 'string') keep.add(d);
    }
    return keep;
  }

  /**
   * Point `reference` at `desc` (replacing any previous target). The content must be complete: every
   * blob reachable from desc is checked under the lock, so a concurrent gc cannot leave a dangling tag.
   */
  async setTag(reference: string, desc: Descriptor, extra: Record<string, string> = {}): Promise<void> {
    const reached = await this.updateIndex(async (manifests) => {
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
      return this.reachable(desc, new Set(), true);
    });
    await this.unpin(reached); // tagged: the index keeps them now
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
  async reachable(desc: Descriptor, into = new Set<string>(), lenient = false, depth = 0): Promise<Set<string>> {
    if (into.has(desc.digest)) return into;
    into.add(desc.digest);
    if (INDEX_TYPES.includes(desc.mediaType) || MANIFEST_TYPES.includes(desc.mediaType)) {
      const what = `manifest ${desc.digest} in the local store`;
      let doc: ImageIndex & ImageManifest;
      let children: Descriptor[];
      try {
        if (depth > MAX_NESTING) throw new IgError('invalid-image', `${what} nests indexes more than ${MAX_NESTING} deep`);
        doc = JSON.parse((await this.readBlob(desc.digest, desc.size, MAX_MANIFEST_BYTES)).toString('utf8'));
        if (doc === null || typeof doc !== 'object') throw new IgError('invalid-image', `${what} is not a JSON object`);
        children = [...(Array.isArray(doc.manifests) ? doc.manifests : []), ...(doc.config ? [doc.config] : []), ...(Array.isArray(doc.layers) ? doc.layers : [])];
        children.forEach((d, i) => checkDescriptor(d, `entry ${i + 1} of ${what}`));
      } catch (e) {
        if (lenient) return into;
        throw e instanceof IgError ? e : new IgError('invalid-image', `${what} is not valid JSON: ${(e as Error).message}`);
      }
      for (const m of Array.isArray(doc.manifests) ? doc.manifests : []) await this.reachable(m, into, lenient, depth + 1);
      if (doc.config) into.add(doc.config.digest);
      for (const l of Array.isArray(doc.layers) ? doc.layers : []) into.add(l.digest);
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
  async gc(graceMs = 0): Promise<{ removed: number; bytes: number; partial: number }> {
    return this.locked(async () => {
      this.cache = undefined;
      const keep = await this.livePins();
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
      const partial = await this.removeAbandoned();
      return { removed, bytes: bytes + partial.bytes, partial: partial.files };
    });
  }

  /**
   * Remove temp files (partial downloads, half-written index copies) of processes that have
   * exited, e.g. a pull killed with SIGKILL. Pulls call this first; gc too. Returns what it freed.
   */
  async removeAbandoned(): Promise<{ files: number; bytes: number }> {
    const dir = path.join(this.root, INGEST);
    let files = 0;
    let bytes = 0;
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      if (name.startsWith('pin.')) continue; // judged by livePins()
      const owner = parseOwner(name.split('.').at(-2) ?? '');
      if (owner && !ownerGone(owner)) continue;
      const file = path.join(dir, name);
      const st = await fs.stat(file).catch(() => undefined);
      await fs.rm(file, { force: true, recursive: true });
      files++;
      bytes += st?.size ?? 0;
    }
    return { files, bytes };
  }
}
