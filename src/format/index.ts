/**
 * Formatters for the `gadget_*` types, keyed by BTF typedef name. Each turns a decoded raw value
 * into the string IG shows (the raw value stays in `x_raw`, see ebpf-conventions.md).
 */
import { ERRNOS, SYSCALLS_X86_64 } from './tables.js';
import { formatTimestamp } from './timestamp.js';
import { formatGid, formatUid } from './ids.js';

export * from './timestamp.js';
export * from './ids.js';

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

// ---------------------------------------------------------------- errno

/**
 * errno → `ENOENT`. Negative values (a raw `-ENOENT` return) are treated as their absolute value.
 * 0 → "" (no error, as IG). Unknown → the number as a string.
 */
export function formatErrno(v: unknown): string {
  const n = toNumber(v);
  if (!Number.isInteger(n)) return String(v);
  if (n === 0) return '';
  return ERRNOS[Math.abs(n)] ?? String(n);
}

// ---------------------------------------------------------------- signals

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS',
  8: 'SIGFPE', 9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE',
  14: 'SIGALRM', 15: 'SIGTERM', 16: 'SIGSTKFLT', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP',
  20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU', 23: 'SIGURG', 24: 'SIGXCPU', 25: 'SIGXFSZ',
  26: 'SIGVTALRM', 27: 'SIGPROF', 28: 'SIGWINCH', 29: 'SIGIO', 30: 'SIGPWR', 31: 'SIGSYS',
};

/**
 * Linux x86_64 signal number → name. Real-time signals use the kernel's numbering
 * (SIGRTMIN = 32, as in asm/signal.h): 32 → `SIGRTMIN`, 40 → `SIGRTMIN+8`, 64 → `SIGRTMAX`.
 * 0 → "0"; unknown → the number as a string.
 */
export function formatSignal(v: unknown): string {
  const n = toNumber(v);
  if (!Number.isInteger(n)) return String(v);
  const s = SIGNALS[n];
  if (s) return s;
  if (n === 32) return 'SIGRTMIN';
  if (n > 32 && n < 64) return `SIGRTMIN+${n - 32}`;
  if (n === 64) return 'SIGRTMAX';
  return String(n);
}

// ---------------------------------------------------------------- syscalls

/** x86_64 syscall number → bare name (`openat`), undefined when unknown. */
export function syscallName(n: number): string | undefined {
  return SYSCALLS_X86_64[n];
}

/** `gadget_syscall` → IG's spelling `SYS_OPENAT`; unknown → the number as a string. */
export function formatSyscall(v: unknown): string {
  const n = toNumber(v);
  if (!Number.isInteger(n)) return String(v);
  const name = SYSCALLS_X86_64[n];
  return name === undefined ? String(n) : 'SYS_' + name.toUpperCase();
}

// ---------------------------------------------------------------- open(2) flags

