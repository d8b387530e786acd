import type { KeyObject } from 'node:crypto';
import { checkAllowed, type AllowList } from './allow-list.js';
import { readGadgetImage, registryFor, resolveImage, type GadgetImage, type OciOptions, type PullPolicy } from './image.js';
import { parseReference } from './reference.js';
import { verifyDigest, type VerifyResult } from './signing.js';
import { Store } from './store.js';

export interface AdmissionPolicy {
  /** `--allowed-gadgets`; undefined allows every image */
  allowed?: AllowList;
  /** trusted public keys; with at least one, the image must carry a signature by one of them */
  keys?: KeyObject[];
}

export interface AdmittedImage {
  image: GadgetImage;
  /** the key that signed the loaded digest, when keys were given */
  verified?: VerifyResult;
}

/**
 * The one way to get a gadget's bytes under a policy: the reference is resolved to a digest once
 * (pulling first as the policy says), that digest is checked against the allow-list and its
 * signature verified, and exactly that content is read, every blob against its digest. A tag
 * moved by someone else meanwhile changes nothing: what was checked is what is returned.
 */
export async function openAdmittedImage(reference: string, pull: PullPolicy, policy: AdmissionPolicy, opts: OciOptions = {}): Promise<AdmittedImage> {
  const ref = parseReference(reference);
  const store = await Store.open(opts.store, { signal: opts.signal });
  const desc = await resolveImage(store, ref.full, pull, opts);
  checkAllowed(ref, desc.digest, policy.allowed);
  let verified: VerifyResult | undefined;
  if (policy.keys?.length) {
    verified = await verifyDigest(store, ref, desc.digest, policy.keys, pull === 'never' ? undefined : registryFor(opts));
  }
  return { image: await readGadgetImage(store, ref.full, desc), verified };
}
