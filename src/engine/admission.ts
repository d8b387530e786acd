import { openAdmittedImage } from '../oci/verified.js';
import { parseAllowList } from '../oci/allow-list.js';
import { loadPublicKey } from '../oci/signing.js';
import type { GadgetImage } from '../oci/image.js';
import type { RunConfig } from './config.js';

/**
 * The gadget's bytes, if they may run: with verifyImage the image must carry a signature by one
 * of the public keys, checked from the local store; with allowedGadgets its reference or digest
 * must be listed. The reference is resolved to a digest once, and exactly what was checked is
 * read (src/oci/verified.ts), so a tag moved meanwhile changes nothing. Unlike IG, signatures are
 * not required by default: ig ships no vendor key to trust, and images built here are the
 * user's own. Say why in the error, before anything is loaded; `stop` ends a pull.
 */
export async function admittedImage(cfg: RunConfig, stop?: AbortSignal): Promise<GadgetImage> {
  const allowed = cfg.allowedGadgets === undefined ? undefined : parseAllowList(cfg.allowedGadgets);
  const keys = cfg.verifyImage ? cfg.publicKeys.map(loadPublicKey) : undefined;
  return (await openAdmittedImage(cfg.image, cfg.pull, { allowed, keys }, { ...cfg.oci, signal: stop ?? cfg.oci.signal })).image;
}
