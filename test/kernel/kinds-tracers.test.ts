// Every kind of tracer through the real CLI (`ig run … -o json`): the map-name convention with a
// ring buffer and with a perf buffer, the marker convention with params, every decoding shape,
// and the perf-buffer fallback giving the same output. Trigger: a copy of /bin/pwd under a
// name of our own (comm `igkpwd`), so getcwd(2) calls of other tests on the machine never count.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonLines, runIg } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { runWith, cleanErrorProblems, uptimeNs } from '../helpers/run-with.js';
import { getcwdTrigger } from '../helpers/getcwd.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-kinds-'));
const trigger = getcwdTrigger(work, 'igkpwd');
const COMM = trigger.comm;
const pwd = trigger.run;


beforeAll(async () => {
  for (const g of ['print_ringbuf', 'print_perf', 'marker_tracer', 'decode_shapes']) {
    await buildGadget(`test/gadgets/${g}`, g, env);
  }
}, 120_000);
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** The events of the given pids, in output order; fails when a pid has no or several events. */
function oneEach(stdout: string, pids: number[]): Record<string, unknown>[] {
  const events = jsonLines(stdout).filter((e) => !('lost' in e));
  const mine = events.filter((e) => pids.includes(e.pid as number));
  expect(mine.map((e) => e.pid)).toEqual(pids);
  return mine;
}

describe('map-name convention tracers', () => {
  it('print_ringbuf: one event per getcwd with pid, tid, comm and a growing counter', async () => {
    const r = await runWith(['run', 'print_ringbuf', '-o', 'json', '-t', '2'], env, () => pwd(3));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning|error/);
    const ev = oneEach(r.stdout, r.triggered);
    for (const e of ev) {
      expect(Object.keys(e).sort()).toEqual(['comm', 'counter', 'pid', 'tid']);
      expect(e.tid).toBe(e.pid);
      expect(e.comm).toBe(COMM);
      expect(Number.isInteger(e.counter) && (e.counter as number) > 0).toBe(true);
    }
    // counter = n-th getcwd seen by this instance: strictly increasing across our runs
    const counters = ev.map((e) => e.counter as number);
    expect([...counters].sort((a, b) => a - b)).toEqual(counters);
    expect(new Set(counters).size).toBe(3);
  });

  it('print_perf: one event per getcwd with pid, tid, comm and a boot-time timestamp', async () => {
    const before = uptimeNs();
    const r = await runWith(['run', 'print_perf', '-o', 'json', '-t', '2'], env, () => pwd(2));
    const after = uptimeNs();
    expect(r.code, r.stderr).toBe(0);
    const ev = oneEach(r.stdout, r.triggered);
    for (const e of ev) {
      expect(Object.keys(e).sort()).toEqual(['comm', 'pid', 'tid', 'timestamp']);
      expect(e.tid).toBe(e.pid);
      expect(e.comm).toBe(COMM);
      // a plain u64 (not gadget_timestamp): boot ns, between the two /proc/uptime readings (10 ms resolution)
      expect(e.timestamp as number).toBeGreaterThanOrEqual(before - 20e6);
      expect(e.timestamp as number).toBeLessThanOrEqual(after + 20e6);
    }
    expect(ev[0]!.timestamp as number).toBeLessThan(ev[1]!.timestamp as number);
  });
});

