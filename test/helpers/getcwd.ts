import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

/**
 * The trigger of the test gadgets: a copy of /bin/pwd under a name of our own
 * (`pwd -P` always calls getcwd(2), once), so events from other processes
 * calling getcwd meanwhile are told apart by comm.
 */
export function getcwdTrigger(dir: string, name: string): { comm: string; run: (n: number) => number[] } {
  const bin = path.join(dir, name);
  copyFileSync('/bin/pwd', bin);
  return {
    comm: name,
    /** Run it `n` times; returns the pids. */
    run(n: number): number[] {
      const pids: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = spawnSync(bin, ['-P'], { stdio: 'ignore' });
        expect(r.status).toBe(0);
        pids.push(r.pid!);
      }
      return pids;
    },
  };
}
