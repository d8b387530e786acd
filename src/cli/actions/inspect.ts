/**
 * `ig image inspect IMAGE`: everything an image holds, from the local store, offline — its
 * reference and digests, annotations, layers, signatures, which ig built it, the eBPF object
 * (sections, programs, maps, variables), the datasources with their fields, the params, and
 * gadget.yaml. IG's spellings work too: `--extra-info KEY` (ebpf.sections, ebpf.maps,
 * ebpf.programs, ebpf.variables, oci.manifest, oci.metadata, oci.repository, oci.tag, oci.digest,
 * oci.created) prints one part in IG's shape, `--show-datasources` the datasources, and
 * `--jsonpath` picks from either (IG prefixes `$`; so do we). Beyond IG, `--jsonpath` also
 * picks from the whole description.
 */
import YAML from 'yaml';
import { toYaml } from '../../output/yaml.js';
import { JSONPath } from 'jsonpath-plus';
import { IgError } from '../../errors.js';
import { packageVersion } from '../../paths.js';
import type { GlobalArgs } from '../options.js';
import {
  ANN, MT, Store, normalizeReference, parseReference, readResolved, resolveLocal, notFoundLocally, signatureReference, elfSections,
  type ImageManifest,
} from '../../oci/index.js';
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING } from '../../oci/signing.js';

type A = GlobalArgs & Record<string, unknown>;

/** cilium/ebpf's names of map types, which IG's `ebpf.maps` prints. */
const CILIUM_MAP_TYPES: Record<string, string> = {
  hash: 'Hash', array: 'Array', prog_array: 'ProgramArray', perf_event_array: 'PerfEventArray', percpu_hash: 'PerCPUHash',
  percpu_array: 'PerCPUArray', stack_trace: 'StackTrace', cgroup_array: 'CGroupArray', lru_hash: 'LRUHash',
  lru_percpu_hash: 'LRUCPUHash', lpm_trie: 'LPMTrie', array_of_maps: 'ArrayOfMaps', hash_of_maps: 'HashOfMaps', ringbuf: 'RingBuf',
};

const LAYER_KINDS: Record<string, string> = { [MT.ebpf]: 'ebpf', [MT.wasm]: 'wasm', [MT.btfgen]: 'btfgen' };

export async function inspect(a: A): Promise<void> {
  const extra = a['extra-info'] === undefined ? undefined : String(a['extra-info']);
  const jsonPath = a.jsonpath === undefined ? undefined : String(a.jsonpath);
  const showDs = Boolean(a['show-datasources']);
  if (extra !== undefined && showDs) throw new IgError('usage', `--extra-info ${extra} and --show-datasources cannot be used together`, { hint: 'ask for one of them' });

  const store = await Store.open(a['oci-store']);
  const ref = normalizeReference(String(a.image));
  const d = await resolveLocal(store, ref);
  if (!d) throw notFoundLocally(ref);
  const r = await readResolved(store, ref, d);
  const m = r.manifest;
  const annotations = { ...(r.index?.annotations ?? {}), ...(m.annotations ?? {}) };
  const metadata = m.config?.mediaType === MT.config ? (await store.readBlob(m.config.digest, m.config.size)).toString('utf8') : undefined;
  const info: Record<string, unknown> = {
    reference: ref,
    digest: d.digest,
    mediaType: d.mediaType,
    manifestDigest: r.manifestDescriptor.digest,
    platforms: r.index?.manifests.map((x) => `${x.platform?.os ?? '?'}/${x.platform?.architecture ?? '?'}`) ?? [],
    created: annotations[ANN.created] ?? null,
    builtBy: { ig: annotations[ANN.builderVersion] ?? null, thisIg: `v${packageVersion()}` },
    annotations,
    layers: (m.layers ?? []).map((l) => ({ kind: LAYER_KINDS[l.mediaType] ?? 'other', mediaType: l.mediaType, digest: l.digest, size: l.size })),
    signatures: await signatures(store, ref, d.digest),
  };
  const layer = m.layers?.find((l) => l.mediaType === MT.ebpf);
  let elf: Buffer | undefined;
  if (layer) {
    elf = await store.readBlob(layer.digest, layer.size);
    const { describeGadgetObject } = await import('../../engine/describe.js');
    try {
      const o = describeGadgetObject(elf, metadata === undefined ? null : Buffer.from(metadata));
      info.ebpf = { kind: o.kind, sections: elfSections(elf).filter((s) => s.name !== ''), programs: o.programs, maps: o.maps, variables: o.variables,
        datasources: o.datasources, params: o.params, metrics: o.metrics };
    } catch (e) {
      // a damaged object: the rest is still worth showing
      info.ebpf = { error: (e as Error).message, sections: elfSections(elf).filter((s) => s.name !== '') };
    }
  }
  info.manifest = m;

  let result: unknown;
  if (extra !== undefined) result = extraInfo(extra, info, m, metadata, ref);
  else if (showDs) result = (info.ebpf as { datasources?: unknown[] } | undefined)?.datasources ?? [];
  else result = { ...info, ...(metadata !== undefined ? { metadata } : {}) };
  if (jsonPath !== undefined) {
    if (typeof result === 'string') throw new IgError('usage', `--jsonpath ${jsonPath} can only be used with JSON or YAML content`, { hint: `${extra} is plain text` });
    const path = jsonPath.startsWith('$') ? jsonPath : `$${jsonPath}`;
    const found = JSONPath({ path, json: result as object, wrap: false });
    if (found === undefined) throw new IgError('not-found', `path ${jsonPath} not found${extra ? ` in extra info ${extra}` : ''}`, { hint: 'e.g. --jsonpath \'.ebpf.programs[0].section\' or, with --extra-info ebpf.maps, \'[0].Name\'' });
    result = found;
  }
  print(result, String(a.output ?? 'yaml'), extra === undefined && !showDs && jsonPath === undefined);
}

