import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatTimestamp,
  formatWallNs,
  measureBootOffset,
  resetBootOffset,
  setBootOffsetNs,
} from '../../src/format/timestamp.js';
import { formatters } from '../../src/format/index.js';

describe('gadget_timestamp', () => {
  afterEach(() => resetBootOffset());

  it('formats wall ns with nanoseconds in UTC', () => {
    expect(formatWallNs(1724776142846074392n, true)).toBe('2024-08-27T16:29:02.846074392Z');
    expect(formatWallNs(5n, true)).toBe('1970-01-01T00:00:00.000000005Z');
  });

  it('formats in the local time zone with its offset', () => {
    const s = formatWallNs(1724776142846074392n);
    expect(s).toMatch(/^2024-08-2\dT\d\d:\d\d:02\.846074392(Z|[+-]\d\d:\d\d)$/);
    // same instant
    const parsed = Date.parse(s.replace(/\.(\d{3})\d{6}/, '.$1'));
    expect(parsed).toBe(1724776142846);
  });

  it('adds the boot offset', () => {
    setBootOffsetNs(1_700_000_000_000_000_000n);
    expect(formatTimestamp(1_500_000_001n, true)).toBe('2023-11-14T22:13:21.500000001Z');
    expect(formatTimestamp(0n)).toBe('0');
  });

  it('measures an offset that puts "now" in boot time at the current wall time (±20 ms)', () => {
    const off = measureBootOffset();
    const up = readFileSync('/proc/uptime', 'latin1').split(' ')[0]!;
    const bootNowNs = BigInt(Math.round(Number(up) * 1e9));
    const wallNs = bootNowNs + off;
    const diffMs = Number(wallNs - BigInt(Date.now()) * 1_000_000n) / 1e6;
    // /proc/uptime is truncated to 10 ms, so compare with that slack
    expect(Math.abs(diffMs)).toBeLessThan(20);
    // and two measurements agree within /proc/uptime's own resolution (a loaded machine can
    // preempt the spin that finds a centisecond edge; the runtime reads the exact offset natively)
    const off2 = measureBootOffset();
    expect(Math.abs(Number(off2 - off)) / 1e6).toBeLessThan(20);
    setBootOffsetNs(off);
    expect(formatters.gadget_timestamp!(bootNowNs)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d)$/);
  });
});
