/**
 * The daemon's own access policy: what its clients may run and how much of the node they may
 * hold. Set only by whoever starts `ig daemon` (its flags, or a `--policy` file only root may
 * write); nothing in a request can widen it. Every request (RunGadget, GetGadgetInfo, headless
 * instances) passes through it:
 *   - the image's registry must be allowed, and the pull the client asks for is capped by the
 *     daemon's pull policy (checked before anything is pulled);
 *   - the allow-list and the required signatures go to the engine's admission (engine/admission.ts)
 *     as the run's own `allowedGadgets` / `publicKeys` / `verifyImage`, so they are checked on the
 *     digest that is loaded, exactly as for a local `ig run`;
 *   - sessions and loaded programs are counted per client (see limits.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { IgError } from '../errors.js';
import type { PullPolicy } from '../oci/image.js';
import { parseReference } from '../oci/reference.js';
import { loadPublicKey } from '../oci/signing.js';
import { splitCommaList } from '../text/comma-list.js';
import type { RunConfig } from '../engine/config.js';

export interface DaemonPolicy {
  /** references, `name@sha256:…` digests or `prefix*` allowed to run; empty = any image */
  allowedGadgets: string[];
  /** every image must carry a signature by one of `publicKeys` */
  verifyImage: boolean;
  /** PEM public key files (read and checked when the daemon starts) */
  publicKeys: string[];
  /** registry hosts (`ghcr.io`, `localhost:5000`) images may come from; undefined = any */
  allowedRegistries?: string[];
  /** the most a client may ask: never (only images already in the store) < missing < always */
  pull: PullPolicy;
  /** concurrent runs, gadget-info calls and headless instances of one client */
  maxSessionsPerClient: number;
  /** eBPF programs one client's sessions may hold loaded at once */
  maxProgramsPerClient: number;
}

/** Safe for a node by default: a client holds at most 8 sessions and 64 programs (30 sessions once held 180 programs and 1.1 GB). */
export const DEFAULT_POLICY: DaemonPolicy = {
  allowedGadgets: [],
  verifyImage: false,
  publicKeys: [],
  pull: 'missing',
  maxSessionsPerClient: 8,
  maxProgramsPerClient: 64,
};

/** The policy's keys as flags and as `--policy` file keys (the same spelling). */
const POLICY_KEYS = ['allowed-gadgets', 'verify-image', 'public-key', 'allowed-registries', 'pull', 'max-sessions-per-client', 'max-programs-per-client'] as const;
type PolicyKey = (typeof POLICY_KEYS)[number];

const PULL_ORDER: PullPolicy[] = ['never', 'missing', 'always'];

function list(key: string, v: unknown): string[] {
  const items = (Array.isArray(v) ? v : [v]).flatMap((x) => splitCommaList(String(x))).map((s) => s.trim());
  const named = items.filter(Boolean);
  if (named.length === 0) {
    // `--allowed-gadgets ","` must not turn the check off
    throw new IgError('usage', `--${key} names nothing`, { hint: `give a comma list, or leave --${key} out` });
  }
  return named;
}

function count(key: string, v: unknown): number {
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < 1) throw new IgError('usage', `--${key}: "${String(v)}" is not a positive integer`);
  return n;
}

function bool(key: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new IgError('usage', `--${key}: "${String(v)}" is not true or false`);
}

