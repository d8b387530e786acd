import { IgError } from '../errors.js';

/** The one place errors become a message and an exit code. No stack traces unless IG_DEBUG is set. */
export function handleError(err: unknown): number {
  if (process.env.IG_DEBUG) console.error(err);
  if (err instanceof IgError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    return err.exitCode;
  }
  if (err instanceof Error && err.constructor.name === 'UsageError') {
    process.stderr.write(`error: ${err.message}\nhint: run with --help to see the flags\n`);
    return 2;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.message === 'string') {
    // A system error we did not anticipate (EACCES, ENOSPC, ...): say it plainly.
    process.stderr.write(`error: ${e.message}\n`);
    if (e.code === 'EACCES' || e.code === 'EPERM') process.stderr.write('hint: most ig commands need root\n');
    return 1;
  }
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(err)}\n`);
  process.stderr.write('hint: this looks like a bug in ig; rerun with IG_DEBUG=1 and report the output\n');
  return 1;
}
