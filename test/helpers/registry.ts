import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A Docker distribution registry (Debian `docker-registry`) on 127.0.0.1, started for a test file. */
export interface TestRegistry {
  host: string; // 127.0.0.1:PORT
  port: number;
  dir: string;
  proc: ChildProcess;
  stop(): Promise<void>;
  /** Kill it now (SIGKILL), e.g. to simulate a registry dying mid-pull. */
  kill(): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => resolve(a.port));
    });
    s.on('error', reject);
  });
}

async function waitReady(url: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (r.status === 200 || r.status === 401) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`registry at ${url} did not become ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Start a registry; with `auth`, an htpasswd file (bcrypt, `htpasswd -Bbn`) protects it. */
export async function startRegistry(opts: { auth?: { user: string; password: string } } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ig-registry-'));
  const port = await freePort();
  let authCfg = '';
  if (opts.auth) {
    const line = execFileSync('htpasswd', ['-Bbn', opts.auth.user, opts.auth.password], { encoding: 'utf8' });
    writeFileSync(path.join(dir, 'htpasswd'), line);
    authCfg = `auth:\n  htpasswd:\n    realm: ig-test\n    path: ${path.join(dir, 'htpasswd')}\n`;
  }
  const cfg = `version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: ${path.join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${authCfg}`;
  writeFileSync(path.join(dir, 'config.yml'), cfg);
  const proc = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  try {
    await waitReady(`http://127.0.0.1:${port}/v2/`);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}: ${stderr}`);
  }
  const kill = () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    proc,
    kill,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
        kill();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
