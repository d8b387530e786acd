import { IgError } from '../errors.js';
import { INDEX_TYPES, MT } from './mediatypes.js';
import { copyBuiltin } from './builtin.js';
import { parseReference } from './reference.js';
import { RegistryClient } from './registry.js';
import { Store } from './store.js';
import { pullImage } from './transfer.js';
import type { Descriptor, ImageIndex, ImageManifest } from './types.js';
import { checkGadgetManifest, checkIndex, kindOf, parseJson, pickPlatform } from './validate.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES } from './limits.js';

export type PullPolicy = 'always' | 'missing' | 'never';

export interface OciOptions {
  store?: string;
  authfile?: string;
  insecureRegistries?: string[];
  progress?: boolean;
  /** Ends pulls, lock waits and registry requests (Ctrl-C, SIGTERM, a session's end). */
  signal?: AbortSignal;
}

export interface GadgetImage {
  reference: string;
  indexDigest: string;
  manifestDigest: string;
  manifest: unknown;
  annotations: Record<string, string>;
  metadata: Buffer | null;
  /** null: an operator-only image (gadget.yaml alone, its datasources made by operators, as IG's top_process) */
  ebpf: Buffer | null;
  wasm?: Buffer;
  /** the wasm layer's digest (the compiled-module cache's key) */
  wasmDigest?: string;
  btfgen?: Buffer;
}

/** Resolved content of a local image: the top descriptor, the top document and the host's manifest. */
export interface ResolvedImage {
  reference: string;
  descriptor: Descriptor;
  index?: ImageIndex;
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
}

/**
 * Find a reference in the store: by tag (index.json), or `name@sha256:…` by digest. A digest
 * resolves only to content of that repository (a tag of the same name points at it, or at an
 * index listing it): the store holds blobs of every repository, and `trace_open@<digest of
 * another gadget>` must not lend that gadget trace_open's name.
 */
export async function resolveLocal(store: Store, refStr: string): Promise<Descriptor | undefined> {
  const ref = parseReference(refStr);
  const tagged = await store.resolveTag(ref.full);
  if (tagged) return tagged;
  if (!ref.digest) return undefined;
  for (const t of await store.listTags()) {
    let name: string;
    try {
      name = parseReference(t.reference).name;
    } catch {
      continue;
    }
    if (name !== ref.name) continue;
    const d = t.descriptor;
    if (d.digest === ref.digest) return { mediaType: d.mediaType, digest: d.digest, size: d.size };
    if (!INDEX_TYPES.includes(d.mediaType)) continue;
    const index = await store.readBlob(d.digest, d.size, MAX_MANIFEST_BYTES).then((b) => parseJson<ImageIndex>(b, `image ${t.reference}`)).catch(() => undefined);
    const child = Array.isArray(index?.manifests) ? index.manifests.find((m) => m?.digest === ref.digest) : undefined;
    if (child) return { mediaType: child.mediaType, digest: child.digest, size: child.size };
  }
  return undefined;
}

export async function readResolved(store: Store, reference: string, desc: Descriptor): Promise<ResolvedImage> {
  const what = `image ${reference}`;
  const top = await store.readBlob(desc.digest, desc.size, MAX_MANIFEST_BYTES);
  if (kindOf(desc.mediaType, what) === 'index') {
    const index = parseJson<ImageIndex>(top, what);
    checkIndex(index, what);
    const md = pickPlatform(index, what);
    const manifest = parseJson<ImageManifest>(await store.readBlob(md.digest, md.size, MAX_MANIFEST_BYTES), `manifest ${md.digest}`);
    return { reference, descriptor: desc, index, manifestDescriptor: md, manifest };
  }
  // A plain manifest (no index) is accepted too; IG refuses it.
  return { reference, descriptor: desc, manifestDescriptor: desc, manifest: parseJson<ImageManifest>(top, what) };
}

export function notFoundLocally(ref: string): IgError {
  return new IgError('not-found', `image ${ref} not found in the local store`, {
    hint: `pull it with \`ig image pull ${ref}\` or build it with \`ig image build\``,
  });
}

export function registryFor(opts: OciOptions): RegistryClient {
  return new RegistryClient({ authfile: opts.authfile, insecureRegistries: opts.insecureRegistries, signal: opts.signal });
}

/**
 * What `ig run` needs: the gadget's bytes. Reads index.json once, then the index, the host's manifest,
 * the config and the layers; pulls first according to the policy.
 */
export async function getGadgetImage(refStr: string, pull: PullPolicy, opts: OciOptions = {}): Promise<GadgetImage> {
  const ref = parseReference(refStr);
  const store = await Store.open(opts.store, { signal: opts.signal });
  const desc = await resolveImage(store, ref.full, pull, opts);
  return readGadgetImage(store, ref.full, desc);
}

/** The descriptor a reference stands for now, pulling first according to the policy. Resolve once, then use the digest. */
export async function resolveImage(store: Store, reference: string, pull: PullPolicy, opts: OciOptions = {}): Promise<Descriptor> {
  if (pull === 'always') return (await pullImage(store, registryFor(opts), reference, { progress: opts.progress })).descriptor;
  // a built-in gadget missing from the store comes from the single executable (src/oci/builtin.ts)
  const desc = (await resolveLocal(store, reference)) ?? (await copyBuiltin(store, reference));
  if (desc) return desc;
  if (pull === 'never') throw notFoundLocally(reference);
  return (await pullImage(store, registryFor(opts), reference, { progress: opts.progress })).descriptor;
}

/**
 * A gadget's bytes, read from exactly the content `desc` names (every blob checked against its
 * digest): whatever a tag points at meanwhile does not matter.
 */
export async function readGadgetImage(store: Store, reference: string, desc: Descriptor): Promise<GadgetImage> {
  const ref = parseReference(reference);
  const r = await readResolved(store, ref.full, desc);
  const what = `image ${ref.full}`;
  checkGadgetManifest(r.manifest, what);
  const m = r.manifest;
  const metadata = m.config.mediaType === MT.config ? await store.readBlob(m.config.digest, m.config.size, MAX_CONFIG_BYTES) : null;
  const layer = async (mt: string) => {
    const d = m.layers.find((l) => l.mediaType === mt);
    return d ? store.readBlob(d.digest, d.size) : undefined;
  };
  const ebpf = (await layer(MT.ebpf)) ?? null;
  // no layer at all and a gadget.yaml: an operator-only image (IG's top_process, bpfstats)
  if (!ebpf && (!metadata || m.layers.length > 0)) {
    throw new IgError('invalid-image', `${what} has no eBPF program layer (${MT.ebpf})`, { hint: 'rebuild the gadget with `ig image build`' });
  }
  const img: GadgetImage = {
    reference: ref.full,
    indexDigest: r.descriptor.digest,
    manifestDigest: r.manifestDescriptor.digest,
    manifest: m,
    annotations: { ...(r.index?.annotations ?? {}), ...(m.annotations ?? {}) },
    metadata,
    ebpf,
  };
  const wasm = await layer(MT.wasm);
  if (wasm) {
    img.wasm = wasm;
    img.wasmDigest = m.layers.find((l) => l.mediaType === MT.wasm)!.digest;
  }
  const btfgen = await layer(MT.btfgen);
  if (btfgen) img.btfgen = btfgen;
  return img;
}

