import { IgError } from '../errors.js';

/** Where a bare gadget name lives: `trace_open` → ghcr.io/inspektor-gadget/gadget/trace_open:latest. */
export const DEFAULT_DOMAIN = 'ghcr.io';
export const OFFICIAL_PREFIX = 'ghcr.io/inspektor-gadget/gadget/';
const DEFAULT_TAG = 'latest';

export interface Reference {
  /** Registry host[:port], e.g. ghcr.io, localhost:5000. */
  domain: string;
  /** Repository path inside the registry, e.g. inspektor-gadget/gadget/trace_open. */
  repository: string;
  tag?: string;
  digest?: string;
  /** domain/repository */
  name: string;
  /** Full normalized reference: name[:tag][@digest]; the tag defaults to latest when there is no digest. */
  full: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

function bad(ref: string, why: string): IgError {
  return new IgError('usage', `invalid image reference "${ref}": ${why}`, {
    hint: 'use NAME[:TAG][@sha256:DIGEST], e.g. trace_open, myorg/foo:v1 or localhost:5000/foo:v1',
  });
}

/** Parse and normalize an image reference, the way IG does (default domain ghcr.io, official prefix for bare names). */
export function parseReference(input: string): Reference {
  const ref = input.trim();
  if (ref === '') throw bad(input, 'empty');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(input, `"${digest}" is not a sha256 digest (sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(input, `"${tag}" is not a valid tag`);
  }
  if (rest === '') throw bad(input, 'no repository name');
  const parts = rest.split('/');
  let domain: string;
  let path: string[];
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first;
    path = parts.slice(1);
    if (!DOMAIN.test(domain)) throw bad(input, `"${domain}" is not a valid registry host`);
  } else {
    domain = DEFAULT_DOMAIN;
    path = parts.length === 1 ? ['inspektor-gadget', 'gadget', first] : parts;
  }
  for (const c of path) {
    if (!COMPONENT.test(c)) {
      throw bad(input, /[A-Z]/.test(c) ? `repository names must be lowercase ("${c}")` : `"${c}" is not a valid path component`);
    }
  }
  if (!tag && !digest) tag = DEFAULT_TAG;
  const repository = path.join('/');
  const name = `${domain}/${repository}`;
  const full = name + (tag ? `:${tag}` : '') + (digest ? `@${digest}` : '');
  if (full.length > 512) throw bad(input, 'too long');
  return { domain, repository, tag, digest, name, full };
}

export function normalizeReference(ref: string): string {
  return parseReference(ref).full;
}

/** How `image list` shows a name: the official prefix is stripped. */
export function shortName(name: string): string {
  return name.startsWith(OFFICIAL_PREFIX) ? name.slice(OFFICIAL_PREFIX.length) : name;
}
