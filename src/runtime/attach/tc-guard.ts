/**
 * Legacy tc filters (IG's classifiers) are not bpf links: the kernel keeps them after the process
 * that added them dies. ig deletes them on every orderly exit (Ctrl-C too); for SIGKILL a small
 * guard process, started with the first filter, learns each filter (and drops it again when ig
 * deletes it) over a pipe; when the pipe closes without a word, ig is gone, and the guard deletes
 * what is left. It holds each container's network namespace open only while a filter lives there.
 *
 * The guard is this Node with an inline script that loads the same addon. In the single
 * executable (no separate Node), there is no guard: SIGKILL leaves the filters until their
 * interfaces go away, as IG leaves them.
 */
import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../child-process.js';
import { addonPath } from '../native.js';

const SCRIPT = `
const n = require(process.argv[1]);
const fs = require('fs');
const live = new Map();
let buf = '';
const gone = () => {
  for (const f of live.values()) {
    try { n.tcDetach(f.fd === undefined ? undefined : '/proc/self/fd/' + f.fd, f.ifindex, f.dir, f.handle, f.prio); } catch {}
  }
  process.exit(0);
};
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const [op, key, ns, ifindex, dir, handle, prio] = buf.slice(0, i).split(' ');
    buf = buf.slice(i + 1);
    if (op === 'add') {
      let fd;
      try { if (ns !== '-') fd = fs.openSync(ns, 'r'); } catch { continue; }
      live.set(key, { fd, ifindex: +ifindex, dir, handle: +handle, prio: +prio });
    } else if (op === 'del') {
      const f = live.get(key);
      if (f && f.fd !== undefined) fs.closeSync(f.fd);
      live.delete(key);
    }
  }
});
process.stdin.on('end', gone);
process.stdin.on('error', gone);
`;

let guard: ChildProcess | null | undefined;
let next = 0;

/** Inside the single executable, src/sea/main.ts sets the package root before anything loads. */
function isSingleExecutable(): boolean {
  return globalThis.__igPackageRoot !== undefined;
}

function start(): ChildProcess | null {
  if (isSingleExecutable()) return null;
  try {
    const c = childProcess().spawn(process.execPath, ['-e', SCRIPT, addonPath()], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    c.on('error', () => (guard = null));
    c.stdin!.on('error', () => undefined);
    c.unref();
    (c.stdin as unknown as { unref?: () => void }).unref?.();
    return c;
  } catch {
    return null;
  }
}

/** Tell the guard about a filter; returns how to tell it the filter is gone. */
export function guardTcFilter(f: { netnsPath?: string; ifindex: number; direction: 'ingress' | 'egress'; handle: number; priority: number }): () => void {
  if (guard === undefined) guard = start();
  const g = guard;
  if (!g?.stdin?.writable) return () => undefined;
  const key = String(++next);
  g.stdin.write(`add ${key} ${f.netnsPath ?? '-'} ${f.ifindex} ${f.direction} ${f.handle} ${f.priority}\n`);
  return () => {
    if (g.stdin?.writable) g.stdin.write(`del ${key}\n`);
  };
}
