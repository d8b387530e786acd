import { IgError } from '../../errors.js';
import type { GadgetImage, OciOptions, PullPolicy } from '../../oci/image.js';
import { parseAllowList } from '../../oci/allow-list.js';
import { loadPublicKey } from '../../oci/signing.js';
import { openAdmittedImage } from '../../oci/verified.js';

/**
 * What may run: with --public-key (or --verify-image) the image must carry a
 * signature by one of the keys, checked from the local store; with
 * --allowed-gadgets its reference or digest must be listed. Unlike IG, signatures
 * are not required by default: ig ships no vendor key to trust, and images built
 * here are the user's own. Say why in the error, before anything is loaded.
 * The checks and the read happen on one resolved digest (src/oci/verified.ts).
 */
export async function admitImage(image: string, args: Record<string, unknown>, oci: OciOptions, pull: PullPolicy): Promise<GadgetImage> {
  const allowed = parseAllowList(args['allowed-gadgets'] as string | string[] | undefined);
  const keyFiles = (args['public-key'] as string[] | undefined) ?? [];
  const wanted = args['verify-image'] === undefined ? keyFiles.length > 0 : Boolean(args['verify-image']);
  if (wanted && keyFiles.length === 0) {
    throw new IgError('usage', '--verify-image needs at least one --public-key', { hint: 'pass the signer\'s PEM public key, or --verify-image=false' });
  }
  const keys = wanted ? keyFiles.map(loadPublicKey) : undefined;
  return (await openAdmittedImage(image, pull, { allowed, keys }, oci)).image;
}
