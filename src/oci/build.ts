/**
 * `ig image build`: a gadget directory → an image in the local store. The directory is untrusted input:
 * build.yaml names files only (build-yaml.ts), every file must stay inside the directory (build-paths.ts),
 * and the compilers run sandboxed with nothing of the host writable but their output (build-sandbox.ts).
 * Compiling is build-ebpf.ts (IG's clang recipe) and build-wasm.ts.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { IgError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { confine, type ConfinedPath } from './build-paths.js';
import { compileEbpf, hostTarget, isPrebuiltObject, parsePlatforms, readPrebuiltObject, type Target } from './build-ebpf.js';
import { buildWasm } from './build-wasm.js';
import { readBuildYaml } from './build-yaml.js';
import { indexBytes, manifestBytes, sha256 } from './json.js';
import { ANN, EMPTY_DIGEST, MT } from './mediatypes.js';
import { parseReference } from './reference.js';
import { Store } from './store.js';
import { entryAnnotations } from './transfer.js';
import type { Descriptor } from './types.js';

export interface BuildOptions {
  /** Directory holding program.bpf.c, gadget.yaml and optionally build.yaml. */
  dir: string;
  tag?: string;
  /** build.yaml path (default DIR/build.yaml if present). */
  file?: string;
  store?: string;
  updateMetadata?: boolean;
  validateMetadata?: boolean;
  /**
   * What --update-metadata and --validate-metadata do with the compiled object (they need it
   * parsed, as the run engine sees it: the caller passes engine/describe's functions).
   */
  metadataTools?: {
    update(elf: Buffer, yamlText: string): Promise<string>;
    validate(elf: Buffer, yamlText: string): Promise<string[]>;
  };
  clang?: string;
  strip?: string;
  /** `--platform linux/amd64,linux/arm64`: one manifest per architecture (default: the host's) */
  platforms?: string;
}

export interface BuildResult {
  reference: string;
  digest: string;
  manifestDigest: string;
}

