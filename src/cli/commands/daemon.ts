import type { CommandModule } from 'yargs';
import { runtimeOptions } from '../container-options.js';

interface DaemonArgs {
  host: string[];
  'tls-cert-file'?: string;
  'tls-key-file'?: string;
  'tls-client-ca-file'?: string;
  'tls-insecure'?: boolean;
  group?: string;
  'health-listen'?: string;
  policy?: string;
  'state-dir': string;
  'events-buffer-length': number;
}

export const daemonCommand: CommandModule<object, DaemonArgs> = {
  command: 'daemon',
  describe: 'serve gadget runs to remote clients (ig run --remote-address) over gRPC',
  builder: (y) =>
    y
      .option('host', {
        alias: 'H', type: 'string', array: true, default: ['unix:///var/run/ig/ig.socket'],
        describe: 'where to listen: unix:///path or tcp://IP:PORT; repeatable (e.g. a unix socket and a loopback port for port-forward)',
      })
      .option('group', { alias: 'G', type: 'string', describe: 'group (name or gid) whose members may use the unix sockets (created 0660; default root\'s group)' })
      .option('tls-cert-file', { type: 'string', describe: 'server certificate (PEM); with --tls-key-file turns TLS on for tcp:// addresses' })
      .option('tls-key-file', { type: 'string', describe: 'server key (PEM)' })
      .option('tls-client-ca-file', { type: 'string', describe: 'CA for client certificates (PEM); makes them required, and clients are told apart by them' })
      .option('tls-insecure', { type: 'boolean', describe: 'accept plain TCP without TLS (anyone who reaches the port may run gadgets)' })
      .option('health-listen', { type: 'string', describe: 'serve /healthz and /readyz over HTTP on [IP]:PORT (Kubernetes probes), e.g. :8081' })
      .option('policy', { type: 'string', describe: 'YAML file with the policy keys below (flags win); owned by root, writable by no one else' })
      .option('allowed-gadgets', { type: 'string', array: true, describe: 'images clients may run: name@sha256:DIGEST, name:tag or prefix* (comma list; default any)' })
      .option('verify-image', { type: 'boolean', describe: 'require a signature by one of --public-key on every image (default: on when a key is given)' })
      .option('public-key', { type: 'string', array: true, describe: 'public key (PEM file) whose signature images must carry; repeatable' })
      .option('allowed-registries', { type: 'string', array: true, describe: 'registries images may come from, e.g. ghcr.io,localhost:5000 (default any)' })
      .option('pull', { type: 'string', choices: ['never', 'missing', 'always'], describe: 'the most a client may ask: never (only images in the store), missing (default), always' })
      .option('max-sessions-per-client', { type: 'number', describe: 'concurrent runs and headless instances of one client (default 8)' })
      .option('max-programs-per-client', { type: 'number', describe: 'eBPF programs one client may hold loaded (default 64)' })
      .option('state-dir', { type: 'string', default: '/var/lib/ig/daemon', describe: 'where headless instances are kept across restarts ("" = not kept)' })
      .option('events-buffer-length', { type: 'number', default: 16384, describe: 'events each headless instance keeps for `ig attach` to replay' })
      .options(runtimeOptions)
      .strict(),
  handler: async (a) => {
    const { serveUntilStopped } = await import('../../service/daemon-main.js');
    const { daemonPolicy } = await import('../../service/policy.js');
    const { checkListenOptions, groupId } = await import('../../service/listen.js');
    const { ociOptionsFrom } = await import('../oci-args.js');
    const { collectionOptionsFromArgs } = await import('../container-options.js');
    const args = a as unknown as Record<string, unknown>;
    const hosts = a.host.flatMap((h) => h.split(',')).map((h) => h.trim()).filter(Boolean);
    const tls = { cert: a['tls-cert-file'], key: a['tls-key-file'], ca: a['tls-client-ca-file'] };
    const warn = (l: string) => void process.stderr.write(l);
    // everything checked before the health endpoint or any socket exists
    checkListenOptions(hosts, { tls, tlsInsecure: a['tls-insecure'], warn: () => {} });
    groupId(a.group);
    const policy = daemonPolicy(args, a.policy);
    const events = a['events-buffer-length'];
    if (!Number.isInteger(events) || events < 0) throw new (await import('../../errors.js')).IgError('usage', `--events-buffer-length: "${String(events)}" is not a count of events`);
    const health = a['health-listen'] ? await (await import('../../service/health.js')).startHealthServer(a['health-listen'], hosts) : undefined;
    if (health) process.stderr.write(`ig daemon health on ${health.url}/healthz and ${health.url}/readyz\n`);
    try {
      await serveUntilStopped({
        hosts, tls, tlsInsecure: a['tls-insecure'], group: a.group, warn,
        settings: { oci: ociOptionsFrom(args), runtimes: collectionOptionsFromArgs(args), policy },
        stateDir: a['state-dir'] || undefined,
        eventsBufferLength: events,
      });
    } finally {
      await health?.close();
    }
  },
};
