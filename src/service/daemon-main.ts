import { startDaemon, type DaemonOptions } from './server.js';

/** Listen until SIGINT/SIGTERM, then stop taking calls and end the running ones. */
export async function serveUntilStopped(o: DaemonOptions): Promise<void> {
  const d = await startDaemon(o);
  for (const a of d.addresses) process.stderr.write(`ig daemon listening on ${a}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await d.close();
}
