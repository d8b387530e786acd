/**
 * node:child_process when a run needs it (a mount, the tc guard), not at every start: loading it
 * (with the net and dgram modules it pulls in) costs ~5 ms of a start-up that has ~100.
 */
import { createRequire } from 'node:module';

export function childProcess(): typeof import('node:child_process') {
  return createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
}
