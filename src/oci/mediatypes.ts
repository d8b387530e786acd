/** Media types of gadget images (spec/gadget-image-format.md). */
export const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  artifact: 'application/vnd.gadget.v1+binary',
  config: 'application/vnd.gadget.config.v1+yaml',
  empty: 'application/vnd.oci.empty.v1+json',
  ebpf: 'application/vnd.gadget.ebpf.program.v1+binary',
  wasm: 'application/vnd.gadget.wasm.program.v1+binary',
  btfgen: 'application/vnd.gadget.btfgen.v1+binary',
} as const;

export const LAYER_TYPES: readonly string[] = [MT.ebpf, MT.wasm, MT.btfgen];
export const CONFIG_TYPES: readonly string[] = [MT.config, MT.empty];
export const INDEX_TYPES: readonly string[] = [MT.index, MT.dockerList];
export const MANIFEST_TYPES: readonly string[] = [MT.manifest, MT.dockerManifest];
/** cosign's simple-signing payload, one layer per signature. */
export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** What we send in `Accept:` when fetching a manifest. */
export const ACCEPT_MANIFEST = [MT.index, MT.manifest, MT.dockerList, MT.dockerManifest].join(', ');

/** The OCI empty descriptor's content `{}`. */
export const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

export const ANN = {
  refName: 'org.opencontainers.image.ref.name',
  title: 'org.opencontainers.image.title',
  description: 'org.opencontainers.image.description',
  url: 'org.opencontainers.image.url',
  documentation: 'org.opencontainers.image.documentation',
  source: 'org.opencontainers.image.source',
  created: 'org.opencontainers.image.created',
  builderVersion: 'io.inspektor-gadget.builder.version',
} as const;
