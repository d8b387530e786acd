/**
 * Who owns a mount namespace: the containers on this node (CRI for containerd
 * and cri-o, podman's and docker's APIs), their Kubernetes metadata, the
 * selection flags, and the enrichment fields events get.
 */
export type { ContainerInfo, ContainerSelector, CollectionOptions } from './types.js';
export { parseSelector, matches, type SelectionFlags } from './selector.js';
export { ContainerCollection, parseRuntimes } from './collection.js';
export { enrich, enrichmentFields, nodeName, ENRICHMENT_VALUES } from './enrich.js';
export { mntnsOf, netnsOf } from './ns.js';
