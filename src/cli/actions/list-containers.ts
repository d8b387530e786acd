/** `ig list-containers [-w] [-o columns|json|jsonpretty]` */
import { collectionOptionsFromArgs } from '../container-options.js';
import { ContainerCollection, matches, parseSelector, type ContainerInfo } from '../../containers/index.js';

/** The JSON shape of one container (nested like IG's `ig list-containers -o json`). */
function containerJson(c: ContainerInfo): Record<string, unknown> {
  return {
    runtime: {
      runtimeName: c.runtime,
      containerId: c.id,
      containerName: c.name,
      containerPid: c.pid,
      containerImageName: c.imageName,
      containerImageDigest: c.imageDigest,
      containerStartedAt: c.startedAt,
    },
    k8s: c.k8s
      ? {
          namespace: c.k8s.namespace,
          podName: c.k8s.podName,
          podUID: c.k8s.podUid,
          containerName: c.k8s.containerName,
          podLabels: c.k8s.podLabels,
          owner: { kind: c.k8s.ownerKind, name: c.k8s.ownerName },
        }
      : { namespace: '', podName: '', podUID: '', containerName: '', podLabels: {}, owner: { kind: '', name: '' } },
    mntns: Number(c.mntns),
    netns: c.netns,
  };
}

interface Col {
  title: string;
  get: (c: ContainerInfo) => string;
  right?: boolean;
}

function columns(noTrunc: boolean): Col[] {
  return [
    { title: 'RUNTIME.CONTAINERNAME', get: (c) => c.name },
    { title: 'K8S.NAMESPACE', get: (c) => c.k8s?.namespace ?? '' },
    { title: 'K8S.PODNAME', get: (c) => c.k8s?.podName ?? '' },
    { title: 'K8S.CONTAINERNAME', get: (c) => c.k8s?.containerName ?? '' },
    { title: 'RUNTIME.RUNTIMENAME', get: (c) => c.runtime },
    { title: 'RUNTIME.CONTAINERID', get: (c) => (noTrunc ? c.id : c.id.slice(0, 13)) },
    { title: 'PID', get: (c) => String(c.pid), right: true },
    { title: 'MNTNS', get: (c) => String(c.mntns), right: true },
    { title: 'NETNS', get: (c) => String(c.netns), right: true },
    { title: 'RUNTIME.CONTAINERIMAGENAME', get: (c) => c.imageName },
  ];
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

/** Column widths for watch mode, where rows are printed one at a time. */
const WATCH_WIDTHS = [24, 16, 24, 20, 19, 19, 7, 10, 10, 30];

function formatTable(list: ContainerInfo[], noTrunc = false, prefix?: (c: ContainerInfo) => string, fixed?: number[]): string {
  const cols = columns(noTrunc);
  const rows = list.map((c) => cols.map((col) => col.get(c)));
  const widths = fixed ?? cols.map((col, i) => Math.max(col.title.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((v, i) => pad(v, widths[i]!, cols[i]!.right)).join(' ').trimEnd();
  const head = (prefix ? 'EVENT   ' : '') + line(cols.map((c) => c.title));
  const body = rows.map((r, i) => (prefix ? pad(prefix(list[i]!), 8) : '') + line(r));
  return [head, ...body].join('\n') + '\n';
}

function sortKey(c: ContainerInfo): string {
  return `${c.k8s?.namespace ?? ''}\u0000${c.k8s?.podName ?? ''}\u0000${c.name}\u0000${c.id}`;
}

export async function listContainers(args: Record<string, unknown>): Promise<void> {
  const sel = parseSelector(args);
  const output = String(args.output ?? 'columns');
  const watch = args.watch === true;
  const noTrunc = args['no-trunc'] === true;
  const coll = await ContainerCollection.open(collectionOptionsFromArgs(args));
  const selected = (c: ContainerInfo) => (sel ? matches(c, sel) : true);
  const json = (o: unknown) => (output === 'jsonpretty' ? JSON.stringify(o, null, 2) : JSON.stringify(o));
  try {
    const list = coll.list().filter(selected).sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    if (!watch) {
      if (output === 'columns') process.stdout.write(formatTable(list, noTrunc));
      // one JSON array, as IG prints it (watch mode streams one object per change instead)
      else process.stdout.write(json(list.map(containerJson)) + '\n');
      return;
    }
    // Watch: the current containers as ADDED, then changes until Ctrl-C.
    const rowFor = (c: ContainerInfo, ev: string) => formatTable([c], noTrunc, () => ev, WATCH_WIDTHS).split('\n')[1] + '\n';
    if (output === 'columns') process.stdout.write(formatTable(list, noTrunc, () => 'ADDED', WATCH_WIDTHS));
    else for (const c of list) process.stdout.write(json({ event: 'ADDED', container: containerJson(c) }) + '\n');
    await new Promise<void>((resolve) => {
      const keepAlive = setInterval(() => {}, 1 << 30);
      coll.onChange((kind, c) => {
        if (!selected(c) || kind === 'updated') return;
        const ev = kind === 'added' ? 'ADDED' : 'REMOVED';
        if (output === 'columns') process.stdout.write(rowFor(c, ev));
        else process.stdout.write(json({ event: ev, container: containerJson(c) }) + '\n');
      });
      const stop = () => {
        clearInterval(keepAlive);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  } finally {
    await coll.close();
  }
}
