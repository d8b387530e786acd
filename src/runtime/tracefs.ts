import { existsSync } from 'node:fs';
import { childProcess } from './child-process.js';
import { IgError } from '../errors.js';

const TRACEFS = '/sys/kernel/tracing';

/**
 * Tracepoint attach looks up event ids under tracefs, which some systems do not
 * mount. Mount it when missing (we are root to load eBPF anyway), as IG does.
 */
export function ensureTracefs(): void {
  if (existsSync(`${TRACEFS}/events`) || existsSync('/sys/kernel/debug/tracing/events')) return;
  try {
    childProcess().execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { stdio: 'ignore' });
  } catch (err) {
    throw new IgError('kernel', `tracefs is not mounted at ${TRACEFS} and mounting it failed`, {
      hint: `mount it with: mount -t tracefs nodev ${TRACEFS}`,
      cause: err,
    });
  }
}

/** Sections whose attach needs tracefs. */
export function needsTracefs(section: string): boolean {
  return /^(tracepoint|tp)\//.test(section);
}