function print(v: unknown, format: string, whole: boolean): void {
  let text: string;
  if (typeof v === 'string') text = v.endsWith('\n') ? v : `${v}\n`;
  else if (format === 'json') text = `${JSON.stringify(v)}\n`;
  else if (format === 'jsonpretty') text = `${JSON.stringify(v, null, 2)}\n`;
  else if (whole) {
    // gadget.yaml as its own document, as written (comments kept)
    const { metadata, ...rest } = v as Record<string, unknown>;
    text = toYaml(rest);
    if (typeof metadata === 'string') text += `---\n# gadget.yaml\n${metadata.trimEnd()}\n`;
  } else text = toYaml(v);
  process.stdout.write(text);
}

/** IG's extra-info entries (pkg/operators/ebpf/extrainfo.go, oci-handler/extrainfo.go), in IG's shapes. */
function extraInfo(key: string, info: Record<string, unknown>, m: ImageManifest, metadata: string | undefined, ref: string): unknown {
  const ebpf = info.ebpf as { sections?: { name: string }[]; programs?: { name: string; section: string }[]; maps?: { name: string; type: string }[]; variables?: { name: string; section: string; offset: number; size: number }[] } | undefined;
  const parsed = parseReference(ref);
  const entries: Record<string, () => unknown> = {
    'ebpf.sections': () => ebpf?.sections?.map((s) => s.name),
    'ebpf.maps': () => ebpf?.maps?.filter((x) => !/^\.(rodata|bss|data)/.test(x.name)).map((x) => ({ Name: x.name, Type: CILIUM_MAP_TYPES[x.type] ?? x.type })),
    'ebpf.programs': () => ebpf?.programs?.map((p) => ({ Section: p.section, Name: p.name })),
    'ebpf.variables': () => ebpf?.variables?.map((v) => ({ Name: v.name, Offset: v.offset, Size: v.size, Map: v.section })),
    'oci.manifest': () => m,
    'oci.metadata': () => (metadata === undefined ? undefined : (YAML.parse(metadata) as unknown)),
    'oci.repository': () => parsed.name,
    'oci.tag': () => parsed.tag ?? 'latest',
    'oci.digest': () => m.config?.digest,
    'oci.created': () => m.annotations?.[ANN.created] ?? '',
  };
  const get = entries[key];
  const v = get?.();
  if (v === undefined) {
    const have = Object.keys(entries).filter((k) => entries[k]!() !== undefined);
    throw new IgError('not-found', `extra info "${key}" not found`, { hint: `this image has: ${have.join(', ')}` });
  }
  return v;
}

/** The signatures stored beside the image (cosign's `sha256-<hex>.sig`): what each says it signs. */
async function signatures(store: Store, ref: string, digest: string): Promise<{ identity?: string; signs?: string; signature: string }[]> {
  const sig = await store.resolveTag(signatureReference(parseReference(ref), digest));
  if (!sig) return [];
  const m = JSON.parse((await store.readBlob(sig.digest, sig.size)).toString('utf8')) as ImageManifest;
  const out: { identity?: string; signs?: string; signature: string }[] = [];
  for (const l of m.layers ?? []) {
    if (l.mediaType !== SIMPLE_SIGNING) continue;
    let p: { critical?: { identity?: { 'docker-reference'?: string }; image?: { 'docker-manifest-digest'?: string } } } = {};
    try {
      p = JSON.parse((await store.readBlob(l.digest, l.size)).toString('utf8')) as typeof p;
    } catch {
      /* shown without what it signs */
    }
    out.push({ identity: p.critical?.identity?.['docker-reference'], signs: p.critical?.image?.['docker-manifest-digest'], signature: l.annotations?.[SIGNATURE_ANNOTATION] ?? '' });
  }
  return out;
}
