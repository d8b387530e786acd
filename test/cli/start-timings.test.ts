// IG_TIMINGS=1 shows where a run's start-up goes, step by step, up to the first events written
// (issue 16: the first event is start-up as the user sees it). For a table the header is written
// before the gadget is attached; the last step is still the first events, not the header.
import { describe, expect, it } from 'vitest';
import { spawnIg } from '../helpers/ig.js';
import { waitFor } from '../helpers/kernel.js';
import { fileOpener } from '../helpers/opener.js';

/** The steps IG_TIMINGS printed, in order, once an event about `file` was on stdout. */
async function steps(args: string[], file: string): Promise<{ steps: string[]; out: string }> {
  const ig = spawnIg(args, { env: { ...process.env, IG_TIMINGS: '1' } });
  let out = '';
  let err = '';
  ig.stdout!.on('data', (d) => (out += d));
  ig.stderr!.on('data', (d) => (err += d));
  try {
    await waitFor(() => (out.includes(file) && err.includes('first events written')) || ig.exitCode !== null, 30_000, 'the first event');
    expect(ig.exitCode, err).toBeNull();
  } finally {
    ig.kill('SIGINT');
    await new Promise((r) => ig.once('close', r));
  }
  const list = [...err.matchAll(/^ig-timing: [\d.]+ ms \(cpu [\d.]+ ms[^)]*\) (.+)$/gm)].map((m) => m[1]!);
  return { steps: list, out };
}

describe('IG_TIMINGS=1 ig run', () => {
  it('prints the start-up steps in order, up to the first events written, for json and for a table', async () => {
    const o = fileOpener(20);
    try {
      for (const output of ['json', 'columns']) {
        const { steps: s, out } = await steps(['run', 'trace_open', '-o', output, '--pid', String(o.pid)], o.file);
        const order = ['image read', 'object parsed, spec built', 'loaded', 'attached', 'first records', 'first events written'];
        const at = order.map((step) => s.indexOf(step));
        expect(at.every((i) => i >= 0), `${output}: ${s.join(' | ')}`).toBe(true);
        expect([...at].sort((a, b) => a - b), `${output}: ${s.join(' | ')}`).toEqual(at);
        expect(s.filter((x) => x === 'first events written'), 'once').toHaveLength(1);
        expect(out).toContain(o.file);
      }
    } finally {
      o.stop();
    }
  }, 90_000);
});
