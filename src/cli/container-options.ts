import type { Options } from 'yargs';
import type { CollectionOptions } from '../containers/index.js';
import { parseRuntimes } from '../containers/index.js';

/** -r/--runtimes and the runtimes' sockets (no yargs defaults: an absent flag means "default socket, skip if missing"). */
export const runtimeOptions = {
  runtimes: {
    alias: 'r',
    type: 'string',
    describe: 'container runtimes to ask, comma list of proc (opt-in: other mount namespaces) and docker,containerd,cri-o,podman (default all)',
  },
  'containerd-socketpath': {
    type: 'string',
    describe: 'containerd CRI socket (default /run/containerd/containerd.sock)',
  },
  'containerd-namespace': {
    type: 'string',
    describe: 'containerd namespace (default k8s.io)',
  },
  'crio-socketpath': {
    type: 'string',
    describe: 'cri-o socket (default /run/crio/crio.sock)',
  },
  'podman-socketpath': {
    type: 'string',
    describe: 'podman API socket (default /run/podman/podman.sock)',
  },
  'docker-socketpath': {
    type: 'string',
    describe: 'docker API socket (default /var/run/docker.sock)',
  },
} satisfies Record<string, Options>;

/** Container and Kubernetes selection: comma lists, "!" excludes. */
const selectorOptions = {
  containername: {
    alias: 'c',
    type: 'string',
    describe: 'only these containers (comma list; !name excludes)',
  },
  // -n/-p/-l as kubectl-gadget spells them
  'k8s-namespace': { alias: ['n', 'namespace'], type: 'string', describe: 'only pods in these Kubernetes namespaces (comma list; !ns excludes)' },
  'k8s-podname': { alias: ['p', 'podname'], type: 'string', describe: 'only these pods (comma list; !pod excludes)' },
  'k8s-containername': { type: 'string', describe: 'only these Kubernetes container names (comma list; !name excludes)' },
  'k8s-selector': { alias: ['l', 'selector'], type: 'string', describe: 'only pods whose labels match: key=value,key!=value,key,!key' },
  host: { type: 'boolean', describe: 'events of the host too (the default; with -c/--k8s-*: the host and those containers); --host=false: containers only, as IG shows by default' },
} satisfies Record<string, Options>;

/** Both groups: what `ig run` and `ig list-containers` accept. */
export const containerOptions = { ...runtimeOptions, ...selectorOptions } satisfies Record<string, Options>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Turn parsed flags into ContainerCollection.open() options. */
export function collectionOptionsFromArgs(args: Record<string, unknown>): CollectionOptions {
  const explicit = new Set<string>();
  const o: CollectionOptions = {
    runtimes: parseRuntimes(args.runtimes as string | string[] | undefined),
    containerdSocket: str(args['containerd-socketpath']),
    containerdNamespace: str(args['containerd-namespace']) ?? 'k8s.io',
    crioSocket: str(args['crio-socketpath']),
    podmanSocket: str(args['podman-socketpath']),
    dockerSocket: str(args['docker-socketpath']),
    explicit,
    runtimesNamed: args.runtimes !== undefined,
  };
  if (o.containerdSocket) explicit.add('containerd');
  if (o.crioSocket) explicit.add('cri-o');
  if (o.podmanSocket) explicit.add('podman');
  if (o.dockerSocket) explicit.add('docker');
  return o;
}
