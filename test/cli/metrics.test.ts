import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { pwdTimes, PWD_COMM } from '../helpers/run-with.js';
import { spawnIg, collect } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { waitFor } from '../helpers/kernel.js';

const store = tempStore();
beforeAll(() => buildGadget('test/gadgets/metrics', 'metrics', store.env), 120_000);
afterAll(() => store.cleanup());

/** Minimal check of the Prometheus text format: every sample line belongs to a declared family. */
function parseProm(text: string): Map<string, { type: string; samples: { name: string; labels: string; value: number }[] }> {
  const fams = new Map<string, { type: string; samples: { name: string; labels: string; value: number }[] }>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP')) continue;
    const t = line.match(/^# TYPE (\S+) (counter|gauge|histogram)$/);
    if (t) { fams.set(t[1], { type: t[2], samples: [] }); continue; }
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const fam = [...fams.keys()].find((f) => m[1] === f || m[1].startsWith(`${f}_`));
    if (!fam) throw new Error(`sample ${m[1]} has no # TYPE`);
    fams.get(fam)!.samples.push({ name: m[1], labels: m[2] ?? '', value: Number(m[3]) });
  }
  return fams;
}

describe('ig run --metrics-listen', () => {
  it('serves counter, gauge and histogram maps as Prometheus text with the values the test caused', async () => {
    const child = spawnIg(['run', 'metrics', '--metrics-listen', '127.0.0.1:0', '-t', '20'], { env: store.env });
    const result = collect(child, 40_000);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    try {
      const url = await waitFor(() => stderr.match(/serving metrics on (\S+)/)?.[1], 15_000, 'the metrics address');
      const before = parseProm(await (await fetch(url)).text());
      const count = (f: typeof before) => f.get('ig_getcwd_calls_total')?.samples.find((s) => s.labels.includes(`comm="${PWD_COMM}"`))?.value ?? 0;
      pwdTimes(7);
      const res = await fetch(url);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const after = parseProm(await res.text());
      expect(after.get('ig_getcwd_calls_total')?.type).toBe('counter');
      expect(count(after) - count(before)).toBe(7);
      const gauge = after.get('ig_getcwd_last_pid');
      expect(gauge?.type).toBe('gauge');
      expect(gauge!.samples.find((s) => s.labels.includes(`comm="${PWD_COMM}"`))!.value).toBeGreaterThan(0);
      const hist = after.get('ig_getcwd_size');
      expect(hist?.type).toBe('histogram');
      const pwdCount = hist!.samples.find((s) => s.name === 'ig_getcwd_size_count' && s.labels.includes(`comm="${PWD_COMM}"`));
      expect(pwdCount!.value).toBeGreaterThanOrEqual(7);
      const inf = hist!.samples.find((s) => s.name === 'ig_getcwd_size_bucket' && s.labels.includes('le="+Inf"') && s.labels.includes(`comm="${PWD_COMM}"`));
      expect(inf!.value).toBe(pwdCount!.value);
    } finally {
      child.kill('SIGINT');
      const r = await result;
      expect(r.code, r.stderr).toBe(0);
    }
  });
});