describe('marker convention tracer', () => {
  it('marker_tracer --multiplier 3 --tag hello --comm igkpwd: counter = n*3, tag copied, kernel-side comm filter', async () => {
    const r = await runWith(
      ['run', 'marker_tracer', '--multiplier', '3', '--tag', 'hello', '--comm', COMM, '-o', 'json', '-t', '2'],
      env, () => pwd(3),
    );
    expect(r.code, r.stderr).toBe(0);
    const all = jsonLines(r.stdout);
    // --comm is a kernel filter: nothing else got through
    expect(all.every((e) => e.comm === COMM)).toBe(true);
    const ev = oneEach(r.stdout, r.triggered);
    expect(ev.map((e) => e.counter)).toEqual([3, 6, 9]);
    const me = spawnSync('stat', ['-Lc', '%i', '/proc/self/ns/mnt'], { encoding: 'utf8' }).stdout.trim();
    for (const e of ev) {
      expect(e.tag).toBe('hello');
      expect(e.tid).toBe(e.pid);
      expect(e.uid).toBe(0);
      expect(e.mntns_id).toBe(Number(me));
      expect(typeof e.timestamp_raw).toBe('number');
      // gadget_timestamp → wall clock, within a minute of now
      expect(Math.abs(Date.parse(e.timestamp as string) - Date.now())).toBeLessThan(60_000);
    }
  });

  it('defaults come from .rodata: tag "default", multiplier 1', async () => {
    const r = await runWith(['run', 'marker_tracer', '--comm', COMM, '-o', 'json', '-t', '1.5'], env, () => pwd(2));
    expect(r.code, r.stderr).toBe(0);
    const ev = oneEach(r.stdout, r.triggered);
    expect(ev.map((e) => [e.tag, e.counter])).toEqual([['default', 1], ['default', 2]]);
  });
});

/** The values of test/gadgets/README.md, as `ig run -o json` prints them. */
const SHAPES: Record<string, unknown> = {
  flag_true: true, flag_false: false, u8_max: 255, s8_min: -128, u16_max: 65535, s16_min: -32768,
  u32_max: 4294967295, s32_min: -2147483648,
  // integers beyond 2^53 are JSON strings holding the exact decimal value (src/output/json.ts)
  u64_max: '18446744073709551615', s64_min: '-9223372036854775808', s64_max: '9223372036854775807',
  s32_neg1: -1, f32: 1.5, f64: -2.25, str: 'hello', str_full: 'ABCDEFGH', fds: [3, -1], u16_arr: [1, 2, 65535],
  chained: 7, nested: { a: 1, b: -2, deeper: { deep: 3 } },
  bf_a: 5, bf_b: 17, bf_c: -3, bf_d: 703710, after_bf: 3735928559,
  color: 'BLUE', color_unknown: '9', perms: 'PERM_READ|PERM_EXEC', perms_extra: 'PERM_WRITE|0x8',
  error_raw: 2, error: 'ENOENT', sig_raw: 9, sig: 'SIGKILL', syscall_raw: 79, syscall: 'SYS_GETCWD',
  uid: 0, gid: 0, comm: COMM, mntns_id: 4026531841, netns_id: 4026531840,
  flags_raw: 0x80041, flags: 'O_WRONLY|O_CREAT|O_CLOEXEC', mode_raw: 0o644, mode: '-rw-r--r--',
  mode_reg_raw: 0o100644, mode_reg: '-rw-r--r--', bytes: 1048576, duration: 1500000000,
  last: '72623859790382856',
};

function checkShapes(e: Record<string, unknown>, pid: number) {
  for (const [k, v] of Object.entries(SHAPES)) expect(e[k], k).toEqual(v);
  expect(e.un).toEqual({ as_u32: 67305985, as_bytes: [1, 2, 3, 4] });
  expect(e.pid).toBe(pid);
  expect(Math.abs(Date.parse(e.timestamp as string) - Date.now())).toBeLessThan(60_000);
  // endpoints: the address as text (IG's `addr` sub-field), port, protocol name
  expect(e.l3v4).toMatchObject({ addr: '10.0.0.1', version: 4 });
  expect(e.l3v6).toMatchObject({ addr: '2001:db8::1', version: 6 });
  expect(e.l4v4).toMatchObject({ addr: '192.168.1.2', port: 8080, proto: 'TCP', proto_raw: 6, version: 4 });
  expect(e.l4v6).toMatchObject({ addr: '::1', port: 53, proto: 'UDP', proto_raw: 17, version: 6 });
  expect(Object.keys(e).some((k) => k.startsWith('__'))).toBe(false);
}

/** An event without the fields that differ from run to run. */
function stable(e: Record<string, unknown>): Record<string, unknown> {
  const { timestamp: _t, timestamp_raw: _r, pid: _p, tid: _i, counter: _c, ...rest } = e;
  return rest;
}

