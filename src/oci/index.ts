/** Gadget images as the `ig image` commands use them: references, the local OCI store, the registry client, build, export/import, signing. */
export { normalizeReference, parseReference, shortName } from './reference.js';
export { resolveLocal, readResolved, notFoundLocally } from './image.js';
export { Store } from './store.js';
export { RegistryClient } from './registry.js';
export { pullImage, pushImage } from './transfer.js';
export { buildGadget } from './build.js';
export { exportImages, importArchive } from './archive.js';
export { saveCredentials, removeCredentials } from './auth.js';
export { MT, ANN } from './mediatypes.js';
export type { ImageManifest } from './types.js';
export { signImage, verifyImage, loadPrivateKey, loadPublicKey, keyId, isSignatureReference, signatureReference } from './signing.js';
export { elfSections } from './elf.js';
