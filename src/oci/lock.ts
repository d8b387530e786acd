import { promises as fs } from 'node:fs';
import { IgError } from '../errors.js';

/**
 * A small cross-process lock: `fs.open(path, 'wx')` creates the lock file holding our pid; a lock whose
 * pid is no longer alive (or an empty lock older than 10 s) is stale and taken over. Held only for the
 * few milliseconds of an index.json read-modify-write or a garbage collection.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const release = await acquire(lockPath, timeoutMs);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Whether a process exists (EPERM: it does, but is not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquire(lockPath: string, timeoutMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  let holder = 0;
  for (;;) {
    try {
      const fh = await fs.open(lockPath, 'wx', 0o600);
      try {
        await fh.writeFile(String(process.pid));
      } finally {
        await fh.close();
      }
      return async () => {
        await fs.rm(lockPath, { force: true });
      };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') throw new IgError('store', `cannot create lock ${lockPath}: directory missing`, { cause: e });
      if (err.code !== 'EEXIST') throw e;
    }
    // Someone holds it; is it stale?
    try {
      const [text, st] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
      holder = Number.parseInt(text, 10);
      const stale = Number.isFinite(holder) && holder > 0 ? !pidAlive(holder) : Date.now() - st.mtimeMs > 10_000;
      if (stale) {
        // Move it aside first so that two processes cleaning the same stale lock do not remove a fresh one.
        const aside = `${lockPath}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
        try {
          await fs.rename(lockPath, aside);
          const again = Number.parseInt(await fs.readFile(aside, 'utf8'), 10);
          if (again !== holder || (again > 0 && pidAlive(again))) {
            // Not the lock we judged stale; put it back if nothing took its place.
            await fs.link(aside, lockPath).catch(() => {});
          }
          await fs.rm(aside, { force: true });
        } catch {
          /* raced with another cleaner: retry */
        }
        continue;
      }
    } catch {
      continue; // vanished between open and read: retry at once
    }
    if (Date.now() > deadline) {
      throw new IgError('store', `the local store is locked by process ${holder} (${lockPath})`, {
        hint: `wait for that ig process to finish; if no ig is running, remove ${lockPath}`,
      });
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}
