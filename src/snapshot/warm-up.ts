/**
 * Code run while the start-up snapshot is built, so that V8 keeps it compiled in the blob (a
 * function that never ran is compiled on its first call, after every start). Only pure work on
 * made-up input: nothing here may read the machine, and nothing it leaves behind may be used later.
 */
import fs from 'node:fs';
import { joinDashValues } from '../cli/run/flags.js';
import { fastRunFlags } from '../cli/run/fast-flags.js';

export function warmUp(): void {
  // Node's fs.promises (with fs/dir, the watchers and readline it loads) is outside node's own
  // snapshot and loaded at first use: the store reads with it on every run
  void fs.promises.readFile;
  for (const argv of [['run', 'trace_open', '-o', 'json'], ['run', 'x', '--fields', 'pid,comm', '-F', 'pid==1', '--timeout', '1', '--host']]) {
    fastRunFlags(joinDashValues(argv));
  }
}
