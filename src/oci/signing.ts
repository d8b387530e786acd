import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { IgError } from '../errors.js';
import { cosignKeyType, loadCosignPrivateKey } from './cosign-key.js';
import { parseReference, type Reference } from './reference.js';
import { MT, SIMPLE_SIGNING } from './mediatypes.js';
import type { Store } from './store.js';
import type { RegistryClient } from './registry.js';
import type { Descriptor, ImageManifest } from './types.js';
import { MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES } from './limits.js';
import { checkDescriptor } from './validate.js';

/**
 * Image signatures in cosign's format (the one Inspektor Gadget checks): a
 * manifest tagged `sha256-<hex>.sig` next to the image, whose layers are
 * simple-signing payloads naming the signed digest, each with its ECDSA
 * signature (base64, DER) in an annotation. Real cosign public keys verify our
 * signatures and ours verify cosign's. Signatures live in the local store like
 * images, so verification needs no network once an image has been pulled.
 */
export { SIMPLE_SIGNING };
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const SIG_TYPE = 'cosign container image signature';

/** The tag cosign uses for the signatures of a digest. */
function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

export function signatureReference(ref: Reference, digest: string): string {
  return `${ref.name}:${signatureTag(digest)}`;
}

/** Signature tags are bookkeeping, not images: `image list` hides them. */
export function isSignatureReference(reference: string): boolean {
  return /:sha256-[0-9a-f]{64}\.sig$/.test(reference);
}

/** A signing key: plain PEM (PKCS#8 or SEC1), or cosign's encrypted `cosign.key` (password in COSIGN_PASSWORD). */
export function loadPrivateKey(file: string): KeyObject {
  const text = safeRead(file);
  if (cosignKeyType(text)) return loadCosignPrivateKey(text, file);
  try {
    return createPrivateKey(readFileSync(file));
  } catch (err) {
    throw new IgError('usage', `cannot read private key ${file}: ${(err as Error).message}`, {
      hint: 'give an ECDSA P-256 private key: cosign.key from `cosign generate-key-pair` (with COSIGN_PASSWORD), or PEM (PKCS#8 or SEC1)',
      cause: err,
    });
  }
}

export function loadPublicKey(file: string): KeyObject {
  try {
    return createPublicKey(readFileSync(file));
  } catch (err) {
    throw new IgError('usage', `cannot read public key ${file}: ${(err as Error).message}`, {
      hint: 'give a PEM public key ("-----BEGIN PUBLIC KEY-----"), e.g. cosign.pub',
      cause: err,
    });
  }
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Short id of a public key, to say which key signed: sha256 of its DER, 12 hex digits. */
export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 12);
}

/** Sign a locally tagged image; the signature is stored beside it (and pushed with it). */
export async function signImage(store: Store, refStr: string, key: KeyObject): Promise<{ digest: string; signature: string }> {
  const ref = parseReference(refStr);
  const desc = await store.resolveTag(ref.full);
  if (!desc) throw new IgError('not-found', `image ${ref.full} not found in the local store`, { hint: 'build or pull it first' });
  const payload = Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': ref.name }, image: { 'docker-manifest-digest': desc.digest }, type: SIG_TYPE },
    optional: null,
  }));
  const sig = sign(digestFor(key), payload, key).toString('base64');
  const sigRef = signatureReference(ref, desc.digest);

  // Keep signatures by other keys that are already there (cosign appends too).
  const layers: Descriptor[] = [];
  const existing = await store.resolveTag(sigRef);
  if (existing) {
    const m = signatureManifest(await store.readBlob(existing.digest, existing.size, MAX_MANIFEST_BYTES), sigRef);
    for (const l of m.layers) if (l.annotations?.[SIGNATURE_ANNOTATION] !== sig) layers.push(l);
  }
  const payloadDigest = await store.writeBlob(payload);
  layers.push({ mediaType: SIMPLE_SIGNING, digest: payloadDigest, size: payload.length, annotations: { [SIGNATURE_ANNOTATION]: sig } });
  const config = Buffer.from(JSON.stringify({
    architecture: '', config: {}, created: '0001-01-01T00:00:00Z', history: [{ created: '0001-01-01T00:00:00Z' }], os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  }));
  const configDigest = await store.writeBlob(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MT.manifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers,
  }));
  const manifestDigest = await store.writeBlob(manifest);
  await store.setTag(sigRef, { mediaType: MT.manifest, digest: manifestDigest, size: manifest.length });
  return { digest: desc.digest, signature: sigRef };
}

/** ECDSA and RSA keys sign a SHA-256 digest; Ed25519/Ed448 sign the message itself. */
function digestFor(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448' ? null : 'sha256';
}

