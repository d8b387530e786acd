import type { OciOptions } from '../oci/image.js';
import type { GlobalArgs } from './options.js';

/** The global registry/store flags as the OCI layer takes them. */
export function ociOptionsFrom(args: GlobalArgs): OciOptions {
  return {
    store: args['oci-store'] ?? process.env.IG_OCI_STORE,
    authfile: args.authfile ?? process.env.REGISTRY_AUTH_FILE,
    insecureRegistries: args['insecure-registries']?.split(',').map((s) => s.trim()).filter(Boolean),
    progress: process.stderr.isTTY,
  };
}
