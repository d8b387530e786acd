import { IgError } from '../errors.js';
import { DEFAULT_DOMAIN, OFFICIAL_PREFIX, parseReference, type Reference } from './reference.js';

/**
 * `--allowed-gadgets`: which images may run. Entries are compared after normalization, on the
 * reference the user asked for and the digest it resolved to, never as raw strings:
 * - `name@sha256:…` allows exactly that content of that repository;
 * - `name[:tag]` allows that tag (`trace_open` is ghcr.io/inspektor-gadget/gadget/trace_open:latest);
 * - `prefix*` allows every reference whose normalized form starts with the normalized prefix
 *   (`trace_*` → ghcr.io/inspektor-gadget/gadget/trace_…, `myorg/*` → ghcr.io/myorg/…).
 * The digest checked is the one the image was resolved to once (see verified.ts), and a
 * `name@sha256:…` reference only resolves to content of that repository, so a digest of another
 * gadget cannot borrow an allowed name.
 */
export interface AllowList {
  /** the entries as given, for messages */
  raw: string[];
  exact: Set<string>;
  prefixes: string[];
}

/**
 * The allow-list of a flag or config value. `undefined` (not given) means no policy; given but
 * naming nothing (`""`, `","`) is an error rather than a silent "allow all".
 */
export function parseAllowList(value: string | string[] | undefined, flag = '--allowed-gadgets'): AllowList | undefined {
  if (value === undefined) return undefined;
  const raw = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter(Boolean);
  if (raw.length === 0) {
    throw new IgError('usage', `${flag} names no image`, {
      hint: `give name@sha256:DIGEST, name:tag or a prefix ending in *, comma-separated; leave ${flag} out to allow every image`,
    });
  }
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of raw) {
    if (entry.endsWith('*')) {
      prefixes.push(normalizePrefix(entry.slice(0, -1)));
      continue;
    }
    let ref: Reference;
    try {
      ref = parseReference(entry);
    } catch (e) {
      throw new IgError('usage', `${flag} entry "${entry}" is not an image reference: ${(e as Error).message}`, {
        hint: 'give name@sha256:DIGEST, name:tag or a prefix ending in *',
      });
    }
    exact.add(ref.full);
  }
  return { raw, exact, prefixes };
}

/**
 * A reference prefix in the form parseReference would give the references it is meant to match:
 * a bare name gets the official prefix, a path without a registry host gets the default host.
 */
function normalizePrefix(p: string): string {
  if (p === '') return '';
  const slash = p.indexOf('/');
  if (slash < 0) {
    // `ghcr.io`, `localhost:5000`: a registry host; anything else is the start of a short name.
    return /[.:]/.test(p) || p === 'localhost' ? p : OFFICIAL_PREFIX + p;
  }
  const first = p.slice(0, slash);
  return /[.:]/.test(first) || first === 'localhost' ? p : `${DEFAULT_DOMAIN}/${p}`;
}

/** The forms under which a resolved image is matched: `name@digest`, `name:tag`, `name:tag@digest`. */
function candidates(ref: Reference, digest: string): string[] {
  const out = [`${ref.name}@${digest}`];
  if (ref.tag) out.push(`${ref.name}:${ref.tag}`, `${ref.name}:${ref.tag}@${digest}`);
  return out;
}

/** Refuse an image the allow-list does not name (no list: everything is allowed). */
export function checkAllowed(ref: Reference, digest: string, list: AllowList | undefined): void {
  if (!list) return;
  if (ref.digest && ref.digest !== digest) {
    throw new IgError('denied', `image ${ref.full} resolved to another digest (${digest})`, { hint: 'this is a bug in ig; report it' });
  }
  const forms = candidates(ref, digest);
  const ok = forms.some((f) => list.exact.has(f) || list.prefixes.some((p) => f.startsWith(p)));
  if (!ok) {
    throw new IgError('denied', `image ${ref.full} (${digest}) is not in --allowed-gadgets`, {
      hint: `allowed: ${list.raw.join(', ')}`,
    });
  }
}
