import { IgError } from '../../errors.js';
import type { GadgetImage, OciOptions, PullPolicy } from '../../oci/image.js';
import { checkAllowed } from '../../oci/signing.js';

/**
 * What may run: with --public-key (or --verify-image) the image must carry a
 * signature by one of the keys, checked from the local store; with
 * --allowed-gadgets its reference or digest must be listed. Unlike IG, signatures
 * are not required by default: ig ships no vendor key to trust, and images built
 * here are the user's own. Say why in the error, before anything is loaded.
 */
export async function admit(img: GadgetImage, args: Record<string, unknown>, oci: OciOptions, pull: PullPolicy): Promise<void> {
  const allowed = String(args['allowed-gadgets'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  checkAllowed(img.reference, img.indexDigest, allowed);
  const keyFiles = (args['public-key'] as string[] | undefined) ?? [];
  const wanted = args['verify-image'] === undefined ? keyFiles.length > 0 : Boolean(args['verify-image']);
  if (!wanted) return;
  if (keyFiles.length === 0) {
    throw new IgError('usage', '--verify-image needs at least one --public-key', { hint: 'pass the signer\'s PEM public key, or --verify-image=false' });
  }
  const { Store } = await import('../../oci/store.js');
  const { RegistryClient } = await import('../../oci/registry.js');
  const { verifyImage, loadPublicKey } = await import('../../oci/signing.js');
  const store = await Store.open(oci.store);
  const client = pull === 'never' ? undefined : new RegistryClient({ authfile: oci.authfile, insecureRegistries: oci.insecureRegistries });
  await verifyImage(store, img.reference, keyFiles.map(loadPublicKey), client);
}
