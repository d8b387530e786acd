import { startDaemon } from './server.js';
import type { TlsFiles } from './proto.js';
import type { DaemonRunSettings } from './request.js';

/** Listen until SIGINT/SIGTERM, then stop taking calls and end the running ones. */
export async function serveUntilStopped(address: string, tls: TlsFiles, settings: DaemonRunSettings): Promise<void> {
  const d = await startDaemon(address, tls, settings);
  process.stderr.write(`ig daemon listening on ${d.address}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await d.close();
}
