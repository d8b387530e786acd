import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IgError } from '../errors.js';
import { checkStop, sleep } from './interrupt.js';
import { diskError } from './store-io.js';

/**
 * A small cross-process lock over a lock file. The file is created complete (written to a temp
 * file, then hard-linked into place, which fails if one exists), so it is never empty, and it
 * says who holds it: pid, the process's start time (so a reused pid is not mistaken for the
 * owner) and when it was taken. A lock whose owner is gone is taken over at once; one that
 * cannot be read (empty or garbled: a crash of an older ig, a full disk) once it is older than
 * `unreadableAfterMs`. A live owner is never robbed: after `timeoutMs` the waiter gives up with
 * an error naming it. Waiting backs off to 100 ms between tries (no busy loop) and ends on the
 * stop signal. Held only for the milliseconds of an index.json update or a garbage collection.
 */
export interface LockOptions {
  timeoutMs?: number;
  unreadableAfterMs?: number;
  signal?: AbortSignal;
  /** where the lock is written before it is linked into place (same file system; default: beside it) */
  tempDir?: string;
}

export async function withLock<T>(lockPath: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = await acquire(lockPath, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Whether a process exists (EPERM: it does, but is not ours). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's start time in clock ticks since boot (/proc/PID/stat field 22), or 0 when unknown. */
function processStart(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]) || 0;
  } catch {
    return 0;
  }
}

export interface Owner { pid: number; start: number; host: string; time: number }

let self: Owner | undefined;
/** Who we are, as lock and pin files record it. */
export function currentOwner(): Owner {
  self ??= { pid: process.pid, start: processStart(process.pid), host: os.hostname(), time: 0 };
  return { ...self, time: Date.now() };
}

/** Whether the process an owner record names has exited (its pid gone, or now another process). */
export function ownerGone(o: Owner): boolean {
  if (o.host !== os.hostname()) return false; // a store shared across machines: we cannot tell
  if (!pidAlive(o.pid)) return true;
  const start = processStart(o.pid);
  return o.start > 0 && start > 0 && start !== o.start;
}

export function parseOwner(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (Number.isSafeInteger(o.pid) && o.pid! > 0 && typeof o.host === 'string') {
      return { pid: o.pid!, start: Number(o.start) || 0, host: o.host, time: Number(o.time) || 0 };
    }
  } catch {
    /* an older ig wrote a bare pid */
  }
  const pid = /^\s*(\d+)\s*$/.exec(text)?.[1];
  return pid ? { pid: Number(pid), start: 0, host: os.hostname(), time: 0 } : undefined;
}

async function acquire(lockPath: string, opts: LockOptions): Promise<() => Promise<void>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const unreadableAfterMs = opts.unreadableAfterMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const what = `waiting for the lock ${lockPath}`;
  const mine = JSON.stringify(currentOwner());
  let delay = 5;
  let holder = 'another process';
  for (;;) {
    checkStop(opts.signal, what);
    if (await tryCreate(lockPath, mine, opts.tempDir ?? path.dirname(lockPath))) {
      return async () => {
        // Remove only our own lock (a waiter may have judged us stale and taken over).
        const now = await fs.readFile(lockPath, 'utf8').catch(() => '');
        if (now === mine) await fs.rm(lockPath, { force: true });
      };
    }
    const seen = await readLock(lockPath);
    if (seen) {
      const owner = parseOwner(seen.text);
      holder = owner ? `process ${owner.pid}` : 'an unreadable lock file';
      const stale = owner ? ownerGone(owner) : Date.now() - seen.mtimeMs > unreadableAfterMs;
      if (stale && (await takeOver(lockPath, seen.text))) continue; // try again at once
    }
    if (Date.now() > deadline) {
      throw new IgError('store', `the local store is locked by ${holder} (${lockPath}) for more than ${Math.round(timeoutMs / 1000)} s`, {
        hint: `wait for that ig process to finish; if no ig is running, remove ${lockPath}`,
      });
    }
    await sleep(delay, opts.signal, what);
    delay = Math.min(delay * 2, 100);
  }
}

/** Create the lock complete or not at all: write a temp file, link it to the lock name (EEXIST if held). */
async function tryCreate(lockPath: string, content: string, tempDir: string): Promise<boolean> {
  const tmp = path.join(tempDir, `${path.basename(lockPath)}.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    await fs.writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
    try {
      await fs.link(tmp, lockPath);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new IgError('store', `cannot create lock ${lockPath}: directory missing`, { cause: e });
    throw diskError(e, `the lock ${path.basename(lockPath)}`, path.dirname(lockPath));
  } finally {
    await fs.rm(tmp, { force: true }).catch(() => {});
  }
}

async function readLock(lockPath: string): Promise<{ text: string; mtimeMs: number } | undefined> {
  try {
    const [text, st] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
    return { text, mtimeMs: st.mtimeMs };
  } catch {
    return undefined; // released meanwhile
  }
}

/**
 * Remove a stale lock, but only the one judged stale: it is moved aside first and compared, so two
 * waiters cleaning the same stale lock never remove a fresh one another process took meanwhile.
 */
async function takeOver(lockPath: string, judged: string): Promise<boolean> {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(lockPath, aside);
  } catch {
    return false; // gone already, or not ours to move
  }
  const moved = await fs.readFile(aside, 'utf8').catch(() => judged);
  if (moved !== judged) await fs.link(aside, lockPath).catch(() => {}); // a fresh lock: put it back
  await fs.rm(aside, { force: true }).catch(() => {});
  return moved === judged;
}
