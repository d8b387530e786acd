import YAML from 'yaml';
import { IgError } from '../../errors.js';
import type { GlobalArgs } from '../options.js';
import {
  ANN, MT, RegistryClient, Store, buildGadget, exportImages, importArchive, normalizeReference, parseReference,
  pullImage, pushImage, readResolved, resolveLocal, notFoundLocally, shortName,
  signImage, verifyImage, loadPrivateKey, loadPublicKey, keyId, isSignatureReference, signatureReference,
} from '../../oci/index.js';

type A = GlobalArgs & Record<string, unknown>;

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');

export function insecureList(a: GlobalArgs): string[] {
  return (a['insecure-registries'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
const openStore = (a: GlobalArgs) => Store.open(a['oci-store']);
const client = (a: GlobalArgs) => new RegistryClient({ authfile: a.authfile, insecureRegistries: insecureList(a) });

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

export async function pull(a: A): Promise<void> {
  const store = await openStore(a);
  const r = await pullImage(store, client(a), String(a.image), { progress: true });
  out(`Successfully pulled ${r.reference}@${r.descriptor.digest}`);
}

export async function push(a: A): Promise<void> {
  const store = await openStore(a);
  const r = await pushImage(store, client(a), String(a.image), { progress: true });
  out(`Successfully pushed ${r.reference}@${r.descriptor.digest}`);
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
  out(`Removed ${r.removed} unreferenced blob${r.removed === 1 ? '' : 's'} (${r.bytes} bytes)`);
}

export async function inspect(a: A): Promise<void> {
  const store = await openStore(a);
  const ref = normalizeReference(String(a.image));
  const d = await resolveLocal(store, ref);
  if (!d) throw notFoundLocally(ref);
  const r = await readResolved(store, ref, d);
  const m = r.manifest;
  const info: Record<string, unknown> = {
    reference: ref,
    digest: d.digest,
    mediaType: d.mediaType,
    manifestDigest: r.manifestDescriptor.digest,
    platforms: r.index?.manifests.map((x) => `${x.platform?.os ?? '?'}/${x.platform?.architecture ?? '?'}`) ?? [],
    annotations: { ...(r.index?.annotations ?? {}), ...(m.annotations ?? {}) },
    manifest: m,
  };
  if (m.config?.mediaType === MT.config) info.metadata = (await store.readBlob(m.config.digest, m.config.size)).toString('utf8');
  const layer = m.layers?.find((l) => l.mediaType === MT.ebpf);
  if (layer) {
    const elf = await store.readBlob(layer.digest, layer.size);
    const { describeGadgetObject } = await import('../../engine/describe.js');
    try {
      info.ebpf = describeGadgetObject(elf, typeof info.metadata === 'string' ? Buffer.from(info.metadata) : null);
    } catch (e) {
      // a damaged object: the manifest part is still worth showing
      info.ebpf = { error: (e as Error).message };
    }
  }
  if (a.output === 'json') out(JSON.stringify(info));
  else if (a.output === 'jsonpretty') out(JSON.stringify(info, null, 2));
  else {
    const { metadata, ...rest } = info;
    out(YAML.stringify(rest, { lineWidth: 0 }).trimEnd());
    if (typeof metadata === 'string') out(`---\n# gadget.yaml\n${metadata.trimEnd()}`);
  }
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
