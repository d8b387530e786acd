import { dist } from './dist.js';

/**
 * How one input ended: `ok` (accepted), `clean` (refused with an IgError: a message naming what is
 * wrong, what the CLI prints), `unwrapped` (any other exception: a TypeError, a RangeError, a raw
 * native error — a user would see "bug in ig"). Crashes and hangs are judged by the parent.
 */
export async function classify(fn) {
  const { IgError } = await dist('errors.js');
  try {
    await fn();
    return { outcome: 'ok' };
  } catch (e) {
    if (e instanceof IgError) return { outcome: 'clean', message: e.message.split('\n')[0] };
    const err = e instanceof Error ? e : new Error(String(e));
    return { outcome: 'unwrapped', message: `${err.name}: ${err.message.split('\n')[0]}`, stack: err.stack };
  }
}
