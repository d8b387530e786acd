import type { CommandModule } from 'yargs';
import { runtimeOptions } from '../container-options.js';

interface DaemonArgs { host: string; 'tls-cert-file'?: string; 'tls-key-file'?: string; 'tls-client-ca-file'?: string; 'health-listen'?: string }

export const daemonCommand: CommandModule<object, DaemonArgs> = {
  command: 'daemon',
  describe: 'serve gadget runs to remote clients (ig run --remote-address) over gRPC',
  builder: (y) =>
    y
      .option('host', { alias: 'H', type: 'string', default: 'unix:///var/run/ig/ig.socket', describe: 'where to listen: unix:///path or tcp://IP:PORT' })
      .option('tls-cert-file', { type: 'string', describe: 'server certificate (PEM); with --tls-key-file turns TLS on' })
      .option('tls-key-file', { type: 'string', describe: 'server key (PEM)' })
      .option('tls-client-ca-file', { type: 'string', describe: 'CA for client certificates (PEM); makes them required' })
      .option('health-listen', { type: 'string', describe: 'serve /healthz and /readyz over HTTP on [IP]:PORT (Kubernetes probes), e.g. :8081' })
      .options(runtimeOptions),
  handler: async (a) => {
    const { serveUntilStopped } = await import('../../service/daemon-main.js');
    const { ociOptionsFrom } = await import('../oci-args.js');
    const { collectionOptionsFromArgs } = await import('../container-options.js');
    const args = a as unknown as Record<string, unknown>;
    const health = a['health-listen'] ? await (await import('../../service/health.js')).startHealthServer(a['health-listen'], a.host) : undefined;
    if (health) process.stderr.write(`ig daemon health on ${health.url}/healthz and ${health.url}/readyz
`);
    try {
      await serveUntilStopped(a.host, { cert: a['tls-cert-file'], key: a['tls-key-file'], ca: a['tls-client-ca-file'] }, {
        oci: ociOptionsFrom(args), runtimes: collectionOptionsFromArgs(args),
      });
    } finally {
      await health?.close();
    }
  },
};
