import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { runIg, jsonLines } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';

const store = tempStore();
beforeAll(() => buildGadget('gadgets/profile_cpu', 'profile_cpu', store.env), 120_000);
afterAll(() => store.cleanup());

describe('profile_cpu (perf_event program on every CPU)', () => {
  it('counts a busy process at about 49 samples per CPU second, mostly in user space', async () => {
    const busy = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    try {
      const r = await runIg(['run', 'profile_cpu', '-o', 'json', '--map-fetch-count', '1', '--map-fetch-interval', '2s'], { env: store.env });
      expect(r.code, r.stderr).toBe(0);
      const rows = jsonLines(r.stdout).flatMap((x) => (Array.isArray(x) ? x : [x])) as Record<string, number | string>[];
      const row = rows.find((x) => x.pid === busy.pid);
      expect(row, `no sample row for the busy loop (pid ${busy.pid})`).toBeDefined();
      // 2 s at 49 Hz is 98 samples on a free CPU; the machine is shared, so ask for a third of that.
      expect(Number(row!.samples)).toBeGreaterThan(30);
      expect(Number(row!.samples)).toBeLessThanOrEqual(2 * 49 + 5);
      expect(Number(row!.user_samples)).toBeGreaterThan(Number(row!.kernel_samples));
      expect(Number(row!.user_samples) + Number(row!.kernel_samples)).toBe(Number(row!.samples));
      expect(row!.comm).toBe('sh');
    } finally {
      busy.kill();
    }
  });
});
