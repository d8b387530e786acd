/**
 * Metrics and events through OpenTelemetry, with values this test causes: a command of its own
 * (a copy of pwd or cat under a unique name, so nothing else on the machine counts) calls
 * getcwd(2) or opens files a known number of times.
 * - Prometheus: the built-in top_syscall's counter map as ig_syscalls_total (--metrics-listen,
 *   and IG's --otel-metrics-listen spelling), trace_open's metrics.collect datasource as opens_total.
 * - OTLP: the same counters pushed to a receiver the test starts (test/helpers/otlp-receiver.ts),
 *   through an exporter named in the config file and through a URL; events as OTLP log records.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnIg, collect } from '../helpers/ig.js';
import { waitFor } from '../helpers/kernel.js';
import { startOtlpReceiver, type OtlpReceiver, type Point } from '../helpers/otlp-receiver.js';

const work = mkdtempSync(path.join(tmpdir(), 'ig-ux-otel-'));
const home = path.join(work, 'home');
const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') }; // built-in gadgets from the default store
const id = randomBytes(3).toString('hex');
const PWD = path.join(work, `uxpwd${id}`); // comm = its name (< 16 characters)
const CAT = path.join(work, `uxcat${id}`);
let otlp: OtlpReceiver;

beforeAll(async () => {
  copyFileSync('/bin/pwd', PWD);
  copyFileSync('/bin/cat', CAT);
  execFileSync('chmod', ['+x', PWD, CAT]);
  writeFileSync(path.join(work, 'a-file'), 'x');
  mkdirSync(path.join(home, '.config', 'ig'), { recursive: true });
  otlp = await startOtlpReceiver();
  writeFileSync(path.join(home, '.config', 'ig', 'config.yaml'), [
    'operator:',
    '  otel-metrics:',
    '    exporters:',
    '      collector:',
    '        exporter: otlp-http',
    `        endpoint: ${otlp.url.replace('http://', '')}`,
    '        insecure: true',
    '        interval: 300ms',
    '',
  ].join('\n'));
});
afterAll(async () => {
  await otlp?.close();
  rmSync(work, { recursive: true, force: true });
});

const pwdN = (n: number) => { for (let i = 0; i < n; i++) execFileSync(PWD, ['-P']); };

/** Prometheus text → value of the sample with this name whose labels include every `want` pair. */
function sample(text: string, name: string, want: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(want).every(([k, v]) => labels[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** A sample once ig has taken in every event (two reads 300 ms apart agree). */
async function settled(url: string, name: string, want: Record<string, string>): Promise<number | undefined> {
  let last = sample(await (await fetch(url)).text(), name, want);
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = sample(await (await fetch(url)).text(), name, want);
    if (now === last) return now;
    last = now;
  }
}

/** Start ig, wait for its notice, return it with its stderr so far. */
async function startIg(args: string[], notice: RegExp) {
  const child = spawnIg(args, { env });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const done = collect(child, 60_000);
  const m = await waitFor(() => stderr.match(notice), 20_000, `"${notice}" on stderr`);
  return { child, done, m, stderr: () => stderr };
}

describe('Prometheus endpoint (OpenTelemetry SDK exporter)', () => {
  for (const flags of [['--metrics-listen', '127.0.0.1:0'], ['--otel-metrics-listen', '--otel-metrics-listen-address', '127.0.0.1:0']]) {
    it(`top_syscall ${flags[0]}: ig_syscalls_total counts exactly the getcwd calls the test made`, async () => {
      const ig = await startIg(['run', 'top_syscall', ...flags, '-o', 'none'], /serving metrics on (\S+)/);
      const url = ig.m[1]!;
      const want = { comm: path.basename(PWD), syscall: 'SYS_GETCWD' };
      try {
        // the notice comes before the programs attach: call until the counter shows, then count
        const before = await waitFor(async () => {
          pwdN(1);
          return sample(await (await fetch(url)).text(), 'ig_syscalls_total', want);
        }, 30_000, 'the first getcwd counted');
        const base = (await settled(url, 'ig_syscalls_total', want)) ?? before;
        pwdN(7);
        expect(await settled(url, 'ig_syscalls_total', want)).toBe(base + 7);
        const res = await fetch(url);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await res.text()).toMatch(/^# TYPE ig_syscalls_total counter$/m);
      } finally {
        ig.child.kill('SIGINT');
      }
      const r = await ig.done;
      expect(r.code, r.stderr).toBe(0);
      expect(ig.stderr()).toBe(`serving metrics on ${url}\n`);
    });
  }

  it('trace_open\'s metrics.collect datasource: opens_total per command and error', async () => {
    const ig = await startIg(['run', 'trace_open', '--metrics-listen', '127.0.0.1:0', '-o', 'none'], /serving metrics on (\S+)/);
    const url = ig.m[1]!;
    const comm = path.basename(CAT);
    try {
      let seen = '';
      await waitFor(async () => {
        execFileSync(CAT, [path.join(work, 'a-file')]);
        seen = await (await fetch(url)).text();
        return sample(seen, 'opens_total', { comm, error: '' });
      }, 30_000, 'the first open counted').catch((e) => {
        throw new Error(`${(e as Error).message}; ${comm}; stderr: ${ig.stderr()}; metrics:\n${seen}`);
      });
      const read = async () => ({ ok: (await settled(url, 'opens_total', { comm, error: '' })) ?? 0, enoent: (await settled(url, 'opens_total', { comm, error: 'ENOENT' })) ?? 0 });
      // every run of cat makes the same opens (its libraries; the dynamic loader's misses are ENOENT), plus its file
      const t0 = await read();
      // in the C locale a failing cat looks up no message catalogue: its failure is its one more ENOENT
      const C = { ...process.env, LC_ALL: 'C', LANGUAGE: '', LANG: 'C' };
      for (let i = 0; i < 5; i++) execFileSync(CAT, [path.join(work, 'a-file')], { env: C });
      const t1 = await read();
      const okPerRun = (t1.ok - t0.ok) / 5;
      const missPerRun = (t1.enoent - t0.enoent) / 5;
      expect(Number.isInteger(okPerRun) && okPerRun >= 1 && Number.isInteger(missPerRun)).toBe(true);
      for (let i = 0; i < 3; i++) try { execFileSync(CAT, [path.join(work, 'missing')], { stdio: 'ignore', env: C }); } catch { /* cat fails: ENOENT */ }
      const t2 = await read();
      expect(t2.enoent - t1.enoent).toBe(3 * missPerRun + 3); // the 3 missing files
      expect(t2.ok - t1.ok).toBe(3 * (okPerRun - 1));
    } finally {
      ig.child.kill('SIGINT');
    }
    expect((await ig.done).code).toBe(0);
  });
});

describe('OTLP export (an OTLP/HTTP receiver the test starts)', () => {
  // OTLP names the counter ig_syscalls (Prometheus adds _total)
  const series = (pts: Point[], comm: string) => pts.find((p) => p.metric === 'ig_syscalls' && p.attributes.comm === comm && p.attributes.syscall === 'SYS_GETCWD');

  it('pushes ig_syscalls_total through an exporter named in the config file; the last push after Ctrl-C has every call', async () => {
    const ig = await startIg(['run', 'top_syscall', '--otel-metrics-exporter', 'collector', '-o', 'none'], /sending metrics to (\S+) every 300 ms/);
    expect(ig.m[1]).toBe(`${otlp.url}/v1/metrics`);
    const comm = path.basename(PWD);
    let before = 0;
    try {
      await waitFor(() => {
        pwdN(1);
        const last = otlp.metricExports.at(-1);
        return last && series(last, comm)?.value;
      }, 30_000, 'a push with the first getcwd');
      // pushes every 300 ms: the value once two pushes agree
      const pushed = () => series(otlp.metricExports.at(-1)!, comm)!.value;
      before = pushed();
      for (let n = otlp.metricExports.length; ; ) {
        await waitFor(() => otlp.metricExports.length >= n + 2, 5000, 'two more pushes');
        n = otlp.metricExports.length;
        if (pushed() === before) break;
        before = pushed();
      }
      pwdN(7);
    } finally {
      ig.child.kill('SIGINT');
    }
    const r = await ig.done;
    expect(r.code, r.stderr).toBe(0);
    const last = series(otlp.metricExports.at(-1)!, comm)!;
    expect(last).toMatchObject({ kind: 'sum', monotonic: true, value: before + 7 });
    expect(last.resource).toMatchObject({ 'service.name': 'ig' });
    expect([...otlp.contentTypes]).toContain('application/x-protobuf');
  });

  it('sends events as OTLP log records to a URL (--otel-logs-exporter), fields as attributes', async () => {
    const comm = path.basename(CAT);
    const file = path.join(work, 'a-file');
    const ig = await startIg(['run', 'trace_open', '--otel-logs-exporter', otlp.url, '-F', `comm==${comm}`, '-o', 'none'], /sending events as logs to (\S+)/);
    expect(ig.m[1]).toBe(`${otlp.url}/v1/logs`);
    try {
      await waitFor(() => {
        execFileSync(CAT, [file]);
        return otlp.logs.some((l) => l.attributes.fname === file);
      }, 30_000, 'a log record of the open');
    } finally {
      ig.child.kill('SIGINT');
    }
    expect((await ig.done).code).toBe(0);
    const rec = otlp.logs.find((l) => l.attributes.fname === file)!;
    expect(rec.attributes).toMatchObject({ 'gadget.datasource': 'open', comm, fname: file, error: '' });
    expect(rec.severity).toBe('INFO');
    expect(JSON.parse(String(rec.body))).toMatchObject({ comm, fname: file });
    expect(otlp.logs.every((l) => l.attributes.comm === comm)).toBe(true); // -F applies to logs too
  });

  it('says when the collector does not answer, and does not hold the end of the run for it', async () => {
    const closed = await startOtlpReceiver();
    const url = closed.url;
    await closed.close(); // nothing listens there now
    const t0 = Date.now();
    const r = await collect(spawnIg(['run', 'top_syscall', '--otel-metrics-exporter', url, '-o', 'none', '-t', '1'], { env }), 60_000);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`sending metrics to ${url}/v1/metrics every 5000 ms\n` +
      `warning: OpenTelemetry export failed: PeriodicExportingMetricReader: metrics export failed (error Error: connect ECONNREFUSED ${url.replace('http://', '')})\n`);
    expect(Date.now() - t0).toBeLessThan(20_000); // the last push gives up after 2 s
  });

  it('says what is wrong with an exporter name or kind (exit 2, nothing run)', async () => {
    const none = await collect(spawnIg(['run', 'top_syscall', '--otel-metrics-exporter', 'nope'], { env }));
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('error: --otel-metrics-exporter: no exporter named "nope" (configured: collector)\n' +
      'hint: give an OTLP/HTTP URL (--otel-metrics-exporter http://127.0.0.1:4318), or configure it in ~/.config/ig/config.yaml under operator.otel-metrics.exporters.nope (exporter: otlp-http, endpoint: host:4318, insecure: true)\n');
  });
});
