import { IgError } from '../errors.js';
import { ANN } from './mediatypes.js';
import { Progress } from './progress.js';
import { isSignatureReference, pullSignatureIfAny, pushSignature } from './signing.js';
import { parseReference, shortName, type Reference } from './reference.js';
import type { RegistryClient } from './registry.js';
import type { Store } from './store.js';
import type { Descriptor, ImageIndex, ImageManifest } from './types.js';
import { checkGadgetManifest, checkIndex, kindOf, parseJson } from './validate.js';
import { checkStop, sleep } from './interrupt.js';
import { checkDescriptorSize } from './limits.js';

export interface PullResult {
  reference: string;
  descriptor: Descriptor;
}

/** Extra annotations kept on the index.json entry so `image list` needs no blob read. */
export function entryAnnotations(doc: { annotations?: Record<string, string> }): Record<string, string> {
  const created = doc.annotations?.[ANN.created];
  return created ? { [ANN.created]: created } : {};
}

/**
 * Fetch a blob into the store unless a good copy is there: an existing file is hashed, and one
 * corrupted in place is fetched again and replaced (even when other tags share it).
 */
async function downloadBlob(store: Store, client: RegistryClient, ref: Reference, d: Descriptor, progress: Progress, attempts = 3): Promise<void> {
  checkDescriptorSize(d, `blob ${d.digest} of ${ref.full}`);
  if (await store.hasGoodBlob(d.digest, d.size)) return;
  const short = d.digest.slice(7, 19);
  const what = `blob ${d.digest} of ${ref.name}`;
  for (let attempt = 1; ; attempt++) {
    const res = await client.getBlob(ref, d);
    if (!res.body) throw new IgError('registry', `registry ${ref.domain} sent no body for blob ${d.digest}`);
    const tick = attempt === 1 ? progress.bar(short, d.size) : () => {};
    try {
      await store.ingest(res.body as unknown as AsyncIterable<Uint8Array>, d, { what, onBytes: tick, signal: client.signal });
      return;
    } catch (e) {
      checkStop(client.signal, `downloading ${what}`);
      if (e instanceof IgError) throw e; // digest mismatch, truncation, a full disk, a stalled registry: not retried
      if (attempt >= attempts) {
        throw new IgError('registry', `connection to registry ${ref.domain} lost while downloading blob ${d.digest}: ${(e as Error).message}`, {
          hint: 'check the registry and try again; nothing half-written was stored',
          cause: e,
        });
      }
      await sleep(200 * attempt, client.signal, `downloading ${what}`);
    }
  }
}

/**
 * Pull an image (index and every per-arch manifest, or a plain manifest) into the store and tag it.
 * Everything is verified against its digest and checked to be a gadget image before the tag is written.
 * What the pull needs is pinned first, so a concurrent `image prune` leaves it alone; partial
 * downloads of pulls that were killed are removed first.
 */
export async function pullImage(store: Store, client: RegistryClient, refStr: string, opts: { progress?: boolean } = {}): Promise<PullResult> {
  const ref = parseReference(refStr);
  const progress = new Progress(opts.progress ?? false);
  const pinned: string[] = [];
  try {
    await store.removeAbandoned();
    const top = await client.getManifest(ref, ref.digest ?? ref.tag!);
    const what = `image ${ref.full}`;
    const kind = kindOf(top.mediaType, what);
    const manifests: { desc: Descriptor; body: Buffer; m: ImageManifest }[] = [];
    if (kind === 'index') {
      const idx = parseJson<ImageIndex>(top.body, what);
      checkIndex(idx, what);
      for (const d of idx.manifests) {
        const got = await client.getManifest(ref, d.digest);
        if (got.body.length !== d.size) throw new IgError('digest', `manifest ${d.digest} of ${ref.full} has size ${got.body.length}, index says ${d.size}`);
        if (kindOf(got.mediaType, `manifest ${d.digest}`) !== 'manifest') throw new IgError('invalid-image', `${what} nests an index inside its index`);
        const m = parseJson<ImageManifest>(got.body, `manifest ${d.digest}`);
        checkGadgetManifest(m, `manifest ${d.digest} (${d.platform?.architecture ?? 'unknown arch'}) of ${ref.full}`);
        manifests.push({ desc: d, body: got.body, m });
      }
    } else {
      const m = parseJson<ImageManifest>(top.body, what);
      checkGadgetManifest(m, what);
      manifests.push({ desc: { mediaType: top.mediaType, digest: top.digest, size: top.body.length }, body: top.body, m });
    }
    pinned.push(top.digest, ...manifests.flatMap(({ desc, m }) => [desc.digest, m.config.digest, ...m.layers.map((l) => l.digest)]));
    await store.pin(pinned);
    // Blobs first, then manifests, then the index: a manifest is only present with its content.
    for (const { m } of manifests) {
      for (const d of [m.config, ...m.layers]) await downloadBlob(store, client, ref, d, progress);
    }
    for (const { desc, body } of manifests) await store.writeBlob(body, desc.digest);
    await store.writeBlob(top.body, top.digest);
    const descriptor: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.body.length };
    const doc = parseJson<{ annotations?: Record<string, string> }>(top.body, what);
    await store.setTag(ref.full, descriptor, entryAnnotations(doc));
    await pullSignatureIfAny(store, client, ref.full, descriptor.digest);
    return { reference: ref.full, descriptor };
  } finally {
    progress.stop();
    await store.unpin(pinned).catch(() => {});
  }
}

