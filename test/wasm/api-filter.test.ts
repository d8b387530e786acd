// IG's wasm API, shouldDiscardMntnsID (guests/filter.c): without a container selection nothing is
// discarded; selecting a container that does not exist leaves the host's mount namespace out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIg } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { mntnsOf } from '../helpers/kernel.js';
import { buildWasmGadget, guestLines } from '../helpers/wasm.js';

const store = tempStore();
beforeAll(() => buildWasmGadget('filter', 'wasm_filter', store.env), 120_000);
afterAll(() => store.cleanup());

describe('wasm shouldDiscardMntnsID', () => {
  it('follows the run\'s container selection', async () => {
    const host = mntnsOf('self');
    const all = await runIg(['run', 'wasm_filter', '-o', 'json', '-t', '0.5', '--mntns', String(host)], { env: store.env });
    expect(all.code, all.stderr).toBe(0);
    expect(guestLines(all.stderr)).toEqual([`discard ${host}: 0, discard 555: 0`]);
    const none = await runIg(['run', 'wasm_filter', '-o', 'json', '-t', '0.5', '-c', 'no-such-container-ig', '--mntns', String(host)], { env: store.env });
    expect(none.code, none.stderr).toBe(0);
    expect(guestLines(none.stderr)).toEqual([`discard ${host}: 1, discard 555: 0`]);
  });
});
