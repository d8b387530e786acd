import { IgError } from '../errors.js';
import { checkDescriptorSize } from './limits.js';
import { CONFIG_TYPES, INDEX_TYPES, LAYER_TYPES, MANIFEST_TYPES, MT } from './mediatypes.js';
import type { Descriptor, ImageIndex, ImageManifest } from './types.js';

export function parseJson<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (e) {
    throw new IgError('invalid-image', `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * A descriptor as JSON gave it: an object with a media type, a sha256 digest and a size its kind may
 * have. Checked before any field is used, so `null` or `{"size": "9e99"}` is an error naming the
 * entry, never a TypeError or a huge read.
 */
export function checkDescriptor(d: unknown, what: string): asserts d is Descriptor {
  if (d === null || typeof d !== 'object' || Array.isArray(d)) {
    throw new IgError('invalid-image', `${what} is ${d === null ? 'null' : `not a descriptor (${Array.isArray(d) ? 'array' : typeof d})`}`);
  }
  const o = d as Record<string, unknown>;
  if (typeof o.mediaType !== 'string') throw new IgError('invalid-image', `${what} has no media type`);
  if (typeof o.digest !== 'string' || !DIGEST.test(o.digest)) {
    throw new IgError('invalid-image', `${what} has an unsupported digest ${JSON.stringify(o.digest)}`, { hint: 'only sha256:<64 hex> digests are supported' });
  }
  checkDescriptorSize(o as unknown as Descriptor, what);
  if (o.annotations !== undefined && (o.annotations === null || typeof o.annotations !== 'object' || Array.isArray(o.annotations))) {
    throw new IgError('invalid-image', `${what} has annotations that are not an object`);
  }
}

/** A per-arch gadget manifest: known config and layer media types, each layer type at most once. */
export function checkGadgetManifest(m: ImageManifest, what: string): void {
  if (m === null || typeof m !== 'object' || m.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) {
    throw new IgError('invalid-image', `${what} is not an OCI image manifest (schemaVersion 2 with config and layers)`);
  }
  checkDescriptor(m.config, `the config of ${what}`);
  m.layers.forEach((l, i) => checkDescriptor(l, `layer ${i + 1} of ${what}`));
  if (!CONFIG_TYPES.includes(m.config.mediaType)) {
    throw new IgError('invalid-image', `${what} has a config of unknown media type "${m.config.mediaType}"`, {
      hint: `gadget images use ${MT.config} (gadget.yaml) or ${MT.empty}; is this a container image rather than a gadget?`,
    });
  }
  const seen = new Set<string>();
  for (const l of m.layers) {
    if (!LAYER_TYPES.includes(l.mediaType)) {
      throw new IgError('invalid-image', `${what} has a layer of unknown media type "${l.mediaType}"`, {
        hint: `gadget layers are ${LAYER_TYPES.join(', ')}`,
      });
    }
    if (seen.has(l.mediaType)) throw new IgError('invalid-image', `${what} has more than one layer of type ${l.mediaType}`);
    seen.add(l.mediaType);
  }
}

export function checkIndex(i: ImageIndex, what: string): void {
  if (i === null || typeof i !== 'object' || i.schemaVersion !== 2 || !Array.isArray(i.manifests)) {
    throw new IgError('invalid-image', `${what} is not an OCI image index`);
  }
  i.manifests.forEach((d, n) => checkDescriptor(d, `entry ${n + 1} of ${what}`));
  for (const d of i.manifests) {
    if (!MANIFEST_TYPES.includes(d.mediaType)) {
      throw new IgError('invalid-image', `${what} lists an entry of unsupported media type "${d.mediaType}"`);
    }
  }
}

export function kindOf(mediaType: string, what: string): 'index' | 'manifest' {
  if (INDEX_TYPES.includes(mediaType)) return 'index';
  if (MANIFEST_TYPES.includes(mediaType)) return 'manifest';
  throw new IgError('invalid-image', `${what} has unsupported media type "${mediaType || '(none)'}"`, {
    hint: `expected ${MT.index} (or a plain ${MT.manifest})`,
  });
}

/** Host architecture in OCI terms. */
function hostArch(): string {
  const a = process.env.IG_ARCH || process.arch;
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

/** The index entry for this host's architecture (OS ignored, as IG does). */
export function pickPlatform(i: ImageIndex, what: string, arch = hostArch()): Descriptor {
  const d = i.manifests.find((m) => m.platform?.architecture === arch);
  if (!d) {
    const have = i.manifests.map((m) => m.platform?.architecture ?? '?').join(', ') || 'none';
    throw new IgError('invalid-image', `${what} has no manifest for architecture ${arch} (it has: ${have})`, {
      hint: `rebuild the gadget for ${arch}`,
    });
  }
  return d;
}
