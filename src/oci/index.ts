/** Gadget images: references, the local OCI store, the registry client, build, export/import. */
export { normalizeReference, parseReference, shortName, OFFICIAL_PREFIX, type Reference } from './reference.js';
export { getGadgetImage, resolveLocal, readResolved, notFoundLocally, registryFor } from './image.js';
export type { PullPolicy, OciOptions, GadgetImage, ResolvedImage } from './image.js';
export { Store, defaultStorePath, type TagEntry } from './store.js';
export { RegistryClient, type RegistryClientOptions } from './registry.js';
export { pullImage, pushImage, type PullResult } from './transfer.js';
export { buildGadget, createdTime, annotationsFrom, type BuildOptions, type BuildResult } from './build.js';
export { exportImages, importArchive, safeEntryName, safeLinkTarget } from './archive.js';
export { findCredentials, saveCredentials, removeCredentials, authfileForWrite } from './auth.js';
export { manifestBytes, indexBytes, sha256 } from './json.js';
export { MT, ANN } from './mediatypes.js';
export { hostArch, pickPlatform, checkGadgetManifest } from './validate.js';
export type { Descriptor, ImageIndex, ImageManifest } from './types.js';
export { signImage, verifyImage, loadPrivateKey, loadPublicKey, keyId, verifyDigest, isSignatureReference, signatureReference, signatureTag } from './signing.js';
export { parseAllowList, checkAllowed, type AllowList } from './allow-list.js';
export { elfSections, type ElfSection } from './elf.js';