/** A policy file may only come from the daemon's operator: owned by root (or the daemon's user) and writable by no one else. */
function readPolicyFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    const st = statSync(file);
    const me = process.geteuid?.() ?? 0;
    if (st.uid !== 0 && st.uid !== me) {
      throw new IgError('usage', `policy file ${file} belongs to uid ${st.uid}, not to root`, { hint: `chown root ${file}` });
    }
    if (st.mode & 0o022) {
      throw new IgError('usage', `policy file ${file} is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'}`, {
        hint: `only the daemon's operator may set its policy: chmod go-w ${file}`,
      });
    }
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof IgError) throw e;
    throw new IgError('usage', `cannot read policy file ${file}: ${(e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new IgError('usage', `policy file ${file} is not YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new IgError('usage', `policy file ${file} is not a mapping of keys to values`);
  const unknown = Object.keys(doc).filter((k) => !(POLICY_KEYS as readonly string[]).includes(k));
  if (unknown.length) {
    throw new IgError('usage', `policy file ${file}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, { hint: `known keys: ${POLICY_KEYS.join(', ')}` });
  }
  return doc as Record<string, unknown>;
}

/**
 * The policy from a `--policy` file and the daemon's flags (a flag wins over the file), every
 * value checked and every key file read now: a daemon with a policy it cannot enforce does not start.
 */
export function daemonPolicy(flags: Partial<Record<PolicyKey, unknown>>, file?: string): DaemonPolicy {
  const given: Partial<Record<PolicyKey, unknown>> = { ...(file ? readPolicyFile(file) : {}) };
  for (const k of POLICY_KEYS) if (flags[k] !== undefined) given[k] = flags[k];
  const p: DaemonPolicy = { ...DEFAULT_POLICY };
  if (given['allowed-gadgets'] !== undefined) {
    p.allowedGadgets = list('allowed-gadgets', given['allowed-gadgets']);
    for (const a of p.allowedGadgets) {
      if (!a.endsWith('*') && !safeParse(a)) {
        throw new IgError('usage', `--allowed-gadgets: "${a}" is not an image reference, name@sha256:DIGEST or prefix*`);
      }
    }
  }
  if (given['public-key'] !== undefined) p.publicKeys = list('public-key', given['public-key']);
  p.verifyImage = given['verify-image'] === undefined ? p.publicKeys.length > 0 : bool('verify-image', given['verify-image']);
  if (p.verifyImage && p.publicKeys.length === 0) {
    throw new IgError('usage', '--verify-image needs at least one --public-key', { hint: "give the signers' PEM public keys" });
  }
  for (const k of p.publicKeys) loadPublicKey(k);
  if (given['allowed-registries'] !== undefined) p.allowedRegistries = list('allowed-registries', given['allowed-registries']);
  if (given.pull !== undefined) {
    const v = String(given.pull) as PullPolicy;
    if (!PULL_ORDER.includes(v)) throw new IgError('usage', `--pull: "${v}" is not never, missing or always`);
    p.pull = v;
  }
  if (given['max-sessions-per-client'] !== undefined) p.maxSessionsPerClient = count('max-sessions-per-client', given['max-sessions-per-client']);
  if (given['max-programs-per-client'] !== undefined) p.maxProgramsPerClient = count('max-programs-per-client', given['max-programs-per-client']);
  return p;
}

function safeParse(r: string): boolean {
  try {
    parseReference(r);
    return true;
  } catch {
    return false;
  }
}

/** What the policy makes of a client's image and pull, before anything is pulled. */
export interface ImageRequest {
  image: string;
  /** the client's pull, capped by the daemon's */
  pull: PullPolicy;
  /** set when the cap lowered what the client asked for */
  capped?: string;
}

export function checkImageRequest(policy: DaemonPolicy, image: string, asked: PullPolicy): ImageRequest {
  if (!PULL_ORDER.includes(asked)) throw new IgError('usage', `--pull: "${asked}" is not always, missing or never`);
  const ref = parseReference(image);
  if (policy.allowedRegistries && !policy.allowedRegistries.includes(ref.domain)) {
    throw new IgError('denied', `this daemon does not run images from ${ref.domain} (${ref.full})`, {
      hint: `its allowed registries are ${policy.allowedRegistries.join(', ')}`,
    });
  }
  const pull = PULL_ORDER[Math.min(PULL_ORDER.indexOf(asked), PULL_ORDER.indexOf(policy.pull))]!;
  const capped = pull !== asked ? `this daemon's pull policy is "${policy.pull}": pulling as "${pull}"` : undefined;
  return { image, pull, capped };
}

/** The admission fields of a run on this daemon: the daemon's, never the client's. */
export function admissionFields(policy: DaemonPolicy): Pick<RunConfig, 'allowedGadgets' | 'publicKeys' | 'verifyImage'> {
  // an empty list in the policy means any image
  return { allowedGadgets: policy.allowedGadgets.length ? policy.allowedGadgets : undefined, publicKeys: policy.publicKeys, verifyImage: policy.verifyImage };
}
