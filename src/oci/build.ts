import { execFile } from 'node:child_process';
import { promises as fs, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { IgError } from '../errors.js';
import { indexBytes, manifestBytes, sha256 } from './json.js';
import { ANN, EMPTY_DIGEST, MT } from './mediatypes.js';
import { parseReference } from './reference.js';
import { Store } from './store.js';
import { entryAnnotations } from './transfer.js';
import type { Descriptor } from './types.js';

const run = promisify(execFile);

/** The repository root: headers, vmlinux.h and libbpf's headers are compiled against from there. */
export const repoRoot = packageRoot;

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
}

export interface BuildResult {
  reference: string;
  digest: string;
  manifestDigest: string;
}

const KNOWN_KEYS = ['ebpfsource', 'metadata', 'wasm'];

interface BuildYaml {
  ebpfsource: string;
  metadata: string;
  wasm?: string;
}

async function readBuildYaml(dir: string, file?: string): Promise<BuildYaml> {
  const p = file ? path.resolve(file) : path.join(dir, 'build.yaml');
  let text: string | undefined;
  try {
    text = await fs.readFile(p, 'utf8');
  } catch (e) {
    if (file || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw new IgError('not-found', `cannot read build file ${p}: ${(e as Error).message}`);
  }
  const out: BuildYaml = { ebpfsource: 'program.bpf.c', metadata: 'gadget.yaml' };
  if (text === undefined) return out;
  let y: unknown;
  try {
    y = YAML.parse(text) ?? {};
  } catch (e) {
    throw new IgError('build', `${p} is not valid YAML: ${(e as Error).message}`);
  }
  if (typeof y !== 'object' || y === null || Array.isArray(y)) throw new IgError('build', `${p} must be a YAML mapping`);
  const o = y as Record<string, unknown>;
  if ('cflags' in o) {
    throw new IgError('build', `${p}: the "cflags" key is not supported`, {
      hint: 'Inspektor Gadget removed it (it allowed shell injection); put #define/#include in the source instead',
    });
  }
  for (const k of Object.keys(o)) {
    if (!KNOWN_KEYS.includes(k)) throw new IgError('build', `${p}: unknown key "${k}"`, { hint: `known keys: ${KNOWN_KEYS.join(', ')}` });
  }
  for (const k of KNOWN_KEYS) {
    if (k in o && typeof o[k] !== 'string') throw new IgError('build', `${p}: "${k}" must be a string (a path)`);
  }
  if (typeof o.ebpfsource === 'string') out.ebpfsource = o.ebpfsource;
  if (typeof o.metadata === 'string') out.metadata = o.metadata;
  if (typeof o.wasm === 'string') out.wasm = o.wasm;
  return out;
}

/** RFC 3339 creation time; SOURCE_DATE_EPOCH makes builds reproducible. */
export function createdTime(): string {
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
    return (JSON.parse(await fs.readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
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

async function ensurePrereqs(): Promise<void> {
  const steps: [string, string][] = [
    [path.join(repoRoot, 'bpf', 'vmlinux', 'x86', 'vmlinux.h'), path.join(repoRoot, 'bpf', 'gen-vmlinux.sh')],
    [path.join(repoRoot, 'native', 'vendor', 'include', 'bpf', 'bpf_helpers.h'), path.join(repoRoot, 'native', 'fetch-libbpf.sh')],
  ];
  for (const [file, script] of steps) {
    if (existsSync(file)) continue;
    try {
      await run('bash', [script], { cwd: repoRoot, maxBuffer: 16 << 20 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new IgError('build', `${path.relative(repoRoot, file)} is missing and ${path.relative(repoRoot, script)} failed: ${(err.stderr || err.message).trim()}`);
    }
  }
}


async function compile(dir: string, source: string, clang: string, strip: string): Promise<Buffer> {
  await ensurePrereqs();
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ig-build-'));
  const obj = path.join(tmp, 'program.o');
  try {
    const args = [
      '-target', 'bpf', '-O2', '-g', '-D__TARGET_ARCH_x86',
      '-I', path.join(repoRoot, 'bpf', 'include'),
      '-I', path.join(repoRoot, 'bpf', 'vmlinux', 'x86'),
      '-I', path.join(repoRoot, 'native', 'vendor', 'include'),
      '-c', source, '-o', obj,
    ];
    try {
      // cwd = the gadget directory and a relative source path: the object does not depend on where DIR lives.
      await run(clang, args, { cwd: dir, maxBuffer: 64 << 20 });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === 'ENOENT') throw new IgError('build', `compiler ${clang} not found`, { hint: 'install it: apt-get install clang-19 llvm-19' });
      const lines = (err.stderr ?? err.message).trim().split('\n');
      const shown = lines.length > 40 ? [...lines.slice(0, 40), `… (${lines.length - 40} more lines)`] : lines;
      throw new IgError('build', `compiling ${path.join(dir, source)} failed:\n${shown.join('\n')}`, { hint: 'fix the errors above' });
    }
    try {
      await run(strip, ['-g', obj], { maxBuffer: 16 << 20 });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      throw new IgError('build', err.code === 'ENOENT' ? `${strip} not found` : `${strip} failed: ${(err.stderr ?? err.message).trim()}`, {
        hint: err.code === 'ENOENT' ? 'install it: apt-get install llvm-19' : undefined,
      });
    }
    return await fs.readFile(obj);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Compile a gadget and package it into the store: config = gadget.yaml (or the empty descriptor), one layer
 * with the eBPF object, a manifest for amd64 and an index with that one entry. Deterministic: the same
 * sources and SOURCE_DATE_EPOCH give the same index digest.
 */
export async function buildGadget(o: BuildOptions): Promise<BuildResult> {
  const dir = path.resolve(o.dir);
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new IgError('not-found', `gadget directory ${dir} not found`, { hint: 'pass the directory holding program.bpf.c and gadget.yaml' });
  const by = await readBuildYaml(dir, o.file);
  const source = by.ebpfsource;
  if (!existsSync(path.resolve(dir, source))) {
    throw new IgError('not-found', `eBPF source ${path.resolve(dir, source)} not found`, { hint: 'set `ebpfsource:` in build.yaml' });
  }
  let ebpf = await compile(dir, source, o.clang ?? 'clang-19', o.strip ?? 'llvm-strip-19');

  const metaPath = path.resolve(dir, by.metadata);
  let metaText: string | undefined = await fs.readFile(metaPath, 'utf8').catch(() => undefined);
  if (o.updateMetadata || o.validateMetadata) {
    const tools = o.metadataTools;
    if (!tools) throw new IgError('internal', 'building with --update-metadata/--validate-metadata needs the metadata tools');
    if (o.updateMetadata) {
      const text = await tools.update(ebpf, metaText ?? '');
      if (text !== metaText) {
        await fs.writeFile(metaPath, text);
        metaText = text;
      }
    }
    if (o.validateMetadata) {
      const problems = await tools.validate(ebpf, metaText ?? '');
      if (problems.length) throw new IgError('build', `gadget metadata ${metaPath} is invalid:\n${problems.map((r) => `  ${String(r)}`).join('\n')}`);
    }
  }
  let meta: Record<string, unknown> | undefined;
  if (metaText !== undefined) {
    try {
      const y = YAML.parse(metaText);
      meta = y && typeof y === 'object' ? (y as Record<string, unknown>) : undefined;
    } catch (e) {
      throw new IgError('build', `${metaPath} is not valid YAML: ${(e as Error).message}`);
    }
  }
  let wasm: Buffer | undefined;
  if (by.wasm) {
    if (!by.wasm.endsWith('.wasm')) throw new IgError('unsupported', `building wasm from source (${by.wasm}) is not supported; point "wasm:" at a prebuilt .wasm file`);
    wasm = await fs.readFile(path.resolve(dir, by.wasm));
  }

  const ref = parseReference(o.tag ?? (path.basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '_').replace(/^[^a-z0-9]+/, '') || 'gadget'));
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
  ebpf = Buffer.from(ebpf);
  const layers: Descriptor[] = [{ mediaType: MT.ebpf, digest: await store.writeBlob(ebpf), size: ebpf.length }];
  if (wasm) layers.push({ mediaType: MT.wasm, digest: await store.writeBlob(wasm), size: wasm.length });
  const manifest = manifestBytes({ schemaVersion: 2, mediaType: MT.manifest, artifactType: MT.artifact, config, layers, annotations });
  const manifestDigest = await store.writeBlob(manifest);
  const index = indexBytes({
    schemaVersion: 2,
    mediaType: MT.index,
    manifests: [{ mediaType: MT.manifest, digest: manifestDigest, size: manifest.length, annotations, platform: { architecture: 'amd64', os: 'linux' } }],
    annotations,
  });
  const digest = await store.writeBlob(index);
  if (digest !== sha256(index)) throw new IgError('internal', 'index digest mismatch');
  await store.setTag(ref.full, { mediaType: MT.index, digest, size: index.length }, entryAnnotations({ annotations }));
  return { reference: ref.full, digest, manifestDigest };
}
