// The code caches at the end of a start-up snapshot blob (scripts/build-snapshot.mjs).
//
// `node --build-snapshot` ends the blob with a V8 code cache for every one of node's own modules
// (324 on node 20: 2.8 MB of ig's 7.3 MB blob), and node reads, copies and indexes the whole blob
// on every start. A module the snapshot holds already loaded (the ~110 that node's bootstrap and
// ig's bundle loaded while the blob was built) is never compiled again in a run, so its cache is
// never read: dropLoadedModulesCache() rewrites the blob without those entries and keeps the
// others, for the modules a run may still load (net, tls and the like for a pull).
//
// The layout is node's SnapshotData::ToBlob (node 20): the V8 startup data (its int32 size, then
// V8's header, whose version string sits at byte 12), node's isolate and environment data, and
// last the code caches as a vector: u64 count, then per module {u64 id length, id, u64 data length,
// data}. It is accepted only where walking the entries ends exactly at the end of the file; on
// any mismatch the blob stays as it is (only bigger).
import { readFileSync, writeFileSync } from 'node:fs';

/** Where the blob's V8 startup data starts and how long it is, or undefined when not found. */
export function v8StartupData(bytes) {
  const at = bytes.subarray(0, 4096).indexOf(Buffer.from(process.versions.v8)) - 12;
  const size = at >= 20 ? bytes.readInt32LE(at - 4) : 0;
  return size > 0 && at + size <= bytes.length ? { at, size } : undefined;
}

/** The code-cache vector: its offset and each entry's module id and byte range, or undefined. */
function codeCaches(bytes, from) {
  const walk = (start) => {
    let p = start;
    const count = Number(bytes.readBigUInt64LE(p));
    p += 8;
    const entries = [];
    for (let i = 0; i < count; i++) {
      if (p + 8 > bytes.length) return undefined;
      const idLength = Number(bytes.readBigUInt64LE(p));
      if (idLength === 0 || idLength > 256 || p + 8 + idLength + 8 > bytes.length) return undefined;
      const id = bytes.toString('latin1', p + 8, p + 8 + idLength);
      if (!/^[\w./-]+$/.test(id)) return undefined;
      const dataLength = Number(bytes.readBigUInt64LE(p + 8 + idLength));
      const end = p + 8 + idLength + 8 + dataLength;
      if (end > bytes.length) return undefined;
      entries.push({ id, start: p, end });
      p = end;
    }
    return p === bytes.length ? { start, entries } : undefined;
  };
  for (let s = from; s + 8 <= bytes.length; s++) {
    const count = bytes.readBigUInt64LE(s);
    if (count === 0n || count > 4096n) continue;
    const found = walk(s);
    if (found) return found;
  }
  return undefined;
}

/**
 * Rewrite `blob` without the code caches of `loaded` (module ids, as in process.moduleLoadList's
 * "NativeModule ID" lines of the build). Returns the bytes dropped (0 when the layout is not found).
 */
export function dropLoadedModulesCache(blob, loaded) {
  const bytes = readFileSync(blob);
  const v8 = v8StartupData(bytes);
  const caches = v8 && codeCaches(bytes, v8.at + v8.size);
  if (!caches) return 0;
  const kept = caches.entries.filter((e) => !loaded.has(e.id));
  if (kept.length === caches.entries.length) return 0;
  const count = Buffer.alloc(8);
  count.writeBigUInt64LE(BigInt(kept.length));
  const out = Buffer.concat([bytes.subarray(0, caches.start), count, ...kept.map((e) => bytes.subarray(e.start, e.end))]);
  writeFileSync(blob, out);
  return bytes.length - out.length;
}
