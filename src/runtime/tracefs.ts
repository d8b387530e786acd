import { existsSync } from 'node:fs';
import { childProcess } from './child-process.js';
import { IgError } from '../errors.js';

const TRACEFS = '/sys/kernel/tracing';
/** where tracefs is found: its own mount point, or under debugfs (older systems) */
export const TRACEFS_ROOTS = [TRACEFS, '/sys/kernel/debug/tracing'];

/**
 * Tracepoint attach looks up event ids under tracefs, which some systems do not
 * mount. Mount it when missing (we are root to load eBPF anyway), as IG does.
 */
export function ensureTracefs(): void {
  if (TRACEFS_ROOTS.some((root) => existsSync(`${root}/events`))) return;
  try {
    childProcess().execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { stdio: 'ignore' });
  } catch (err) {
    throw new IgError('kernel', `tracefs is not mounted at ${TRACEFS} and mounting it failed`, {
      hint: `mount it with: mount -t tracefs nodev ${TRACEFS}`,
      cause: err,
    });
  }
}

/**
 * Whether a `tracepoint/CAT/NAME` (or `tp/`) section names a tracepoint this kernel has. A
 * program on it that does nothing need not be attached; one on a missing tracepoint still is,
 * so the user gets the attach error.
 */
export function tracepointExists(section: string): boolean {
  const m = /^(?:tracepoint|tp)\/([^/]+)\/([^/]+)$/.exec(section);
  if (!m) return false;
  return TRACEFS_ROOTS.some((root) => existsSync(`${root}/events/${m[1]}/${m[2]}/id`));
}

/** Sections whose attach needs tracefs. */
export function needsTracefs(section: string): boolean {
  return /^(tracepoint|tp)\//.test(section);
}
