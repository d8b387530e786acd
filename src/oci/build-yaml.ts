/**
 * build.yaml, IG's keys: `ebpfsource` (default program.bpf.c), `metadata` (default gadget.yaml), `wasm`
 * (unset by default). Unlike IG, which ignores unknown keys, ig refuses them so a typo is not silently a
 * different build; `cflags` gets IG's own reason for dropping it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { IgError } from '../errors.js';
import { refuseFlagLike } from './build-paths.js';

const DEFAULT_EBPF_SOURCE = 'program.bpf.c';
const DEFAULT_METADATA = 'gadget.yaml';
const KNOWN_KEYS = ['ebpfsource', 'metadata', 'wasm'] as const;

export interface BuildYaml {
  ebpfsource: string;
  metadata: string;
  wasm?: string;
  /** Whether ebpfsource was set explicitly (then a missing file is an error, as in IG). */
  ebpfsourceGiven: boolean;
  /** Where it was read from, for messages (undefined: no build.yaml). */
  file?: string;
}

export async function readBuildYaml(dir: string, file?: string): Promise<BuildYaml> {
  const p = file ? path.resolve(file) : path.join(dir, 'build.yaml');
  const out: BuildYaml = { ebpfsource: DEFAULT_EBPF_SOURCE, metadata: DEFAULT_METADATA, ebpfsourceGiven: false };
  let text: string;
  try {
    // DIR's own build.yaml is the untrusted directory's: it must not be a link to a host file (whose
    // contents would then leak through the parse errors). A -f file is the user's own choice.
    if (!file) {
      const real = await fs.realpath(p);
      if (path.dirname(real) !== dir) throw new IgError('build', `${p} is a symlink leading outside the gadget directory (to ${real})`, { hint: 'copy the file into the gadget directory instead of linking to it' });
    }
    text = await fs.readFile(p, 'utf8');
  } catch (e) {
    if (e instanceof IgError) throw e;
    if (!file && (e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw new IgError('not-found', `cannot read build file ${p}: ${(e as Error).message}`);
  }
  out.file = p;
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
      hint: 'Inspektor Gadget removed it because it allowed injecting commands into the build; put #define/#include in the source instead',
    });
  }
  for (const k of Object.keys(o)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(k)) throw new IgError('build', `${p}: unknown key "${k}"`, { hint: `known keys: ${KNOWN_KEYS.join(', ')}` });
  }
  for (const k of KNOWN_KEYS) {
    if (!(k in o)) continue;
    if (typeof o[k] !== 'string' || o[k] === '') throw new IgError('build', `${p}: "${k}" must be a file name`);
    refuseFlagLike(o[k] as string, k);
  }
  if (typeof o.ebpfsource === 'string') {
    out.ebpfsource = o.ebpfsource;
    out.ebpfsourceGiven = true;
  }
  if (typeof o.metadata === 'string') out.metadata = o.metadata;
  if (typeof o.wasm === 'string') out.wasm = o.wasm;
  return out;
}
