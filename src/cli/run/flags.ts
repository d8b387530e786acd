import type { Options } from 'yargs';

/** Flags of `ig run` that do not depend on the gadget (its params are added once the image is read). */
export const runOptions = {
  output: { alias: 'o', type: 'string', choices: ['columns', 'json', 'jsonpretty', 'yaml', 'pcap-ng', 'none'], default: 'columns', describe: 'output format' },
  timeout: { alias: 't', type: 'string', default: '0', describe: 'stop after this many seconds (0 = until Ctrl-C)' },
  fields: { type: 'string', describe: 'fields to show: "a,b,c" (exactly these) or "+x,-y" (change the default set)' },
  filter: { alias: 'F', type: 'string', array: true, describe: 'keep events matching field==v, !=, >=, >, <=, <, ~regex, !~regex; comma = AND' },
  sort: { type: 'string', describe: 'toppers/snapshotters: sort by fields, "-" for descending (e.g. -reads,comm)' },
  'max-entries': { type: 'string', describe: 'toppers/snapshotters: show at most N rows' },
  'map-fetch-interval': { type: 'string', default: '1s', describe: 'toppers: time between map reads (e.g. 500ms, 2s)' },
  'map-fetch-count': { type: 'string', default: '0', describe: 'toppers: stop after N reads (0 = until stopped)' },
  pull: { type: 'string', choices: ['always', 'missing', 'never'], default: 'missing', describe: 'when to pull the image from its registry' },
  'force-perf-buffer': { type: 'boolean', default: false, describe: 'use perf buffers instead of ring buffers (as on kernels without ring buffers)' },
  'buffer-size': { type: 'string', describe: 'kernel memory for each tracer\'s events (e.g. 8M); default 1 MiB per CPU. Larger rides out longer stalls of ig without losing events' },
  'skip-unsupported-programs': { type: 'boolean', default: false, describe: 'run without the gadget programs this kernel cannot load or attach (e.g. a kprobe without CONFIG_KPROBES); a warning names each and the fields that stay empty' },
  'verify-image': { type: 'boolean', describe: 'refuse images without a signature by --public-key (default: on when a key is given)' },
  'public-key': { type: 'string', array: true, describe: 'public key (PEM) whose signature the image must carry; repeatable' },
  'allowed-gadgets': { type: 'string', describe: 'comma list of images allowed to run: name@sha256:…, name:tag, or prefix*' },
  'remote-address': { type: 'string', describe: 'run on ig daemons instead of here: comma list of unix:///path or tcp://HOST:PORT (merged output)' },
  k8s: { type: 'boolean', describe: 'run on the ig agent of every node of the cluster in your kubeconfig (ig deploy), reached through the API server; merged, with the node column' },
  node: { type: 'string', describe: 'with --k8s: only these nodes (comma list)' },
  'all-namespaces': { alias: 'A', type: 'boolean', describe: 'with --k8s: pods of every namespace (default: the kubeconfig context\'s namespace, as kubectl gadget)' },
  'gadget-namespace': { type: 'string', describe: 'with --k8s: the namespace of the ig agents (default ig)' },
  kubeconfig: { type: 'string', describe: 'with --k8s: kubeconfig file (default $KUBECONFIG, ~/.kube/config)' },
  context: { type: 'string', describe: 'with --k8s: kubeconfig context (default its current one)' },
  detach: { type: 'boolean', describe: 'with --remote-address: create a headless instance that runs in the daemon until `ig delete` (prints its id)' },
  name: { type: 'string', describe: 'with --detach: the instance\'s name (unique on the daemon)' },
  tags: { type: 'string', describe: 'with --detach: comma list of tags for the instance' },
  'tls-cert-file': { type: 'string', describe: 'with --remote-address: client certificate (PEM)' },
  'tls-key-file': { type: 'string', describe: 'with --remote-address: client key (PEM)' },
  'tls-ca-file': { type: 'string', describe: 'with --remote-address: CA that signed the daemon\'s certificate (PEM); turns TLS on' },
  'metrics-listen': { type: 'string', describe: 'serve the gadget\'s metrics (counter_/gauge_/hist_ maps, metrics.collect datasources) for Prometheus on host:port' },
  'otel-metrics-listen': { type: 'boolean', describe: 'serve the metrics for Prometheus on --otel-metrics-listen-address (IG\'s spelling of --metrics-listen)' },
  'otel-metrics-listen-address': { type: 'string', describe: 'address of --otel-metrics-listen (default 0.0.0.0:2224)' },
  'otel-metrics-exporter': { type: 'string', describe: 'push the metrics over OTLP: an OTLP/HTTP URL (http://collector:4318) or an exporter named in the config file' },
  'otel-logs-exporter': { type: 'string', describe: 'send every event as an OTLP log record: an OTLP/HTTP URL or an exporter named in the config file' },
} satisfies Record<string, Options>;

/** Flags whose value may start with "-" (`--sort -reads`, `--fields -mntns_id`, `-t -1`); see joinDashValues. */
const DASH_VALUE_FLAGS = new Set(['--sort', '--fields', '--filter', '-F', '--timeout', '-t', '--max-entries']);

/**
 * `--sort -reads` → `--sort=-reads`. Go's flag parser (IG's) takes the next word as a
 * string flag's value whatever it starts with; yargs would read `-reads` as flags.
 */
export function joinDashValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (DASH_VALUE_FLAGS.has(a) && i + 1 < argv.length && argv[i + 1]!.startsWith('-')) {
      out.push(`${a}=${argv[++i]}`);
    } else {
      out.push(a);
    }
  }
  return out;
}
