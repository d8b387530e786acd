// Debian's docker-registry on 127.0.0.1 (as test/helpers/registry.ts does), stopped by cleanup too.
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { onCleanup, sleep, start, stop, tempDir } from './procs.js';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startRegistry() {
  const dir = tempDir('ig-bench-registry-');
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const proc = start('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const halt = () => stop(proc, 'SIGTERM', 2000);
  onCleanup(halt);
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      await r.body?.cancel();
      if (r.status === 200) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) {
      await halt();
      throw new Error(`docker-registry did not start: ${proc.stderrText}`);
    }
    await sleep(50);
  }
  return { host: `127.0.0.1:${port}`, stop: halt };
}
