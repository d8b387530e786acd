// `ig run`'s parser without yargs (src/cli/run/fast-flags.ts) against yargs itself: on every
// command line either it steps aside (undefined) or it reads exactly what yargs reads.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastParams, fastRunFlags } from '../../src/cli/run/fast-flags.js';
import { base, parseWithParams } from '../../src/cli/run/gadget-flags.js';
import { joinDashValues, runOptions } from '../../src/cli/run/flags.js';
import { globalOptions } from '../../src/cli/options.js';
import { containerOptions } from '../../src/cli/container-options.js';
import type { ParamSpec } from '../../src/gadget/params.js';

const param = (key: string, kind: ParamSpec['kind'], choices?: string[]) =>
  ({ key, variable: key, section: '.rodata', offset: 0, size: 4, kind, default: choices?.[0] ?? '', choices: choices?.map((name, value) => ({ name, value })) }) as ParamSpec;
const PARAMS = [param('pid', 'uint'), param('comm', 'string'), param('failed', 'bool'), param('mode', 'enum', ['a', 'b'])];
const KNOWN = Object.keys({ ...globalOptions, ...runOptions, ...containerOptions });

// what users type, and the corners where yargs reads words its own way
const LINES = [
  'run trace_open',
  'run trace_open -o json',
  'run trace_open --output=json --fields pid,comm',
  'run trace_open -o columns --timeout 5',
  'run trace_open -t -1',
  'run trace_open --sort -pid --max-entries 3',
  'run trace_open -F comm==cat -F pid>1',
  'run trace_open --filter comm==cat',
  'run trace_open --host',
  'run trace_open --host=false',
  'run trace_open --no-host',
  'run trace_open -c web --host',
  'run trace_open --pid 42',
  'run trace_open --pid=42 --comm cat -o json',
  'run trace_open --failed',
  'run trace_open --failed=false',
  'run trace_open --no-failed',
  'run trace_open --mode b',
  'run trace_open --mode c',
  'run trace_open --bogus',
  'run trace_open --bogus 3',
  'run trace_open --pid',
  'run trace_open --pid 1 --pid 2',
  'run trace_open -o json -o columns',
  'run trace_open -o xml',
  'run trace_open --output',
  'run trace_open --output -x',
  'run trace_open --host true',
  'run trace_open --failed true',
  'run trace_open --failed yes',
  'run trace_open extra',
  'run trace_open -F a b',
  'run trace_open -oj',
  'run trace_open -h',
  'run trace_open --help',
  'run trace_open --k8s',
  'run trace_open --remote-address unix:///x',
  'run trace_open --config /dev/null',
  'run trace_open --no-fields',
  'run trace_open --Pid 3',
  'run trace_open --pull never --insecure-registries a:5000',
  'run trace_open --map-fetch-interval=500ms --map-fetch-count 2',
  'run trace_open --force-perf-buffer --buffer-size 8M',
  'run trace_open -r docker --containerd-namespace x',
  'run trace_open --k8s-namespace ns -n other',
  'run trace_open --namespace ns',
  'run trace_open -- --pid 1',
  'run 123',
  'run --pid 1 trace_open',
  'run localhost:5000/trace_open:v1 -o json',
];

let saved: Record<string, string | undefined>;
beforeAll(() => {
  // no config file of the machine or the user may decide what the parsers see
  saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, IG_CONFIG: process.env.IG_CONFIG };
  process.env.HOME = mkdtempSync(path.join(os.tmpdir(), 'ig-fast-flags-'));
  delete process.env.XDG_CONFIG_HOME;
  delete process.env.IG_CONFIG;
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
});

async function yargsFirst(argv: string[]) {
  return (await base(argv).help(false).strict(false).exitProcess(false).fail((m, e) => { throw e ?? new Error(m); }).parseAsync()) as Record<string, unknown>;
}

async function yargsStrict(argv: string[]) {
  try {
    return await parseWithParams(argv, 'trace_open', { reference: 'trace_open', params: PARAMS, datasources: [] });
  } catch (e) {
    return e as Error;
  }
}

describe('ig run without yargs', () => {
  it.skipIf(process.env.IG_CONFIG !== undefined)('reads the plain command lines itself', () => {
    expect(fastRunFlags(joinDashValues('run trace_open -o json'.split(' ')))).toBeDefined();
    expect(fastRunFlags(joinDashValues('run trace_open --pid 42 --sort -pid'.split(' ')))).toBeDefined();
  });

  for (const line of LINES) {
    it(`agrees with yargs: ig ${line}`, async () => {
      const argv = joinDashValues(line.split(' '));
      const fast = fastRunFlags(argv);
      if (!fast) return; // yargs decides, as before
      const y = await yargsFirst(argv);
      expect(fast.image).toBe(String((y._ as unknown[])[1]));
      for (const k of KNOWN) expect([k, fast.args[k]]).toEqual([k, y[k]]);
      const params = fastParams(fast, PARAMS);
      if (!params) return; // the strict parse decides (and says what is wrong)
      const strict = await yargsStrict(argv);
      expect(strict).not.toBeInstanceOf(Error);
      expect(params).toEqual((strict as { params: Record<string, string> }).params);
      for (const k of KNOWN) expect([k, fast.args[k]]).toEqual([k, (strict as { args: Record<string, unknown> }).args[k]]);
    });
  }

  it('steps aside for lines only yargs reads right', () => {
    for (const line of ['run trace_open -h', 'run trace_open extra', 'run trace_open -F a b', 'run trace_open -o json -o columns', 'run trace_open --k8s', 'run 123']) {
      expect([line, fastRunFlags(joinDashValues(line.split(' ')))]).toEqual([line, undefined]);
    }
    const bogus = fastRunFlags(joinDashValues('run trace_open --bogus 3'.split(' ')));
    expect(bogus && fastParams(bogus, PARAMS)).toBeUndefined();
  });
});
