import { IgError } from '../errors.js';
import { ANN, MT } from './mediatypes.js';
import { copyBuiltin } from './builtin.js';
import { parseReference } from './reference.js';
import { RegistryClient } from './registry.js';
import { Store } from './store.js';
import { pullImage } from './transfer.js';
import type { Descriptor, ImageIndex, ImageManifest } from './types.js';
import { checkGadgetManifest, kindOf, parseJson, pickPlatform } from './validate.js';

export type PullPolicy = 'always' | 'missing' | 'never';

export interface OciOptions {
  store?: string;
  authfile?: string;
  insecureRegistries?: string[];
  progress?: boolean;
}

export interface GadgetImage {
  reference: string;
  indexDigest: string;
  manifestDigest: string;
  manifest: unknown;
  annotations: Record<string, string>;
  metadata: Buffer | null;
  ebpf: Buffer;
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

/** Find a reference in the store: by tag (index.json), or by digest (the blob itself). */
export async function resolveLocal(store: Store, refStr: string): Promise<Descriptor | undefined> {
  const ref = parseReference(refStr);
  const tagged = await store.resolveTag(ref.full);
  if (tagged) return tagged;
  if (ref.digest && (await store.hasBlob(ref.digest))) {
    const body = await store.readBlob(ref.digest);
    const j = parseJson<{ mediaType?: string; manifests?: unknown }>(body, `image ${ref.full}`);
    return { mediaType: j.mediaType ?? (j.manifests ? MT.index : MT.manifest), digest: ref.digest, size: body.length };
  }
  return undefined;
}

export async function readResolved(store: Store, reference: string, desc: Descriptor): Promise<ResolvedImage> {
  const what = `image ${reference}`;
  const top = await store.readBlob(desc.digest, desc.size);
  if (kindOf(desc.mediaType, what) === 'index') {
    const index = parseJson<ImageIndex>(top, what);
    const md = pickPlatform(index, what);
    const manifest = parseJson<ImageManifest>(await store.readBlob(md.digest, md.size), `manifest ${md.digest}`);
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
  return new RegistryClient({ authfile: opts.authfile, insecureRegistries: opts.insecureRegistries });
}

/**
 * What `ig run` needs: the gadget's bytes. Reads index.json once, then the index, the host's manifest,
 * the config and the layers; pulls first according to the policy.
 */
export async function getGadgetImage(refStr: string, pull: PullPolicy, opts: OciOptions = {}): Promise<GadgetImage> {
  const ref = parseReference(refStr);
  const store = await Store.open(opts.store);
  let desc: Descriptor | undefined;
  if (pull === 'always') {
    desc = (await pullImage(store, registryFor(opts), ref.full, { progress: opts.progress })).descriptor;
  } else {
    desc = (await resolveLocal(store, ref.full)) ?? (await copyBuiltin(store, ref.full));
    if (!desc) {
      if (pull === 'never') throw notFoundLocally(ref.full);
      desc = (await pullImage(store, registryFor(opts), ref.full, { progress: opts.progress })).descriptor;
    }
  }
  const r = await readResolved(store, ref.full, desc);
  const what = `image ${ref.full}`;
  checkGadgetManifest(r.manifest, what);
  const m = r.manifest;
  const metadata = m.config.mediaType === MT.config ? await store.readBlob(m.config.digest, m.config.size) : null;
  const layer = async (mt: string) => {
    const d = m.layers.find((l) => l.mediaType === mt);
    return d ? store.readBlob(d.digest, d.size) : undefined;
  };
  const ebpf = await layer(MT.ebpf);
  if (!ebpf) {
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

export { ANN };
