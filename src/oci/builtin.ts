/**
 * The built-in gadgets a packaged ig carries (the single executable, and the agent image built from
 * it): an OCI layout at <packageRoot>/builtin-gadgets, written by scripts/build-sea.mjs. A checkout
 * has no such folder, so there this is a no-op and references resolve as before.
 *
 * A reference missing from the user's store is copied from it on first use — that one image only,
 * so a tag the user made of another name is never replaced — and from then on it is an ordinary
 * local image (`ig image list` shows it). A fresh machine or pod runs `ig run trace_open` with no
 * registry.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import { ANN } from './mediatypes.js';
import { Store } from './store.js';
import type { Descriptor } from './types.js';

function builtinStorePath(): string {
  return path.join(packageRoot, 'builtin-gadgets');
}

/** Copy `reference` (full, normalized) from the built-in layout into `store`; undefined when it is not built in. */
export async function copyBuiltin(store: Store, reference: string): Promise<Descriptor | undefined> {
  const dir = builtinStorePath();
  if (!existsSync(path.join(dir, 'index.json'))) return undefined;
  const from = await Store.open(dir);
  const desc = await from.resolveTag(reference);
  if (!desc) return undefined;
  for (const digest of await from.reachable(desc)) {
    if (!(await store.hasBlob(digest))) await store.writeBlob(await from.readBlob(digest), digest);
  }
  const created = desc.annotations?.[ANN.created];
  await store.setTag(reference, desc, created ? { [ANN.created]: created } : {});
  return store.resolveTag(reference);
}