describe('decode_shapes: every decoding shape round-trips', () => {
  let ringEvents: Record<string, unknown>[] = [];

  it('ring buffer: every value of the README', async () => {
    const r = await runWith(['run', 'decode_shapes', '--comm', COMM, '-o', 'json', '-t', '1.5'], env, () => pwd(1));
    expect(r.code, r.stderr).toBe(0);
    ringEvents = oneEach(r.stdout, r.triggered);
    checkShapes(ringEvents[0]!, r.triggered[0]!);
    // the exact u64 max is in the JSON text
    expect(r.stdout).toContain('"u64_max":"18446744073709551615"');
  });

  it('--force-perf-buffer gives identical events (minus time and pid)', async () => {
    const r = await runWith(['run', 'decode_shapes', '--force-perf-buffer', '--comm', COMM, '-o', 'json', '-t', '1.5'], env, () => pwd(1));
    expect(r.code, r.stderr).toBe(0);
    const ev = oneEach(r.stdout, r.triggered);
    checkShapes(ev[0]!, r.triggered[0]!);
    expect(ringEvents.length).toBe(1);
    expect(stable(ev[0]!)).toEqual(stable(ringEvents[0]!));
    expect(Object.keys(ev[0]!)).toEqual(Object.keys(ringEvents[0]!));
  });

  it('columns: endpoints, enums and formatted types as text', async () => {
    const r = await runWith(
      ['run', 'decode_shapes', '--comm', COMM, '-t', '1.5', '--fields', 'l3v4,l3v6,l4v4,l4v6,color,error,sig,u64_max'],
      env, () => pwd(1),
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['L3V4', 'L3V6', 'L4V4', 'L4V6', 'COLOR', 'ERROR', 'SIG', 'U64_MAX']);
    expect(lines[1]!.split(/\s+/)).toEqual(['10.0.0.1', '2001:db8::1', '192.168.1.2:8080', '[::1]:53', 'BLUE', 'ENOENT', 'SIGKILL', '18446744073709551615']);
  });
});

describe('marker_tracer through the perf-buffer fallback', () => {
  it('gives the same events as the ring buffer', async () => {
    const args = ['run', 'marker_tracer', '--multiplier', '2', '--tag', 'p', '--comm', COMM, '-o', 'json', '-t', '1.5'];
    const ring = await runWith(args, env, () => pwd(2));
    const perf = await runWith([...args, '--force-perf-buffer'], env, () => pwd(2));
    expect(ring.code, ring.stderr).toBe(0);
    expect(perf.code, perf.stderr).toBe(0);
    const a = oneEach(ring.stdout, ring.triggered);
    const b = oneEach(perf.stdout, perf.triggered);
    expect(b.map((e) => e.counter)).toEqual([2, 4]);
    expect(b.map(stable)).toEqual(a.map(stable));
  });
});

describe('bad input is refused clearly (error: …, non-zero exit, no stack trace)', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown param', ['--bogus-param', '1'], /unknown flag --bogus-param/],
    ['a param of the wrong type', ['--multiplier', 'abc'], /--multiplier: "abc" is not an integer/],
    ['a param out of range', ['--multiplier', '-1'], /--multiplier: -1 is out of range/],
    ['a string param too long', ['--tag', 'x'.repeat(20)], /--tag: .* longer than 15 bytes/],
    ['a filter on an unknown field', ['-F', 'nosuchfield==1'], /unknown field "nosuchfield"/],
    ['a filter without an operator', ['-F', 'pid'], /filter: expected an operator/],
    ['a filter without a field', ['-F', '==3'], /does not start with a field name/],
    ['a filter comparing a number field with text', ['-F', 'pid==abc'], /"pid" is numeric/],
    ['a filter with a broken regex', ['-F', 'comm~('], /invalid regular expression/],
  ];
  for (const [what, args, re] of cases) {
    it(what, async () => {
      const r = await runIg(['run', 'marker_tracer', ...args, '-t', '1', '-o', 'json'], { env });
      expect(cleanErrorProblems(r, re), r.stderr).toEqual([]);
      expect(r.stdout).toBe('');
    });
  }
});
