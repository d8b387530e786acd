// Child processes, temp dirs and the cleanup that stops them all (normal end, failure, Ctrl-C).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const children = new Set();
const tempDirs = new Set();
const cleanups = [];

export function tempDir(prefix) {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

export function onCleanup(fn) {
  cleanups.push(fn);
}

function alive(p) {
  return p.exitCode === null && p.signalCode === null;
}

/** spawn and track; `exited` resolves with {code, signal}. */
export function start(cmd, args, opts = {}) {
  const p = spawn(cmd, args, opts);
  children.add(p);
  p.exited = new Promise((resolve) => {
    p.once('exit', (code, signal) => {
      children.delete(p);
      resolve({ code, signal });
    });
    p.once('error', (err) => {
      children.delete(p);
      resolve({ code: -1, signal: null, err });
    });
  });
  if (p.stderr) {
    p.stderrText = '';
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d) => {
      if (p.stderrText.length < 64 * 1024) p.stderrText += d;
    });
  }
  return p;
}

/** Signal, wait up to `ms`, then SIGKILL. */
export async function stop(p, signal = 'SIGINT', ms = 5000) {
  if (!p || !alive(p)) return p?.exited;
  p.kill(signal);
  let timer;
  const r = await Promise.race([p.exited, new Promise((res) => (timer = setTimeout(() => res(null), ms)))]);
  clearTimeout(timer);
  if (r) return r;
  if (alive(p)) p.kill('SIGKILL');
  return p.exited;
}

/** Run to completion, collecting stdout; rejects on non-zero exit. */
export async function run(cmd, args, opts = {}) {
  const p = start(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (d) => (out += d));
  const r = await p.exited;
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code ?? r.signal}): ${p.stderrText?.trim() ?? ''}`);
  return out;
}

/** Lines of a child's stdout as an async-friendly waiter: waitFor(prefix, ms) → the line. */
export function lineReader(stream) {
  const lines = [];
  const waiters = [];
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) if (line.startsWith(w.prefix)) w.resolve(line);
    }
  });
  stream.on('end', () => {
    for (const w of [...waiters]) w.resolve(undefined);
  });
  return {
    lines,
    waitFor(prefix, ms) {
      const have = lines.find((l) => l.startsWith(prefix));
      if (have !== undefined) return Promise.resolve(have);
      return new Promise((resolve) => {
        const w = { prefix, resolve: (v) => { clearTimeout(t); waiters.splice(waiters.indexOf(w), 1); resolve(v); } };
        const t = setTimeout(() => w.resolve(undefined), ms);
        waiters.push(w);
      });
    },
  };
}

/** VmHWM / VmRSS of a live process, in bytes (undefined when gone). */
export function memOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

let cleaning;
export function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        /* keep going */
      }
    }
    const ps = [...children];
    for (const p of ps) if (alive(p)) p.kill('SIGTERM');
    await Promise.race([Promise.all(ps.map((p) => p.exited)), new Promise((r) => setTimeout(r, 2000))]);
    for (const p of ps) if (alive(p)) p.kill('SIGKILL');
    await Promise.race([Promise.all(ps.map((p) => p.exited)), new Promise((r) => setTimeout(r, 1000))]);
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    tempDirs.clear();
  })();
  return cleaning;
}

export function installSignalHandlers() {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping everything...\n`);
      cleanup().finally(() => process.exit(130));
    });
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(xs) {
  const a = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (!a.length) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}
