import { createHash } from 'node:crypto';
import type { Descriptor, ImageIndex, ImageManifest } from './types.js';

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

function sortedRecord(r: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!r) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = String(r[k]);
  return Object.keys(out).length ? out : undefined;
}

/** A descriptor with keys in a fixed order and sorted annotations. */
export function canonicalDescriptor(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls?.length) out.urls = [...d.urls];
  const ann = sortedRecord(d.annotations);
  if (ann) out.annotations = ann;
  if (d.platform) {
    out.platform = { architecture: d.platform.architecture, os: d.platform.os };
    if (d.platform.variant) out.platform.variant = d.platform.variant;
  }
  if (d.artifactType) out.artifactType = d.artifactType;
  return out;
}

/**
 * Deterministic bytes of a manifest: fixed key order (Go struct order, as ORAS writes them),
 * sorted annotation keys, no whitespace. Same input → same bytes → same digest.
 */
export function manifestBytes(m: ImageManifest): Buffer {
  const out: Record<string, unknown> = { schemaVersion: 2 };
  if (m.mediaType) out.mediaType = m.mediaType;
  if (m.artifactType) out.artifactType = m.artifactType;
  out.config = canonicalDescriptor(m.config);
  out.layers = m.layers.map(canonicalDescriptor);
  if (m.subject) out.subject = canonicalDescriptor(m.subject);
  const ann = sortedRecord(m.annotations);
  if (ann) out.annotations = ann;
  return Buffer.from(JSON.stringify(out));
}

export function indexBytes(i: ImageIndex): Buffer {
  const out: Record<string, unknown> = { schemaVersion: 2 };
  if (i.mediaType) out.mediaType = i.mediaType;
  if (i.artifactType) out.artifactType = i.artifactType;
  out.manifests = i.manifests.map(canonicalDescriptor);
  const ann = sortedRecord(i.annotations);
  if (ann) out.annotations = ann;
  return Buffer.from(JSON.stringify(out));
}
