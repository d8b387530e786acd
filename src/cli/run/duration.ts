import { IgError } from '../../errors.js';

/** "500ms", "2s", "1m", "1.5s" or a bare number of seconds → milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const m = String(text).trim().match(/^(\d+(?:\.\d+)?)(ms|s|m|h)?$/);
  if (!m) throw new IgError('usage', `--${flag}: "${text}" is not a duration`, { hint: 'use e.g. 500ms, 2s, 1m' });
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (ms <= 0) throw new IgError('usage', `--${flag} must be greater than zero`);
  return ms;
}
