/**
 * `gadget_timestamp`: u64 nanoseconds of CLOCK_BOOTTIME (bpf_ktime_get_boot_ns) → wall-clock
 * ISO-8601 string with nanoseconds, in the local time zone like IG
 * (`2024-08-27T11:29:02.846074392-05:00`, `…Z` in UTC).
 *
 * How the boot→wall offset is measured (once, lazily, about 11 ms of busy waiting at most):
 * Node has no CLOCK_BOOTTIME, but `/proc/uptime` is CLOCK_BOOTTIME truncated to centiseconds and
 * `process.hrtime` is CLOCK_MONOTONIC with ns resolution. We spin reading /proc/uptime until the
 * centisecond value ticks over; at that instant boottime == the new value (error = one read, ~10 µs)
 * and we note hrtime → (boot − mono). Likewise we spin on Date.now() until the millisecond ticks
 * over and note hrtime → (wall − mono). wall = boot + (wall − mono) − (boot − mono); accurate to
 * well under a millisecond. `/proc/stat btime` is only whole seconds, hence not used except as a
 * fallback when /proc/uptime cannot be read. The offset is fixed for the life of the process (a
 * later clock step by NTP or a suspend is not followed; call `resetBootOffset()` to re-measure).
 */
import { readFileSync } from 'node:fs';

let offsetNs: bigint | undefined; // wall_ns − boot_ns

function readUptimeCs(): bigint {
  const s = readFileSync('/proc/uptime', 'latin1');
  const first = s.slice(0, s.indexOf(' '));
  const [sec, frac = '0'] = first.split('.');
  return BigInt(sec!) * 100n + BigInt(frac.padEnd(2, '0').slice(0, 2));
}

/** Measure wall_ns − boot_ns (see the module comment). */
export function measureBootOffset(): bigint {
  // boot − mono
  let bootMinusMono: bigint;
  try {
    const start = readUptimeCs();
    let cs = start;
    let mono = process.hrtime.bigint();
    const deadline = mono + 50_000_000n;
    while (cs === start && mono < deadline) {
      cs = readUptimeCs();
      mono = process.hrtime.bigint();
    }
    bootMinusMono = cs * 10_000_000n - mono;
  } catch {
    // no /proc/uptime: use btime (whole seconds) from /proc/stat, else assume no suspend since boot
    try {
      const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
      if (m) return BigInt(m[1]!) * 1_000_000_000n;
    } catch {
      /* fall through */
    }
    bootMinusMono = 0n;
  }
  // wall − mono
  const w0 = Date.now();
  let w = w0;
  let mono = process.hrtime.bigint();
  while (w === w0) {
    w = Date.now();
    mono = process.hrtime.bigint();
  }
  const wallMinusMono = BigInt(w) * 1_000_000n - mono;
  return wallMinusMono - bootMinusMono;
}

function bootOffsetNs(): bigint {
  if (offsetNs === undefined) offsetNs = measureBootOffset();
  return offsetNs;
}

/** Override the offset (tests, or a remote node's offset). */
export function setBootOffsetNs(ns: bigint): void {
  offsetNs = ns;
}

export function resetBootOffset(): void {
  offsetNs = undefined;
}

/** Boot-time ns → wall-clock ns since the epoch. */
export function bootNsToWallNs(bootNs: bigint | number): bigint {
  return BigInt(bootNs) + bootOffsetNs();
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/**
 * Wall-clock ns since the epoch → `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn±HH:MM` (local time, `Z` for UTC).
 * `utc: true` forces UTC.
 */
export function formatWallNs(wallNs: bigint, utc = false): string {
  const ms = Number(wallNs / 1_000_000n);
  let nsInSec = Number(wallNs % 1_000_000_000n);
  if (nsInSec < 0) nsInSec += 1_000_000_000;
  const d = new Date(ms);
  const tzMin = utc ? 0 : -d.getTimezoneOffset();
  const l = new Date(ms + tzMin * 60_000); // read with getUTC* = local fields
  const date = `${pad(l.getUTCFullYear(), 4)}-${pad(l.getUTCMonth() + 1)}-${pad(l.getUTCDate())}`;
  const time = `${pad(l.getUTCHours())}:${pad(l.getUTCMinutes())}:${pad(l.getUTCSeconds())}.${pad(nsInSec, 9)}`;
  let tz = 'Z';
  if (tzMin !== 0) {
    const a = Math.abs(tzMin);
    tz = `${tzMin < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
  }
  return `${date}T${time}${tz}`;
}

/**
 * The hot path of `formatTimestamp`: a boot-time ns that fits a number (up to ~104 days of
 * uptime) is split into seconds and ns with number arithmetic, and the date-and-time text is
 * reused for every event of the same wall-clock second, so per event only the nanoseconds
 * are formatted. Everything else takes formatWallNs.
 */
let fastOffset: { of: bigint; sec: number; ns: number } | undefined;

/** The wall-clock second `splitBootNumber` saw last, and its text before and after the nanoseconds. */
export const wallSecond = { sec: NaN, prefix: '', suffix: '' };

/** A boot-time ns number (< 2^53) → the nanoseconds within its wall-clock second; `wallSecond` is then that second. */
export function splitBootNumber(bootNs: number): number {
  const off = bootOffsetNs();
  if (fastOffset?.of !== off) {
    fastOffset = { of: off, sec: Number(off / 1_000_000_000n), ns: Number(off % 1_000_000_000n) };
    wallSecond.sec = NaN;
  }
  let sec = Math.floor(bootNs / 1e9);
  let ns = bootNs - sec * 1e9 + fastOffset.ns;
  sec += fastOffset.sec;
  if (ns >= 1e9) { sec += 1; ns -= 1e9; } else if (ns < 0) { sec -= 1; ns += 1e9; }
  if (sec !== wallSecond.sec) {
    const full = formatWallNs(BigInt(sec) * 1_000_000_000n);
    const dot = full.indexOf('.');
    wallSecond.prefix = full.slice(0, dot + 1);
    wallSecond.suffix = full.slice(dot + 10);
    wallSecond.sec = sec;
  }
  return ns;
}

function formatBootNumber(bootNs: number): string {
  const ns = splitBootNumber(bootNs);
  return wallSecond.prefix + String(ns).padStart(9, '0') + wallSecond.suffix;
}

/** `gadget_timestamp` formatter. 0 (not set by the gadget) stays "0". */
export function formatTimestamp(bootNs: unknown, utc = false): string {
  if (typeof bootNs !== 'bigint' && typeof bootNs !== 'number') return String(bootNs);
  if (bootNs === 0 || bootNs === 0n) return '0';
  if (!utc && typeof bootNs === 'number' && Number.isSafeInteger(bootNs)) return formatBootNumber(bootNs);
  return formatWallNs(bootNsToWallNs(typeof bootNs === 'number' ? Math.trunc(bootNs) : bootNs), utc);
}
