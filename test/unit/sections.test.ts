// IG's section grammar → how ig loads and attaches each program, and the errors that name a
// section ig cannot place. Also the library-name resolution uprobes use (ld.so.cache, maps).
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { sectionInfo, attachesPerTarget } from '../../src/runtime/sections.js';
import { fromLdCache, fromMaps } from '../../src/runtime/symbols/libraries.js';
import { KernelSymbols } from '../../src/runtime/symbols/kallsyms.js';
import { ProgType, AttachType } from '../../src/model/kernel.js';

const prog = (section: string, type: number = ProgType.UNSPEC, expectedAttachType = 0) => ({ name: 'p', section, type, expectedAttachType });

describe('section grammar', () => {
  it('sets the program type where libbpf 1.5 does not know the name', () => {
    expect(sectionInfo(prog('socket1'))).toEqual({ plan: { kind: 'socket' }, fixType: { type: ProgType.SOCKET_FILTER } });
    expect(sectionInfo(prog('socket', ProgType.SOCKET_FILTER))).toEqual({ plan: { kind: 'socket' }, fixType: undefined });
    expect(sectionInfo(prog('classifier/egress/main'))).toEqual({ plan: { kind: 'classifier', direction: 'egress' }, fixType: { type: ProgType.SCHED_CLS } });
    expect(sectionInfo(prog('perf_event/profiler'))).toEqual({ plan: { kind: 'perf-event', name: 'profiler' }, fixType: { type: ProgType.PERF_EVENT } });
    expect(sectionInfo(prog('tcx/ingress/x'))).toEqual({ plan: { kind: 'tcx', direction: 'ingress' }, fixType: { type: ProgType.SCHED_CLS, expectedAttachType: AttachType.TCX_INGRESS } });
    expect(sectionInfo(prog('tc/egress', ProgType.SCHED_CLS)).plan).toEqual({ kind: 'tcx', direction: 'egress' });
    expect(sectionInfo(prog('xdp', ProgType.XDP))).toEqual({ plan: { kind: 'xdp' }, fixType: undefined });
  });

  it('reads uprobe, uretprobe and usdt targets by path or library name', () => {
    expect(sectionInfo(prog('uprobe/libc:malloc', ProgType.KPROBE)).plan).toEqual({ kind: 'uprobe', probe: 'uprobe', target: 'libc', symbol: 'malloc' });
    expect(sectionInfo(prog('uretprobe//usr/bin/bash:readline', ProgType.KPROBE)).plan).toEqual({ kind: 'uprobe', probe: 'uretprobe', target: '/usr/bin/bash', symbol: 'readline' });
    expect(sectionInfo(prog('usdt/libstdc++:libstdcxx:throw', ProgType.KPROBE)).plan).toEqual({ kind: 'uprobe', probe: 'usdt', target: 'libstdc++', symbol: 'libstdcxx:throw' });
    expect(() => sectionInfo(prog('uprobe/libc', ProgType.KPROBE))).toThrow(/must be uprobe\/<path or library>:<symbol>/);
    expect(() => sectionInfo(prog('uprobe/lib/x.so:f', ProgType.KPROBE))).toThrow(/neither an absolute path nor a library name/);
    expect(() => sectionInfo(prog('usdt/libc:only', ProgType.KPROBE))).toThrow(/usdt\/<path or library>:<provider>:<name>/);
  });

  it('knows disabled, iterators, cgroup hooks, and refuses what it cannot place, naming the section', () => {
    expect(sectionInfo(prog('kprobe/gadget_program_disabled', ProgType.KPROBE)).plan).toEqual({ kind: 'disabled' });
    expect(sectionInfo(prog('iter/task', ProgType.TRACING)).plan).toEqual({ kind: 'iter' });
    expect(sectionInfo(prog('cgroup/sock_create', ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE)).plan).toEqual({ kind: 'cgroup', attachType: AttachType.CGROUP_INET_SOCK_CREATE });
    expect(sectionInfo(prog('tracepoint/syscalls/sys_enter_openat', ProgType.TRACEPOINT)).plan).toEqual({ kind: 'auto' });
    expect(() => sectionInfo(prog('classifier/sideways/x'))).toThrow(/direction must be ingress or egress, not "sideways"/);
    expect(() => sectionInfo(prog('classifier'))).toThrow(/does not say where to attach/);
    expect(() => sectionInfo(prog('program1'))).toThrow(/section "program1" is not a program type ig knows/);
    expect(attachesPerTarget([prog('socket1'), prog('xdp', ProgType.XDP)])).toBe(true);
    expect(attachesPerTarget([prog('xdp', ProgType.XDP)])).toBe(false);
  });
});

describe('library names', () => {
  it.skipIf(!existsSync('/etc/ld.so.cache'))('ld.so.cache gives libc for "libc", for this architecture only', () => {
    const found = fromLdCache(readFileSync('/etc/ld.so.cache'), 'libc');
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((p) => /\/libc\.so\.\d+$/.test(p))).toBe(true);
    expect(fromLdCache(readFileSync('/etc/ld.so.cache'), 'libnosuchthing')).toEqual([]);
    expect(fromLdCache(Buffer.from('not a cache'), 'libc')).toEqual([]);
  });

  it('a process\'s maps give the library (musl\'s loader counts as libc)', () => {
    const maps = [
      '7f0000000000-7f0000001000 r-xp 00000000 fe:00 123 /usr/lib/x86_64-linux-gnu/libc.so.6',
      '7f0000002000-7f0000003000 r-xp 00000000 fe:00 124 /lib/ld-musl-x86_64.so.1',
      '7f0000004000-7f0000005000 rw-p 00000000 00:00 0 [heap]',
    ].join('\n');
    expect(fromMaps(maps, 'libc')).toEqual(['/usr/lib/x86_64-linux-gnu/libc.so.6', '/lib/ld-musl-x86_64.so.1']);
    expect(fromMaps(maps, 'libssl')).toEqual([]);
  });
});

describe('kernel symbols', () => {
  it('names an address by the nearest text symbol at or below it', () => {
    const k = KernelSymbols.parse('ffffffff81000000 T _stext\nffffffff81000100 t do_thing\nffffffff81000200 D some_data\nffffffff81000300 T other\t[mod]\n');
    expect(k.lookup(0xffffffff81000150n)).toBe('do_thing');
    expect(k.lookup(0xffffffff81000250n)).toBe('do_thing'); // data symbols never hold code
    expect(k.lookup(0xffffffff81000300n)).toBe('other');
    expect(k.lookup(0x1000n)).toBe('[unknown]');
  });
});
