// `ig daemon --health-listen`: the endpoints the DaemonSet's liveness and readiness probes GET.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { runIg, spawnIg } from '../helpers/ig.js';
import { waitFor } from '../helpers/kernel.js';
import { notReadyReasons } from '../../src/service/health.js';

const env = { ...process.env };
let daemon: ChildProcess | undefined;
let dir: string | undefined;

afterEach(async () => {
  if (daemon && daemon.exitCode === null) {
    const gone = new Promise((r) => daemon!.once('exit', r));
    daemon.kill('SIGTERM');
    await gone;
  }
  daemon = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

describe('ig daemon --health-listen', () => {
  it('answers /healthz at once and /readyz once the gRPC socket accepts connections', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ig-health-'));
    daemon = spawnIg(['daemon', '-H', `unix://${dir}/ig.socket`, '--health-listen', '127.0.0.1:0'], { env });
    let stderr = '';
    daemon.stderr!.on('data', (d) => (stderr += d));
    const base = await waitFor(() => /health on (http:\/\/[^/\s]+)\/healthz/.exec(stderr)?.[1], 20_000, 'the health address');
    expect(await get(`${base}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
    await waitFor(async () => (await get(`${base}/readyz`)).status === 200, 20_000, '/readyz to turn 200');
    expect((await get(`${base}/readyz`)).body).toBe('ready\n');
    expect((await get(`${base}/metrics`)).status).toBe(404);
  });

  it('names what keeps an agent from being ready', async () => {
    const reasons = await notReadyReasons('unix:///nonexistent/ig.socket');
    expect(reasons).toEqual([expect.stringMatching(/^gRPC unix:\/\/\/nonexistent\/ig.socket: ENOENT/)]);
  });

  it('refuses a bad listen address before serving anything', async () => {
    const r = await runIg(['daemon', '-H', 'unix:///nonexistent/ig.socket', '--health-listen', 'localhost'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: health: invalid listen address "localhost"/);
  });
});
