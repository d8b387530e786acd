import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  enumFormatter,
  formatBytes,
  formatDuration,
  formatEnum,
  formatEnumSet,
  formatErrno,
  formatFileFlags,
  formatFileMode,
  formatIPv6,
  formatL3Endpoint,
  formatL4Endpoint,
  formatProto,
  formatSignal,
  formatSyscall,
  formatters,
  IdNameResolver,
  setIdFiles,
  syscallName,
} from '../../src/format/index.js';

describe('errno', () => {
  it('names errnos, 0 is empty, unknown is the number', () => {
    expect(formatErrno(2)).toBe('ENOENT');
    expect(formatErrno(-13)).toBe('EACCES');
    expect(formatErrno(11)).toBe('EAGAIN');
    expect(formatErrno(133)).toBe('EHWPOISON');
    expect(formatErrno(512)).toBe('ERESTARTSYS');
    expect(formatErrno(0)).toBe('');
    expect(formatErrno(9999)).toBe('9999');
    expect(formatters.gadget_errno!(1n)).toBe('EPERM');
  });
});

describe('signal', () => {
  it('names signals incl. real-time ones', () => {
    expect(formatSignal(9)).toBe('SIGKILL');
    expect(formatSignal(17)).toBe('SIGCHLD');
    expect(formatSignal(31)).toBe('SIGSYS');
    expect(formatSignal(32)).toBe('SIGRTMIN');
    expect(formatSignal(34)).toBe('SIGRTMIN+2');
    expect(formatSignal(64)).toBe('SIGRTMAX');
    expect(formatSignal(65)).toBe('65');
  });
});

describe('syscall', () => {
  it('uses the x86_64 table and IG spelling', () => {
    expect(syscallName(0)).toBe('read');
    expect(syscallName(257)).toBe('openat');
    expect(syscallName(435)).toBe('clone3');
    expect(syscallName(462)).toBe('mseal');
    expect(formatSyscall(41)).toBe('SYS_SOCKET');
    expect(formatSyscall(59n)).toBe('SYS_EXECVE');
    expect(formatSyscall(1000)).toBe('1000');
  });
});

describe('file flags and modes', () => {
  it('renders open flags', () => {
    expect(formatFileFlags(0)).toBe('O_RDONLY');
    expect(formatFileFlags(0o2000000)).toBe('O_RDONLY|O_CLOEXEC');
    expect(formatFileFlags(0o1101)).toBe('O_WRONLY|O_CREAT|O_TRUNC');
    expect(formatFileFlags(0o2 | 0o4010000)).toBe('O_RDWR|O_SYNC');
    expect(formatFileFlags(0o20200000 | 2)).toBe('O_RDWR|O_TMPFILE');
    expect(formatFileFlags(0o2200000)).toBe('O_RDONLY|O_DIRECTORY|O_CLOEXEC');
    expect(formatFileFlags(0x40000000)).toBe('O_RDONLY|0x40000000');
  });
  it('renders modes like ls', () => {
    expect(formatFileMode(0o644)).toBe('-rw-r--r--');
    expect(formatFileMode(0o100755)).toBe('-rwxr-xr-x');
    expect(formatFileMode(0o40755)).toBe('drwxr-xr-x');
    expect(formatFileMode(0o120777)).toBe('lrwxrwxrwx');
    expect(formatFileMode(0o41777)).toBe('drwxrwxrwt');
    expect(formatFileMode(0o104755)).toBe('-rwsr-xr-x');
    expect(formatFileMode(0o102644)).toBe('-rw-r-Sr--');
    expect(formatFileMode(0o20620)).toBe('crw--w----');
    expect(formatFileMode(0o10600)).toBe('prw-------');
    expect(formatFileMode(0o140777)).toBe('srwxrwxrwx');
    expect(formatFileMode(0o60660)).toBe('brw-rw----');
  });
});

