// IG's wasm API, params, config and log functions (guests/config.c): gadget.yaml's params.wasm
// are run flags the guest reads; setConfig switches a program off (IG's attach_to key); the log
// levels a user sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runIg, spawnIg, collect } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { pwdTimes, PWD_COMM, runWith } from '../helpers/run-with.js';
import { buildWasmGadget, guestLines } from '../helpers/wasm.js';

const store = tempStore();
beforeAll(() => buildWasmGadget('config', 'wasm_config', store.env), 120_000);
afterAll(() => store.cleanup());

const common = [
  'unknown param: -1',
  'greeting into 2 bytes: -1',
];

describe('wasm params, config, log', () => {
  it('a wasm param is a flag with its default; every log level; refusals', async () => {
    const help = await runIg(['run', 'wasm_config', '--help'], { env: store.env });
    expect(help.stdout).toMatch(/--greeting\s+what the module says\s+\[string\] \[default: "hello"\]/);
    const r = await runWith(['run', 'wasm_config', '-o', 'json', '-t', '2', '--comm', PWD_COMM], store.env, () => pwdTimes(1));
    expect(r.code, r.stderr).toBe(0);
    expect(guestLines(r.stderr)).toEqual(['greeting: hello', ...common, 'a uint32 config: 1', 'some info', 'shown: error 1 warn 1 info 1 debug 0 trace 0']);
    expect(guestLines(r.stderr, 'error')).toEqual(['an error']);
    // the guest's own warning, beside the host's (`<call>: …`)
    expect(guestLines(r.stderr, 'warning').filter((l) => !/^\w+: /.test(l))).toEqual(['a warning']);
    for (const w of [
      'getParamValue: param "no-such-param" not found',
      'getParamValue: param "greeting": its value (5 bytes) does not fit the buffer of 1 bytes',
      'setConfig: unsupported type: 8',
      'gadgetLog: gadget used unknown log level: 7 for level seven',
    ]) expect(r.stderr).toContain(`warning: wasm wasm_config: ${w}\n`);
    expect(jsonLines(r.stdout).map((e) => e.pid)).toEqual(r.triggered);
  });

  it('a given value; IG_DEBUG shows debug and trace lines', async () => {
    const r = await runIg(['run', 'wasm_config', '-o', 'json', '-t', '0.5', '--greeting', 'hi there'], { env: { ...store.env, IG_DEBUG: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(guestLines(r.stderr)[0]).toBe('greeting: hi there');
    // (IG_DEBUG also says where the module came from: `debug: wasm NAME: module sha256:…`)
    expect(guestLines(r.stderr, 'debug').filter((l) => !l.startsWith('module sha256:'))).toEqual(['a debug line']);
    expect(guestLines(r.stderr, 'trace')).toEqual(['a trace line']);
    expect(guestLines(r.stderr)).toContain('shown: error 1 warn 1 info 1 debug 1 trace 1');
  });

  it('setConfig programs.<name>.attach_to gadget_program_disabled: loaded, not attached, no events', async () => {
    const child = spawnIg(['run', 'wasm_config', '-o', 'json', '-t', '2.5', '--comm', PWD_COMM, '--disable', 'true'], { env: store.env });
    const done = collect(child);
    await new Promise((res) => setTimeout(res, 1500));
    pwdTimes(3);
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(guestLines(r.stderr)).toContain('disabling wasm_host: 0');
    expect(r.stdout).toBe('');
  });
});
