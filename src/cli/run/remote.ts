/**
 * `ig run IMAGE --remote-address …`: the gadget runs on ig daemons. The first node says what
 * the gadget takes (params, fields), the flags are parsed against that as for a local run, and
 * one typed request goes to every node. Flags naming the node's own files, sockets, ports or
 * trust are the daemon's configuration: given here they are refused, not silently dropped.
 */
import { IgError } from '../../errors.js';
import { remoteGadgetInfo, runRemote } from '../../service/client.js';
import type { GadgetDescription } from '../../engine/run.js';
import { runConfigFromFlags } from './config-from-flags.js';
import { parseWithParams } from './gadget-flags.js';
import { createInstances } from '../../service/instance-client.js';
import { toRequest } from '../../service/request.js';
import type { RunConfig } from '../../engine/config.js';
import type { TlsFiles } from '../../service/proto.js';

/** Flags (yargs keys, which cover every spelling) a remote client may not set. */
const NODE_LOCAL = ['oci-store', 'authfile', 'insecure-registries', 'containerd-socketpath', 'containerd-namespace', 'crio-socketpath',
  'podman-socketpath', 'docker-socketpath', 'metrics-listen', 'otel-metrics-listen', 'otel-metrics-listen-address', 'otel-metrics-exporter',
  'otel-logs-exporter', 'public-key', 'verify-image', 'allowed-gadgets'];

/** `adjust`: the cluster run's last word on the config (its selection and field defaults). */
export async function runRemoteFromArgv(image: string, argv: string[], first: Record<string, unknown>, stop: AbortSignal, adjust: (cfg: RunConfig) => RunConfig = (c) => c): Promise<void> {
  const banned = NODE_LOCAL.find((k) => first[k] !== undefined);
  if (banned) {
    throw new IgError('usage', `--${banned} cannot be set from a remote client`, { hint: 'configure it on the daemon (ig daemon --help)' });
  }
  const addresses = String(first['remote-address']).split(',').map((s) => s.trim()).filter(Boolean);
  if (addresses.length === 0) throw new IgError('usage', '--remote-address names no daemon', { hint: 'e.g. --remote-address unix:///var/run/ig/ig.socket' });
  const tls = { cert: first['tls-cert-file'] as string | undefined, key: first['tls-key-file'] as string | undefined, ca: first['tls-ca-file'] as string | undefined };
  const info = await remoteGadgetInfo(addresses[0]!, image, String(first.pull ?? 'missing'), tls);
  const description: GadgetDescription = {
    reference: `${info.reference} on ${addresses.length === 1 ? addresses[0] : `${addresses.length} nodes`}`,
    description: info.description,
    params: info.params,
    datasources: info.datasources.map((d) => ({ ...d, fields: d.fields.map((f) => ({ ...f, source: { type: 'column', slot: 0 } as const })) })),
  };
  const parsed = await parseWithParams(argv, image, description);
  if (!parsed || stop.aborted) return;
  const cfg = adjust(runConfigFromFlags(image, parsed.args, parsed.params));
  if (parsed.args.detach) return detach(addresses, cfg, tls, parsed.args);
  await runRemote({ addresses, cfg, tls, stop });
}

/** `--detach`: a headless instance on every daemon; prints its id (with the node, when several). */
async function detach(addresses: string[], cfg: RunConfig, tls: TlsFiles, args: Record<string, unknown>): Promise<void> {
  const tags = String(args.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const results = await createInstances(addresses, tls, toRequest(cfg), String(args.name ?? ''), tags);
  for (const r of results) if (r.value) process.stdout.write(addresses.length > 1 ? `${r.value.id} ${r.value.node}\n` : `${r.value.id}\n`);
  const errors = results.flatMap((r) => (r.error ? [r.error] : []));
  if (errors.length) throw errors.length === 1 ? errors[0]! : new IgError('usage', errors.map((e) => e.message).join('\n'), { hint: errors[0]!.hint });
}
