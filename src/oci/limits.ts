import { IgError } from '../errors.js';
import { CONFIG_TYPES, INDEX_TYPES, LAYER_TYPES, MANIFEST_TYPES, SIMPLE_SIGNING } from './mediatypes.js';

/**
 * How large each kind of content may be. Input decides every size we allocate for (a descriptor's
 * `size`, a Content-Length, a file in the store), so each is checked against these before
 * anything is read, and reads stop at them: a hostile registry serving a 3 GiB manifest costs
 * us 4 MiB, not 9 GB.
 */
/** Manifests and indexes: the limit Docker distribution itself enforces (maxManifestBodySize). */
export const MAX_MANIFEST_BYTES = 4 << 20;
/** gadget.yaml and other configs. */
export const MAX_CONFIG_BYTES = 4 << 20;
/** A cosign simple-signing payload (a few hundred bytes in practice). */
export const MAX_SIGNATURE_BYTES = 1 << 20;
/** eBPF objects, wasm modules, btfgen archives. */
export const MAX_LAYER_BYTES = 512 << 20;
/** The store's own index.json (about 300 bytes a tag). */
export const MAX_STORE_INDEX_BYTES = 64 << 20;

/** The most a blob of this media type may hold, and what to call it in an error. */
function limitFor(mediaType: string): { max: number; kind: string } {
  if (INDEX_TYPES.includes(mediaType) || MANIFEST_TYPES.includes(mediaType)) return { max: MAX_MANIFEST_BYTES, kind: 'manifest' };
  if (mediaType === SIMPLE_SIGNING) return { max: MAX_SIGNATURE_BYTES, kind: 'signature payload' };
  if (LAYER_TYPES.includes(mediaType)) return { max: MAX_LAYER_BYTES, kind: 'layer' };
  if (CONFIG_TYPES.includes(mediaType)) return { max: MAX_CONFIG_BYTES, kind: 'config' };
  return { max: MAX_CONFIG_BYTES, kind: 'blob' };
}

export function mib(n: number): string {
  return n >= 1 << 20 ? `${Math.round((n / (1 << 20)) * 10) / 10} MiB` : `${n} bytes`;
}

/** Refuse a descriptor whose announced size is not a size, or too large for its kind. */
export function checkDescriptorSize(d: { mediaType: string; size: number }, what: string): void {
  const { max, kind } = limitFor(d.mediaType);
  if (!Number.isSafeInteger(d.size) || d.size < 0) {
    throw new IgError('invalid-image', `${what} has an invalid size ${JSON.stringify(d.size)}`);
  }
  if (d.size > max) {
    throw new IgError('invalid-image', `${what} announces ${d.size} bytes, more than a ${kind} may have (${mib(max)})`, {
      hint: 'refusing to download it; the image or the registry is not what it should be',
    });
  }
}

/**
 * Read a response body, refusing one longer than `max` as soon as it says so (Content-Length)
 * or grows past it; memory stays bounded by `max`.
 */
export async function readBounded(res: Response, max: number, what: string): Promise<Buffer> {
  const tooLarge = (n: number | string) =>
    new IgError('registry', `${what} is larger than ${mib(max)} (${n} bytes)`, {
      hint: 'refusing to read it; a registry should never serve that much for this',
    });
  const announced = Number(res.headers.get('content-length'));
  if (Number.isFinite(announced) && announced > max) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge(announced);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      if (n > max) throw tooLarge(`at least ${n}`);
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.length));
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  }
  return Buffer.concat(chunks, n);
}