describe('endpoints', () => {
  const v4 = (a: number[]) => [...a, ...new Array(12).fill(0)];
  it('formats IPv4 and IPv6 endpoints', () => {
    expect(formatL4Endpoint({ addr: v4([10, 0, 0, 1]), version: 4, port: 80, proto: 6 })).toBe('10.0.0.1:80');
    const lo6 = new Uint8Array(16);
    lo6[15] = 1;
    expect(formatL4Endpoint({ addr: lo6, version: 6, port: 8080 })).toBe('[::1]:8080');
    expect(formatL3Endpoint({ addr: lo6, version: 6 })).toBe('::1');
    expect(formatL3Endpoint({ addr: v4([192, 168, 1, 2]), version: 4 })).toBe('192.168.1.2');
  });
  it('shows IPv4-mapped IPv6 as IPv4', () => {
    const m = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];
    expect(formatL4Endpoint({ addr: m, version: 6, port: 53 })).toBe('127.0.0.1:53');
  });
  it('compresses IPv6 as RFC 5952', () => {
    const a = Buffer.from('20010db8000000000001000000000001', 'hex');
    expect(formatIPv6(a)).toBe('2001:db8::1:0:0:1');
    expect(formatIPv6(Buffer.from('fe800000000000000202b3fffe1e8329', 'hex'))).toBe('fe80::202:b3ff:fe1e:8329');
    expect(formatIPv6(new Uint8Array(16))).toBe('::');
    expect(formatIPv6(Buffer.from('20010db8000100010001000100010001', 'hex'))).toBe('2001:db8:1:1:1:1:1:1');
    expect(formatIPv6(Buffer.from('20010db8000000010000000000000000', 'hex'))).toBe('2001:db8:0:1::');
  });
  it('names protocols', () => {
    expect(formatProto(6)).toBe('TCP');
    expect(formatProto(17)).toBe('UDP');
    expect(formatProto(200)).toBe('200');
  });
});

describe('enums', () => {
  const en = [
    { name: 'A', value: 1 },
    { name: 'B', value: 2 },
    { name: 'C', value: 4 },
    { name: 'AB', value: 3 },
  ];
  it('names a value', () => {
    expect(formatEnum(en, 2)).toBe('B');
    expect(formatEnum(en, 7)).toBe('7');
    expect(enumFormatter('my_enum', en)(4)).toBe('C');
  });
  it('joins a bit set', () => {
    expect(formatEnumSet(en, 6)).toBe('B|C');
    expect(formatEnumSet(en, 7)).toBe('AB|C');
    expect(formatEnumSet(en, 0x14)).toBe('C|0x10');
    expect(formatEnumSet(en, 0)).toBe('');
    expect(formatEnumSet([{ name: 'NONE', value: 0 }, ...en], 0)).toBe('NONE');
    expect(enumFormatter('flags_set', en)(5n)).toBe('A|C');
  });
});

describe('bytes and durations', () => {
  it('formats sizes like go-humanize', () => {
    expect(formatBytes(5)).toBe('5 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1234)).toBe('1.2 kB');
    expect(formatBytes(83_000_000)).toBe('83 MB');
    expect(formatBytes(1n << 40n)).toBe('1.1 TB');
  });
  it('formats durations like IG', () => {
    expect(formatDuration(850)).toBe('850ns');
    expect(formatDuration(12_500)).toBe('12.50µs');
    expect(formatDuration(1_500_000n)).toBe('1.50ms');
    expect(formatDuration(1_500_000_000n)).toBe('1.5s');
    expect(formatDuration(123_500_000_000n)).toBe('2m3.5s');
    expect(formatDuration(3_600_000_000_000n)).toBe('1h0m0s');
  });
});

describe('uid/gid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ig-fmt-'));
  const passwd = join(dir, 'passwd');
  const group = join(dir, 'group');
  writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\n# comment\nalice:x:1000:1000::/home/alice:/bin/sh\n');
  writeFileSync(group, 'root:x:0:\nstaff:x:50:alice\n');
  afterAll(() => setIdFiles('/etc/passwd', '/etc/group'));
  it('resolves names, unknown ids stay numbers', () => {
    setIdFiles(passwd, group);
    expect(formatters.gadget_uid!(0)).toBe('root');
    expect(formatters.gadget_uid!(1000)).toBe('alice');
    expect(formatters.gadget_uid!(4242)).toBe('4242');
    expect(formatters.gadget_gid!(50)).toBe('staff');
    expect(formatters.gadget_gid!(51)).toBe('51');
  });
  it('re-reads the file for ids it does not know', () => {
    const r = new IdNameResolver(passwd, 0);
    expect(r.format(2000)).toBe('2000');
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\nbob:x:2000:2000::/:/bin/sh\n');
    // make the mtime differ even on coarse-grained file systems
    const later = new Date(Date.now() + 5000);
    utimesSync(passwd, later, later);
    expect(r.format(2000)).toBe('bob');
  });
  it('falls back to the number when the file is missing', () => {
    expect(new IdNameResolver(join(dir, 'nope')).format(0)).toBe('0');
  });
});
