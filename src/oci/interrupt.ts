import { IgError } from '../errors.js';

/**
 * Long waits (a lock, a registry, a download) end on the caller's stop signal (Ctrl-C, SIGTERM,
 * a daemon session's end) as well as on their own deadline; these are the two pieces they share.
 */

/** The error a wait ends with when the stop signal fires: exit code 130, as for a shell's Ctrl-C. */
export function interrupted(what: string): IgError {
  return new IgError('interrupted', `interrupted while ${what}`, { exitCode: 130 });
}

/** Throw `interrupted(what)` when the signal has fired. */
export function checkStop(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw interrupted(what);
}

/** Sleep `ms`, or less when the signal fires (then throw `interrupted(what)`). */
export function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  checkStop(signal, what);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(interrupted(what));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * An AbortSignal that fires on SIGINT or SIGTERM while `fn` runs; the handlers are removed
 * after. For commands that have none of their own, so a Ctrl-C ends them through their
 * cleanup path (partial files removed) instead of killing the process mid-write.
 */
export async function withSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
