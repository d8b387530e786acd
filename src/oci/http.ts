import { IgError } from '../errors.js';
import { interrupted } from './interrupt.js';

/** How long a registry may keep us waiting for an answer, or between two parts of a body. */
export function registryTimeoutMs(): number {
  const s = Number(process.env.IG_REGISTRY_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 30_000;
}

/**
 * fetch() that never waits forever: the answer (status and headers) must come within `timeoutMs`,
 * and the body may not stall for longer than that between two chunks. `signal` (Ctrl-C) ends it
 * at any point, also in the middle of a body. Errors: `interrupted` when stopped, an IgError
 * 'registry' on a timeout; connection errors are thrown as fetch throws them.
 */
export async function boundedFetch(
  url: string,
  init: RequestInit,
  opts: { signal?: AbortSignal; timeoutMs: number; what: string; host: string },
): Promise<Response> {
  const ac = new AbortController();
  const stopped = () => interrupted(`waiting for registry ${opts.host} (${opts.what})`);
  const stalled = (phase: string) =>
    new IgError('registry', `registry ${opts.host} ${phase} for ${Math.round(opts.timeoutMs / 1000)} s (${opts.what})`, {
      hint: 'the registry or the network is stuck; try again later (IG_REGISTRY_TIMEOUT=SECONDS sets the limit)',
    });
  const onStop = () => ac.abort(stopped());
  if (opts.signal?.aborted) throw stopped();
  opts.signal?.addEventListener('abort', onStop, { once: true });
  // An upload counts against the answer's deadline: allow it at least 32 KiB/s on top.
  const sending = init.body instanceof Uint8Array ? (init.body.length / (32 << 10)) * 1000 : 0;
  let timer: NodeJS.Timeout | undefined = setTimeout(() => ac.abort(stalled('did not answer')), opts.timeoutMs + sending);
  const done = () => {
    clearTimeout(timer);
    timer = undefined;
    opts.signal?.removeEventListener('abort', onStop);
  };
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: ac.signal });
  } catch (e) {
    done();
    if (ac.signal.aborted) throw ac.signal.reason;
    throw e;
  }
  if (!res.body) {
    done();
    return res;
  }
  // Restart the clock at every chunk; stop it when the body ends or is cancelled.
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(stalled('sent no data')), opts.timeoutMs);
  };
  arm();
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          done();
          ctl.close();
          return;
        }
        arm();
        ctl.enqueue(value);
      } catch (e) {
        done();
        ctl.error(ac.signal.aborted ? ac.signal.reason : e);
      }
    },
    async cancel(reason) {
      done();
      await reader.cancel(reason).catch(() => {});
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}