/** Whether `key` verifies `sig` over `payload`; a key of a kind that cannot (or a garbled signature) simply does not. */
function verifies(key: KeyObject, payload: Buffer, sig: string): boolean {
  try {
    return verify(digestFor(key), payload, key, Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}

export interface VerifyResult { reference: string; digest: string; keyId: string }

/**
 * Check that a local image carries a signature, over its exact digest, by one of `keys`: the
 * digest of `name@sha256:…`, else the one its tag points at now. Callers that load the image
 * use verifyDigest with the digest they resolved once (see verified.ts), never this.
 */
export async function verifyImage(store: Store, refStr: string, keys: KeyObject[], client?: RegistryClient): Promise<VerifyResult> {
  const ref = parseReference(refStr);
  const digest = ref.digest ?? (await store.resolveTag(ref.full))?.digest;
  if (!digest || !(await store.hasBlob(digest))) {
    throw new IgError('not-found', `image ${ref.full} not found in the local store`, { hint: `pull it with \`ig image pull ${refStr}\`` });
  }
  return verifyDigest(store, ref, digest, keys, client);
}

/**
 * Check that `digest` (content of repository `ref.name`) carries a signature over exactly that
 * digest by one of `keys`. The signature is read from the local store; only when it is missing
 * there and a registry client is given is it fetched (and kept).
 */
export async function verifyDigest(store: Store, ref: Reference, digest: string, keys: KeyObject[], client?: RegistryClient): Promise<VerifyResult> {
  const sigRef = signatureReference(ref, digest);
  let sigDesc = await store.resolveTag(sigRef);
  if (!sigDesc && client) sigDesc = await pullSignature(store, client, ref, digest);
  if (!sigDesc) {
    throw new IgError('signature', `image ${ref.full} (${digest}) is not signed`, {
      hint: 'sign it with `ig image sign IMAGE --key KEY`, or run without --verify-image',
    });
  }
  const m = signatureManifest(await store.readBlob(sigDesc.digest, sigDesc.size, MAX_MANIFEST_BYTES), sigRef);
  const problems: string[] = [];
  for (const l of m.layers) {
    if (l.mediaType !== SIMPLE_SIGNING) continue;
    const sig = l.annotations?.[SIGNATURE_ANNOTATION];
    if (typeof sig !== 'string' || !sig) continue;
    const payload = await store.readBlob(l.digest, l.size, MAX_SIGNATURE_BYTES);
    let signed: string | undefined;
    try {
      const p = (JSON.parse(payload.toString('utf8')) ?? {}) as { critical?: { image?: { 'docker-manifest-digest'?: string }; type?: string } };
      if (p.critical?.type !== SIG_TYPE) { problems.push(`a payload of type "${p.critical?.type}"`); continue; }
      signed = p.critical?.image?.['docker-manifest-digest'];
    } catch {
      problems.push('a payload that is not JSON');
      continue;
    }
    if (signed !== digest) {
      problems.push(`a signature over another digest (${signed})`);
      continue;
    }
    for (const k of keys) {
      if (verifies(k, payload, sig)) return { reference: ref.full, digest, keyId: keyId(k) };
    }
    problems.push('a signature by an untrusted key');
  }
  throw new IgError('signature', `no signature of ${ref.full} (${digest}) verifies with the given public key${keys.length > 1 ? 's' : ''}`, {
    hint: problems.length ? `found ${problems.join(', ')}` : 'the signature manifest holds no signatures',
  });
}

/** A signature manifest's JSON, checked: every descriptor well-formed and within its size limit. */
function signatureManifest(body: Buffer, what: string): ImageManifest {
  let m: ImageManifest;
  try {
    m = JSON.parse(body.toString('utf8')) as ImageManifest;
  } catch (e) {
    throw new IgError('signature', `signature manifest ${what} is not JSON: ${(e as Error).message}`);
  }
  if (m === null || typeof m !== 'object' || !Array.isArray(m.layers)) {
    throw new IgError('signature', `signature manifest ${what} is not an image manifest`);
  }
  if (m.config !== undefined) checkDescriptor(m.config, `the config of signature manifest ${what}`);
  m.layers.forEach((l, i) => checkDescriptor(l, `layer ${i + 1} of signature manifest ${what}`));
  return m;
}

async function pullSignature(store: Store, client: RegistryClient, ref: Reference, digest: string): Promise<Descriptor | undefined> {
  let got;
  const sigRef = signatureReference(ref, digest);
  try {
    got = await client.getManifest(ref, signatureTag(digest));
  } catch (err) {
    if (err instanceof IgError && err.code === 'not-found') return undefined;
    throw err;
  }
  const m = signatureManifest(got.body, sigRef);
  const blobs = [...(m.config ? [m.config] : []), ...m.layers];
  await store.pin([got.digest, ...blobs.map((d) => d.digest)]);
  for (const d of blobs) {
    if (await store.hasGoodBlob(d.digest, d.size)) continue;
    const res = await client.getBlob(ref, d);
    if (!res.body) throw new IgError('registry', `registry ${ref.domain} sent no body for blob ${d.digest}`);
    await store.ingest(res.body as unknown as AsyncIterable<Uint8Array>, d, { what: `signature blob ${d.digest} of ${ref.name}`, signal: client.signal });
  }
  await store.writeBlob(got.body, got.digest);
  const desc = { mediaType: got.mediaType, digest: got.digest, size: got.body.length };
  await store.setTag(signatureReference(ref, digest), desc);
  return desc;
}

/** Push the local signatures of an image along with it (a no-op for unsigned images). */
export async function pushSignature(store: Store, client: RegistryClient, ref: Reference, dest: Reference, digest: string): Promise<boolean> {
  const desc = await store.resolveTag(signatureReference(ref, digest));
  if (!desc) return false;
  const body = await store.readBlob(desc.digest, desc.size, MAX_MANIFEST_BYTES);
  const m = signatureManifest(body, signatureReference(ref, digest));
  for (const d of [...(m.config ? [m.config] : []), ...m.layers]) await client.pushBlob(dest, d, await store.readBlob(d.digest, d.size));
  await client.pushManifest(dest, signatureTag(digest), desc.mediaType, body);
  return true;
}

/** After a pull: fetch the image's signature too if the registry has one (missing is fine). */
export async function pullSignatureIfAny(store: Store, client: RegistryClient, refStr: string, digest: string): Promise<void> {
  await pullSignature(store, client, parseReference(refStr), digest).catch((e) => {
    // A signature that cannot be had is no reason to fail the pull (verification will say it is
    // missing), but Ctrl-C is.
    if (e instanceof IgError && e.code === 'interrupted') throw e;
  });
}
