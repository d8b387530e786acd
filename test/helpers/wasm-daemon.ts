// An `ig daemon` for the wasm tests: started on a unix socket in a temp dir, killed by stop(). (main's
// test/helpers/daemon.ts startTestDaemon does the same with more options; this one predates it on this branch.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnIg } from './ig.js';
import { waitFor } from './kernel.js';

export async function startDaemon(env: NodeJS.ProcessEnv): Promise<{ proc: ChildProcess; address: string; stop: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ig-daemon-'));
  const proc = spawnIg(['daemon', '-H', `unix://${dir}/ig.sock`], { env });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const stop = () => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const address = await waitFor(() => err.match(/listening on (\S+)/)?.[1], 10_000, 'the daemon to listen');
    return { proc, address, stop };
  } catch (e) {
    stop();
    throw e;
  }
}