/** Push a locally tagged image (blobs the registry has are skipped), then its manifests, then the index under its tag. */
/**
 * The local image a push of `refStr` sends: the image tagged so, or else — as `skopeo copy`
 * takes any source to any destination — the one local image whose name ends in the same
 * repository name and tag (`localhost:5000/trace_open` → the built-in `trace_open`), so a
 * short local name is pushed to a registry without an `ig image tag` first.
 */
async function pushSource(store: Store, refStr: string): Promise<{ ref: Reference; desc: Descriptor }> {
  const ref = parseReference(refStr);
  const desc = await store.resolveTag(ref.full);
  if (desc) return { ref, desc };
  const base = ref.name.split('/').pop()!;
  const tag = ref.tag ?? 'latest';
  const same = (await store.listTags()).filter((t) => {
    try {
      const r = parseReference(t.reference);
      return r.name.split('/').pop() === base && (r.tag ?? 'latest') === tag && !isSignatureReference(t.reference);
    } catch {
      return false;
    }
  });
  if (same.length === 1) return { ref: parseReference(same[0]!.reference), desc: same[0]!.descriptor };
  throw new IgError('not-found', `image ${ref.full} not found in the local store${same.length > 1 ? `, and ${same.length} local images are named ${base}:${tag}` : ''}`, {
    hint: same.length > 1
      ? `say which one: ig image push ${same.map((t) => shortName(parseReference(t.reference).name)).join(' | ')} ${refStr}`
      : `build it with \`ig image build\`, or push a local image there with \`ig image push SRC ${refStr}\``,
  });
}

export async function pushImage(store: Store, client: RegistryClient, refStr: string, opts: { progress?: boolean; destination?: string } = {}): Promise<PullResult & { source: string }> {
  const { ref, desc } = await pushSource(store, refStr);
  const dest = opts.destination ? parseReference(opts.destination) : parseReference(refStr);
  const progress = new Progress(opts.progress ?? false);
  try {
    const topBody = await store.readBlob(desc.digest, desc.size);
    const what = `image ${ref.full}`;
    const kind = kindOf(desc.mediaType, what);
    const children: Descriptor[] = kind === 'index' ? parseJson<ImageIndex>(topBody, what).manifests : [];
    const pushManifestWithBlobs = async (d: Descriptor, body: Buffer, tag: string) => {
      const m = parseJson<ImageManifest>(body, `manifest ${d.digest}`);
      for (const b of [m.config, ...m.layers]) {
        const data = await store.readBlob(b.digest, b.size);
        await client.pushBlob(dest, b, data, progress.bar(b.digest.slice(7, 19), b.size));
      }
      await client.pushManifest(dest, tag, d.mediaType, body);
    };
    if (kind === 'index') {
      for (const c of children) await pushManifestWithBlobs(c, await store.readBlob(c.digest, c.size), c.digest);
      await client.pushManifest(dest, dest.digest ?? dest.tag!, desc.mediaType, topBody);
    } else {
      await pushManifestWithBlobs(desc, topBody, dest.digest ?? dest.tag!);
    }
    await pushSignature(store, client, ref, dest, desc.digest);
    return { reference: dest.full, descriptor: desc, source: ref.full };
  } finally {
    progress.stop();
  }
}
