import { IgError } from '../../errors.js';
import type { GlobalArgs } from '../options.js';
import {
  ANN, RegistryClient, Store, buildGadget, exportImages, importArchive, normalizeReference, parseReference,
  pullImage, pushImage, resolveLocal, notFoundLocally, shortName,
  signImage, verifyImage, loadPrivateKey, loadPublicKey, keyId, isSignatureReference, signatureReference,
} from '../../oci/index.js';
import { withSignals } from '../../oci/interrupt.js';

type A = GlobalArgs & Record<string, unknown>;

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');

export function insecureList(a: GlobalArgs): string[] {
  return (a['insecure-registries'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
const openStore = (a: GlobalArgs, signal?: AbortSignal) => Store.open(a['oci-store'], { signal });
const client = (a: GlobalArgs, signal?: AbortSignal) => new RegistryClient({ authfile: a.authfile, insecureRegistries: insecureList(a), signal });

export async function build(a: A): Promise<void> {
  const r = await buildGadget({
    dir: String(a.path ?? '.'),
    tag: a.tag as string | undefined,
    file: a.file as string | undefined,
    store: a['oci-store'],
    updateMetadata: Boolean(a['update-metadata']),
    validateMetadata: Boolean(a['validate-metadata']),
    platforms: a.platform as string | undefined,
    metadataTools: a['update-metadata'] || a['validate-metadata'] ? await import('../../engine/describe.js').then((m) => ({ update: m.updateMetadata, validate: m.validateMetadata })) : undefined,
  });
  out(`Successfully built ${r.reference}@${r.digest}`);
}

// Ctrl-C ends a transfer through its cleanup (the partial download removed), not mid-write.
export async function pull(a: A): Promise<void> {
  const r = await withSignals(async (signal) => pullImage(await openStore(a, signal), client(a, signal), String(a.image), { progress: true }));
  out(`Successfully pulled ${r.reference}@${r.descriptor.digest}`);
}

export async function push(a: A): Promise<void> {
  const dest = a.destination === undefined ? String(a.image) : String(a.destination);
  const src = String(a.image);
  const r = await withSignals(async (signal) => pushImage(await openStore(a, signal), client(a, signal), src, { progress: true, destination: dest }));
  out(`Successfully pushed ${r.reference}@${r.descriptor.digest}${r.source !== r.reference ? ` (the local ${shortName(r.source)})` : ''}`);
}

function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  const units: [number, string][] = [[31536000, 'year'], [2592000, 'month'], [86400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [n, u] of units) if (s >= n) return `${Math.floor(s / n)} ${u}${Math.floor(s / n) > 1 ? 's' : ''} ago`;
  return s < 10 ? 'just now' : `${s} seconds ago`;
}

export async function list(a: A): Promise<void> {
  const store = await openStore(a);
  const rows = (await store.listTags()).filter((t) => !isSignatureReference(t.reference)).map((t) => {
    let repository = t.reference;
    let tag = '<none>';
    try {
      const r = parseReference(t.reference);
      repository = r.name;
      tag = r.tag ?? '<none>';
    } catch {
      /* keep the raw name */
    }
    return { repository: shortName(repository), tag, digest: t.descriptor.digest, created: t.descriptor.annotations?.[ANN.created] ?? '' };
  });
  rows.sort((x, y) => (x.repository === y.repository ? x.tag.localeCompare(y.tag) : x.repository.localeCompare(y.repository)));
  if (a.output === 'json') {
    out(JSON.stringify(rows));
    return;
  }
  const table = [['REPOSITORY', 'TAG', 'DIGEST', 'CREATED'], ...rows.map((r) => [r.repository, r.tag, a.trunc === false || a['no-trunc'] === true ? r.digest : r.digest.slice(7, 19), ago(r.created)])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  out(table.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n'));
}

export async function tag(a: A): Promise<void> {
  const store = await openStore(a);
  const src = normalizeReference(String(a.src));
  const dst = parseReference(String(a.dst));
  if (dst.digest) throw new IgError('usage', 'the destination of `ig image tag` cannot contain a digest');
  const d = await resolveLocal(store, src);
  if (!d) throw notFoundLocally(src);
  const created = d.annotations?.[ANN.created];
  await store.setTag(dst.full, { mediaType: d.mediaType, digest: d.digest, size: d.size }, created ? { [ANN.created]: created } : {});
  out(`Successfully tagged with ${dst.full}@${d.digest}`);
}

export async function remove(a: A): Promise<void> {
  const store = await openStore(a);
  const refs = (a.images as string[]).map((r) => normalizeReference(r));
  let needGc = false;
  for (const r of refs) {
    const d = await store.removeTag(r);
    if (!d) throw notFoundLocally(r);
    const shared = (await store.listTags()).some((t) => t.descriptor.digest === d.digest);
    if (!shared) {
      needGc = true;
      await store.removeTag(signatureReference(parseReference(r), d.digest)); // its signatures go with it
    }
    out(shared ? `Untagged ${r} (its content is still tagged by another name)` : `Successfully removed ${r}`);
  }
  if (needGc) await store.gc();
}

export async function prune(a: A): Promise<void> {
  const store = await openStore(a);
  const r = await store.gc();
  const partial = r.partial ? ` and ${r.partial} partial download${r.partial === 1 ? '' : 's'}` : '';
  out(`Removed ${r.removed} unreferenced blob${r.removed === 1 ? '' : 's'}${partial} (${r.bytes} bytes)`);
}

export async function exportCmd(a: A): Promise<void> {
  const args = a.args as string[];
  if (args.length < 2 || !args[args.length - 1]!.endsWith('.tar')) {
    throw new IgError('usage', 'usage: ig image export IMAGE… FILE.tar', { hint: 'the last argument is the tar file to write; it must end in .tar' });
  }
  const store = await openStore(a);
  const file = args[args.length - 1]!;
  const r = await exportImages(store, args.slice(0, -1), file);
  out(`Successfully exported ${r.images} image${r.images === 1 ? '' : 's'} to ${file}`);
}

export async function importCmd(a: A): Promise<void> {
  const store = await openStore(a);
  const r = await importArchive(store, String(a.file));
  for (const i of r) out(i.reference ? `Successfully imported ${i.reference}@${i.digest}` : `Imported untagged ${i.digest}`);
}

export async function sign(a: A): Promise<void> {
  const store = await openStore(a);
  const key = loadPrivateKey(String(a.key));
  const r = await signImage(store, normalizeReference(String(a.image)), key);
  out(`Signed ${normalizeReference(String(a.image))}@${r.digest} with key ${keyId(key)} (signature ${r.signature})`);
}

export async function verify(a: A): Promise<void> {
  const files = (a['public-key'] as string[] | undefined) ?? [];
  if (files.length === 0) throw new IgError('usage', 'ig image verify needs --public-key FILE', { hint: 'the PEM public key of the signer, e.g. cosign.pub' });
  const store = await openStore(a);
  const r = await verifyImage(store, normalizeReference(String(a.image)), files.map(loadPublicKey), a.offline ? undefined : client(a));
  out(`Verified ${r.reference}@${r.digest}: signed by key ${r.keyId}`);
}

export async function types(a: A): Promise<void> {
  const { runConfig } = await import('../../engine/config.js');
  const { prepareGadget, describeGadget } = await import('../../engine/run.js');
  const { gadgetTypes } = await import('../../engine/types.js');
  const { ociOptionsFrom } = await import('../oci-args.js');
  const image = String(a.image);
  const cfg = runConfig({ image, pull: 'missing', oci: ociOptionsFrom(a) });
  const p = await prepareGadget(cfg);
  try {
    const text = gadgetTypes(describeGadget(p, cfg), shortName(parseReference(p.image.reference).name).split("/").pop() ?? image);
    if (a['output-file']) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(String(a['output-file']), text);
    } else out(text);
  } finally {
    await p.close();
  }
}
