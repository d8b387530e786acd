import type { GadgetImage } from '../oci/image.js';
import { checkAllowed } from '../oci/signing.js';
import type { RunConfig } from './config.js';

/**
 * What may run: with verifyImage the image must carry a signature by one of the public keys,
 * checked from the local store; with allowedGadgets its reference or digest must be listed.
 * Unlike IG, signatures are not required by default: ig ships no vendor key to trust, and
 * images built here are the user's own. Say why in the error, before anything is loaded.
 */
export async function admit(img: GadgetImage, cfg: RunConfig): Promise<void> {
  checkAllowed(img.reference, img.indexDigest, cfg.allowedGadgets);
  if (!cfg.verifyImage) return;
  const { Store } = await import('../oci/store.js');
  const { RegistryClient } = await import('../oci/registry.js');
  const { verifyImage, loadPublicKey } = await import('../oci/signing.js');
  const oci = cfg.oci;
  const store = await Store.open(oci.store);
  const client = cfg.pull === 'never' ? undefined : new RegistryClient({ authfile: oci.authfile, insecureRegistries: oci.insecureRegistries });
  await verifyImage(store, img.reference, cfg.publicKeys.map(loadPublicKey), client);
}