/** RFC 3339 creation time; SOURCE_DATE_EPOCH makes builds reproducible. */
function createdTime(): string {
  const sde = process.env.SOURCE_DATE_EPOCH;
  let d = new Date();
  if (sde !== undefined && sde !== '') {
    if (!/^\d+$/.test(sde)) throw new IgError('usage', `SOURCE_DATE_EPOCH must be a number of seconds, got "${sde}"`);
    d = new Date(Number(sde) * 1000);
  }
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function builderVersion(): Promise<string> {
  try {
    return (JSON.parse(await fs.readFile(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The annotation set of the reference doc, from gadget.yaml. */
export function annotationsFrom(meta: Record<string, unknown> | undefined, created: string, version: string): Record<string, string> {
  const a: Record<string, string> = {};
  const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
  const set = (k: string, v: unknown) => {
    const s = str(v);
    if (s !== undefined && s !== '') a[k] = s;
  };
  set(ANN.title, meta?.name);
  set(ANN.description, meta?.description);
  set(ANN.url, meta?.homepageURL);
  set(ANN.documentation, meta?.documentationURL);
  set(ANN.source, meta?.sourceURL);
  a[ANN.created] = created;
  a[ANN.builderVersion] = version;
  const extra = meta?.annotations;
  if (extra && typeof extra === 'object' && !Array.isArray(extra)) {
    for (const [k, v] of Object.entries(extra as Record<string, unknown>)) {
      const s = str(v);
      if (s !== undefined) a[k] = s;
    }
  }
  return a;
}

/**
 * Compile a gadget and package it into the store: config = gadget.yaml (or the empty descriptor), the eBPF
 * object and the wasm module as layers (either may be absent, as in IG: an operator-only gadget has just its
 * gadget.yaml), a manifest per target architecture (the host's, or each of --platform's, compiled with that
 * arch's vmlinux.h and __TARGET_ARCH_*) and an index listing them. Deterministic: the same sources and
 * SOURCE_DATE_EPOCH give the same index digest.
 */
export async function buildGadget(o: BuildOptions): Promise<BuildResult> {
  const given = path.resolve(o.dir);
  const st = await fs.stat(given).catch(() => undefined);
  if (!st?.isDirectory()) throw new IgError('not-found', `gadget directory ${given} not found`, { hint: 'pass the directory holding program.bpf.c and gadget.yaml' });
  const dir = await fs.realpath(given);
  const by = await readBuildYaml(dir, o.file);
  const source = await confine(dir, by.ebpfsource, 'ebpfsource', by.ebpfsourceGiven);
  const metaFile = await confine(dir, by.metadata, 'metadata');
  const wasmFile = by.wasm === undefined ? undefined : await confine(dir, by.wasm, 'wasm', true);
  if (!source && !metaFile && !wasmFile) {
    throw new IgError('not-found', `${dir} has nothing to build: no eBPF source (${by.ebpfsource}), metadata (${by.metadata}) or wasm module`, {
      hint: 'a gadget needs at least one of them',
    });
  }
  const targets: Target[] = o.platforms !== undefined ? parsePlatforms(o.platforms) : [hostTarget()];
  if (source && isPrebuiltObject(source.given) && targets.length > 1) {
    throw new IgError('usage', `build.yaml's ebpfsource ${source.given} is one compiled object: it cannot be packaged for ${targets.map((t) => `linux/${t.platform}`).join(' and ')}`, {
      hint: 'build from the C source, or give --platform with the one architecture the object was compiled for',
    });
  }
  const outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ig-build-'));
  // per architecture: the eBPF object (compiled with that arch's vmlinux.h and __TARGET_ARCH_*)
  const ebpfs = new Map<Target['platform'], Buffer | undefined>();
  let wasm: Buffer | undefined;
  try {
    for (const target of targets) {
      let ebpf: Buffer | undefined;
      if (source) {
        ebpf = isPrebuiltObject(source.given)
          ? await readPrebuiltObject(source)
          : await compileEbpf({ dir, source, outDir, target, clang: o.clang, strip: o.strip });
      }
      ebpfs.set(target.platform, ebpf);
    }
    if (wasmFile) wasm = await buildWasm({ dir, wasm: wasmFile, outDir, clang: o.clang });
  } finally {
    await fs.rm(outDir, { recursive: true, force: true });
  }
  // gadget.yaml is checked against (and updated from) the host's object, else the first one built
  const ebpf = ebpfs.get(hostTarget().platform) ?? ebpfs.values().next().value;

  const metaText = await metadataText(dir, by.metadata, metaFile, ebpf, o);
  let meta: Record<string, unknown> | undefined;
  const metaPath = metaFile?.real ?? path.resolve(dir, by.metadata);
  if (metaText !== undefined) {
    try {
      const y = YAML.parse(metaText);
      meta = y && typeof y === 'object' ? (y as Record<string, unknown>) : undefined;
    } catch (e) {
      throw new IgError('build', `${metaPath} is not valid YAML: ${(e as Error).message}`);
    }
  }

  const ref = parseReference(o.tag ?? (path.basename(given).toLowerCase().replace(/[^a-z0-9._-]+/g, '_').replace(/^[^a-z0-9]+/, '') || 'gadget'));
  if (ref.digest) throw new IgError('usage', 'a build tag cannot contain a digest');
  const annotations = annotationsFrom(meta, createdTime(), await builderVersion());

  const store = await Store.open(o.store);
  const configData = metaText !== undefined ? Buffer.from(metaText) : Buffer.from('{}');
  const config: Descriptor = {
    mediaType: metaText !== undefined ? MT.config : MT.empty,
    digest: await store.writeBlob(configData),
    size: configData.length,
    annotations,
  };
  if (metaText === undefined && config.digest !== EMPTY_DIGEST) throw new IgError('internal', 'empty descriptor digest mismatch');
  const entries: Descriptor[] = [];
  for (const target of targets) {
    // layer order as IG writes them: eBPF, then wasm (the same module for every architecture, as IG)
    const layers: Descriptor[] = [];
    const obj = ebpfs.get(target.platform);
    if (obj) layers.push({ mediaType: MT.ebpf, digest: await store.writeBlob(obj), size: obj.length });
    if (wasm) layers.push({ mediaType: MT.wasm, digest: await store.writeBlob(wasm), size: wasm.length });
    const manifest = manifestBytes({ schemaVersion: 2, mediaType: MT.manifest, artifactType: MT.artifact, config, layers, annotations });
    const manifestDigest = await store.writeBlob(manifest);
    entries.push({ mediaType: MT.manifest, digest: manifestDigest, size: manifest.length, annotations, platform: { architecture: target.platform, os: 'linux' } });
  }
  const index = indexBytes({ schemaVersion: 2, mediaType: MT.index, manifests: entries, annotations });
  const digest = await store.writeBlob(index);
  if (digest !== sha256(index)) throw new IgError('internal', 'index digest mismatch');
  await store.setTag(ref.full, { mediaType: MT.index, digest, size: index.length }, entryAnnotations({ annotations }));
  const own = entries.find((e) => e.platform?.architecture === hostTarget().platform) ?? entries[0]!;
  return { reference: ref.full, digest, manifestDigest: own.digest };
}

/**
 * gadget.yaml's text, after --update-metadata (written back inside the directory by temp file + rename,
 * never through a symlink) and checked by --validate-metadata. Undefined when there is none.
 */
async function metadataText(dir: string, given: string, file: ConfinedPath | undefined, ebpf: Buffer | undefined, o: BuildOptions): Promise<string | undefined> {
  let text = file ? await fs.readFile(file.real, 'utf8') : undefined;
  if (!o.updateMetadata && !o.validateMetadata) return text;
  if (!ebpf) throw new IgError('usage', '--update-metadata and --validate-metadata need an eBPF program to compare gadget.yaml with');
  const target = file?.real ?? path.resolve(dir, given);
  const tools = o.metadataTools;
  if (!tools) throw new IgError('internal', 'building with --update-metadata/--validate-metadata needs the metadata tools');
  if (o.updateMetadata) {
    const updated = await tools.update(ebpf, text ?? '');
    if (updated !== text) {
      const tmp = `${target}.ig-tmp-${process.pid}`;
      await fs.writeFile(tmp, updated, { flag: 'wx' });
      await fs.rename(tmp, target);
      text = updated;
    }
  }
  if (o.validateMetadata) {
    const problems = await tools.validate(ebpf, text ?? '');
    if (problems.length) throw new IgError('build', `gadget metadata ${target} is invalid:\n${problems.map((r) => `  ${String(r)}`).join('\n')}`);
  }
  return text;
}
