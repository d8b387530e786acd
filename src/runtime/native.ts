/**
 * The one place the runtime touches the addon, so a missing build is one clear
 * error instead of a module-not-found stack trace.
 */
import path from 'node:path';
import { packageRoot } from '../paths.js';
import { IgError } from '../errors.js';
import type * as Native from '../../native/index.js';

let cached: typeof Native | undefined;

/** Where the addon is (a helper process loads it too: the tc guard). */
export function addonPath(): string {
  return path.join(packageRoot, 'native', 'build', 'ig_native.node');
}

export function native(): typeof Native {
  if (cached) return cached;
  try {
    // process.dlopen, not require(): the CommonJS loader's path resolution and realpath cost
    // ~2.5 ms of each start, for a file whose absolute path is known
    const addon = { exports: {} as typeof Native };
    process.dlopen(addon, addonPath());
    cached = addon.exports;
  } catch (err) {
    throw new IgError('internal', `the native addon is not built (${(err as Error).message.split('\n')[0]})`, {
      hint: 'run `npm run build` (or the README set-up command) first',
      cause: err,
    });
  }
  return cached;
}
