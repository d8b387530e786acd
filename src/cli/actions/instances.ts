/** `ig list`, `ig attach`, `ig delete`: headless gadget instances in ig daemons (`ig run --detach`). */
import { IgError } from '../../errors.js';
import { runConfig, type OutputFormat } from '../../engine/config.js';
import { runRemote } from '../../service/client.js';
import { attachCall, deleteInstances, listInstances, type InstanceInfo } from '../../service/instance-client.js';
import type { TlsFiles } from '../../service/proto.js';

type Args = Record<string, unknown>;

function addresses(a: Args): string[] {
  const list = String(a['remote-address'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new IgError('usage', '--remote-address names no daemon', { hint: 'e.g. --remote-address unix:///var/run/ig/ig.socket' });
  return list;
}

const tlsOf = (a: Args): TlsFiles => ({ cert: a['tls-cert-file'] as string | undefined, key: a['tls-key-file'] as string | undefined, ca: a['tls-ca-file'] as string | undefined });

function failIfAny(errors: (IgError | undefined)[]): void {
  const e = errors.filter((x): x is IgError => !!x);
  if (e.length) throw e.length === 1 ? e[0]! : new IgError('usage', e.map((x) => x.message).join('\n'), { hint: e[0]!.hint });
}

/** A plain table: each column as wide as its widest cell. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}

export async function listAction(a: Args): Promise<void> {
  const addrs = addresses(a);
  const results = await listInstances(addrs, tlsOf(a));
  const all: InstanceInfo[] = results.flatMap((r) => r.value ?? []);
  if (a.output === 'json') process.stdout.write(JSON.stringify(all, null, 2) + '\n');
  else {
    const multi = addrs.length > 1;
    const header = ['ID', 'NAME', 'TAGS', 'GADGET', 'STATUS', ...(multi ? ['NODE'] : [])];
    const rows = all.map((i) => [i.id.slice(0, 12), i.name, i.tags.join(','), i.image, i.status + (i.status === 'error' && i.message ? `: ${i.message}` : ''), ...(multi ? [i.node] : [])]);
    process.stdout.write(table(header, rows));
  }
  failIfAny(results.map((r) => r.error));
}

export async function deleteAction(a: Args): Promise<void> {
  const addrs = addresses(a);
  const errors: (IgError | undefined)[] = [];
  for (const name of (a.instance as string[]).map(String)) {
    const results = await deleteInstances(addrs, tlsOf(a), name);
    // on several daemons, an instance need only exist on some of them
    const found = results.filter((r) => r.value);
    for (const r of found) process.stdout.write(`${r.value!.id}\n`);
    if (found.length === 0) errors.push(...results.map((r) => r.error));
    else errors.push(...results.filter((r) => r.error?.code !== 'not-found').map((r) => r.error));
  }
  failIfAny(errors);
}

export async function attachAction(a: Args): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const cfg = runConfig({ image: String(a.instance), output: String(a.output ?? 'columns') as OutputFormat, fields: a.fields === undefined ? undefined : String(a.fields) });
    await runRemote({ addresses: addresses(a), cfg, tls: tlsOf(a), stop: stop.signal, open: attachCall(String(a.instance), a.replay !== false) });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