// x86_64 values, octal as in asm-generic/fcntl.h
const OPEN_FLAGS: Array<[number, string]> = [
  [0o100, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o4010000, 'O_SYNC'], // __O_SYNC | O_DSYNC, checked before O_DSYNC
  [0o10000, 'O_DSYNC'],
  [0o20000, 'O_ASYNC'],
  [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'],
  [0o20200000, 'O_TMPFILE'], // __O_TMPFILE | O_DIRECTORY, checked before O_DIRECTORY
  [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'],
  [0o10000000, 'O_PATH'],
];

/** open(2) flags → `O_RDONLY|O_CLOEXEC` (access mode always first; unknown bits as `0x…`). */
export function formatFileFlags(v: unknown): string {
  const n = toNumber(v);
  if (!Number.isInteger(n)) return String(v);
  let rest = n >>> 0;
  const acc = rest & 3;
  rest &= ~3;
  const parts = [acc === 0 ? 'O_RDONLY' : acc === 1 ? 'O_WRONLY' : acc === 2 ? 'O_RDWR' : 'O_ACCMODE'];
  for (const [bits, name] of OPEN_FLAGS) {
    if ((rest & bits) === bits) {
      parts.push(name);
      rest &= ~bits;
    }
  }
  if (rest !== 0) parts.push('0x' + (rest >>> 0).toString(16));
  return parts.join('|');
}

// ---------------------------------------------------------------- file mode

/** st_mode / open mode → `-rw-r--r--`, with the type letter from S_IFMT (`d`, `l`, `c`, `b`, `p`, `s`, `-`). */
export function formatFileMode(v: unknown): string {
  const n = toNumber(v);
  if (!Number.isInteger(n)) return String(v);
  const type = n & 0o170000;
  const t =
    type === 0o140000 ? 's'
    : type === 0o120000 ? 'l'
    : type === 0o060000 ? 'b'
    : type === 0o040000 ? 'd'
    : type === 0o020000 ? 'c'
    : type === 0o010000 ? 'p'
    : '-';
  const rwx = (bits: number, special: boolean, sChar: string): string => {
    const x = bits & 1;
    const xc = special ? (x ? sChar : sChar.toUpperCase()) : x ? 'x' : '-';
    return (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + xc;
  };
  return (
    t +
    rwx((n >> 6) & 7, (n & 0o4000) !== 0, 's') +
    rwx((n >> 3) & 7, (n & 0o2000) !== 0, 's') +
    rwx(n & 7, (n & 0o1000) !== 0, 't')
  );
}

// ---------------------------------------------------------------- IP endpoints

interface L3Endpoint {
  /** 16 bytes; an IPv4 address is in the first 4 */
  addr: Uint8Array | ArrayLike<number>;
  version: number;
}

interface L4Endpoint extends L3Endpoint {
  port: number;
  proto?: number;
}

function ipv4(b: ArrayLike<number>, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text form of a 16-byte IPv6 address; IPv4-mapped (::ffff:a.b.c.d) is shown as plain IPv4. */
export function formatIPv6(b: ArrayLike<number>): string {
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
  if (mapped) return ipv4(b, 12);
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  // longest run (≥2) of zero words, first one wins on ties
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(w);
  return hex(w.slice(0, bestStart)) + '::' + hex(w.slice(bestStart + bestLen));
}

/** `{addr, version}` → `10.0.0.1` / `::1` (IPv4-mapped IPv6 shown as IPv4). */
export function formatL3Endpoint(v: unknown): string {
  if (!v || typeof v !== 'object') return String(v);
  const e = v as L3Endpoint;
  const ver = Number(e.version);
  if (ver === 4) return ipv4(e.addr, 0);
  if (ver === 6) return formatIPv6(e.addr);
  return '';
}

/** `{addr, version, port}` → `10.0.0.1:80` / `[::1]:8080` (IPv4-mapped IPv6 shown as IPv4). */
export function formatL4Endpoint(v: unknown): string {
  if (!v || typeof v !== 'object') return String(v);
  const e = v as L4Endpoint;
  const a = formatL3Endpoint(e);
  const port = Number(e.port);
  if (a.includes(':')) return `[${a}]:${port}`;
  return `${a}:${port}`;
}

const PROTOCOLS: Record<number, string> = {
  0: 'IP', 1: 'ICMP', 2: 'IGMP', 4: 'IPIP', 6: 'TCP', 17: 'UDP', 33: 'DCCP', 41: 'IPV6', 47: 'GRE',
  50: 'ESP', 51: 'AH', 58: 'ICMPV6', 103: 'PIM', 132: 'SCTP', 136: 'UDPLITE', 255: 'RAW', 262: 'MPTCP',
};

/** IP protocol number → `TCP`, `UDP`, …; unknown → the number. */
export function formatProto(v: unknown): string {
  const n = toNumber(v);
  return PROTOCOLS[n] ?? String(v);
}

// ---------------------------------------------------------------- enums

export interface Enumerator {
  name: string;
  value: number | bigint;
}

/** Enum value → its enumerator name; unknown → the number. */
export function formatEnum(enumerators: readonly Enumerator[], v: unknown): string {
  const b = toBigInt(v);
  if (b === undefined) return String(v);
  for (const e of enumerators) if (BigInt(e.value) === b) return e.name;
  return String(v);
}

/**
 * Bit-set enum (name ends in `_set`) → `A|B`. Multi-bit enumerators match when all their bits are
 * set (larger masks first); bits with no name are appended as `0x…`. 0 → the zero enumerator's name
 * if there is one, else "".
 */
export function formatEnumSet(enumerators: readonly Enumerator[], v: unknown): string {
  const b = toBigInt(v);
  if (b === undefined) return String(v);
  if (b === 0n) return enumerators.find((e) => BigInt(e.value) === 0n)?.name ?? '';
  const sorted = enumerators
    .map((e) => ({ name: e.name, value: BigInt(e.value) }))
    .filter((e) => e.value !== 0n)
    .sort((x, y) => popcount(y.value) - popcount(x.value));
  let rest = b;
  const parts: Array<{ name: string; value: bigint }> = [];
  for (const e of sorted) {
    if ((rest & e.value) === e.value && e.value !== 0n) {
      parts.push(e);
      rest &= ~e.value;
    }
  }
  parts.sort((x, y) => (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
  const out = parts.map((p) => p.name);
  if (rest !== 0n) out.push('0x' + rest.toString(16));
  return out.join('|');
}

function popcount(v: bigint): number {
  let c = 0;
  for (let x = v < 0n ? -v : v; x; x >>= 1n) c += Number(x & 1n);
  return c;
}

/** A formatter for an enum type, chosen by its name (`*_set` → bit set). */
export function enumFormatter(typeName: string, enumerators: readonly Enumerator[]): (v: unknown) => string {
  const byValue = new Map<bigint, string>();
  for (const e of enumerators) if (!byValue.has(BigInt(e.value))) byValue.set(BigInt(e.value), e.name);
  if (typeName.endsWith('_set')) return (v) => formatEnumSet(enumerators, v);
  return (v) => {
    const b = toBigInt(v);
    return (b !== undefined && byValue.get(b)) || String(v);
  };
}

// ---------------------------------------------------------------- bytes, durations

/** Bytes → `1.2 kB`, `83 MB` (SI, base 1000, like IG's go-humanize). JSON keeps the raw number. */
export function formatBytes(v: unknown): string {
  const n = toNumber(v);
  if (!Number.isFinite(n)) return String(v);
  if (n < 10) return `${n} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.min(Math.floor(Math.log(n) / Math.log(1000)), units.length - 1);
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return val < 10 ? `${val.toFixed(1)} ${units[e]}` : `${val.toFixed(0)} ${units[e]}`;
}

/**
 * ns → `850ns`, `12.50µs`, `1.50ms`, `1.5s`, `2m3.5s` (IG's formatDuration; ≥1s as Go's
 * time.Duration.String()). JSON keeps the raw number.
 */
export function formatDuration(v: unknown): string {
  const b = toBigInt(v) ?? (typeof v === 'number' && Number.isFinite(v) ? BigInt(Math.trunc(v)) : undefined);
  if (b === undefined) return String(v);
  const neg = b < 0n;
  const ns = neg ? -b : b;
  const sign = neg ? '-' : '';
  if (ns < 1000n) return `${sign}${ns}ns`;
  if (ns < 1_000_000n) return `${sign}${(Number(ns) / 1e3).toFixed(2)}µs`;
  if (ns < 1_000_000_000n) return `${sign}${(Number(ns) / 1e6).toFixed(2)}ms`;
  // Go Duration.String for >= 1s: [h]h[m]m[s.fraction]s, fraction without trailing zeros
  const h = ns / 3_600_000_000_000n;
  const m = (ns / 60_000_000_000n) % 60n;
  const s = (ns / 1_000_000_000n) % 60n;
  const frac = ns % 1_000_000_000n;
  let sec = String(s);
  if (frac !== 0n) sec += '.' + String(frac).padStart(9, '0').replace(/0+$/, '');
  let out = sec + 's';
  if (h > 0n) out = `${h}h${m}m` + out;
  else if (m > 0n) out = `${m}m` + out;
  return sign + out;
}

// ---------------------------------------------------------------- registry

/** Formatters by BTF typedef name. Enums are per type: use `enumFormatter`. */
/**
 * Flags and modes take few distinct values (a handful of open flag sets, a few modes), and
 * formatting them builds several strings: remember the last few hundred results.
 */
function memoized(fn: (v: unknown) => string, max = 512): (v: unknown) => string {
  const cache = new Map<unknown, string>();
  return (v) => {
    let s = cache.get(v);
    if (s === undefined) {
      s = fn(v);
      if (cache.size >= max) cache.clear();
      cache.set(v, s);
    }
    return s;
  };
}

export const formatters: Record<string, (v: unknown) => string> = {
  gadget_timestamp: (v) => formatTimestamp(v),
  gadget_errno: formatErrno,
  gadget_signal: formatSignal,
  gadget_syscall: formatSyscall,
  gadget_uid: formatUid,
  gadget_gid: formatGid,
  gadget_file_flags: memoized(formatFileFlags),
  gadget_file_mode: memoized(formatFileMode),
  gadget_l3endpoint_t: formatL3Endpoint,
  gadget_l4endpoint_t: formatL4Endpoint,
  gadget_bytes: formatBytes,
  gadget_duration: formatDuration,
};
