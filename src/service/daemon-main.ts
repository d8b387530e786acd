import { startDaemon } from './server.js';
import type { TlsFiles } from './proto.js';

/** Listen until SIGINT/SIGTERM, then stop taking calls and end the running ones. */
export async function serveUntilStopped(address: string, tls: TlsFiles): Promise<void> {
  const d = await startDaemon(address, tls);
  process.stderr.write(`ig daemon listening on ${d.address}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await d.close();
}
