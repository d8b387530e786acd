// IG's wasm API, map functions and releaseHandle: a C guest (guests/maps.c) goes through IG's
// map and map-of-maps tests step by step. Run on a daemon, which outlives the run: afterwards it
// holds no map (the one the guest created and left open is closed by ig), and no program.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIg } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { heldBpfIds, waitFor } from '../helpers/kernel.js';
import { startDaemon } from '../helpers/wasm-daemon.js';
import { buildWasmGadget, guestLines } from '../helpers/wasm.js';

const store = tempStore();
beforeAll(() => buildWasmGadget('maps', 'wasm_maps', store.env), 120_000);
afterAll(() => store.cleanup());

describe('wasm maps', () => {
  it('getMap from gadgetStart on, lookup/update/delete with IG\'s rules, newMap, maps of maps; nothing left in the kernel', async () => {
    const d = await startDaemon(store.env);
    try {
      const r = await runIg(['run', 'wasm_maps', '--remote-address', d.address, '-o', 'json', '-t', '1'], { env: store.env });
      expect(r.code, r.stderr).toBe(0);
      const lines = guestLines(r.stderr);
      expect(lines[0]).toBe('test_map in gadgetInit: 0');
      expect(lines.slice(1)).toEqual([
        'getMap test_map', 'put 42', 'lookup gives 42', 'lookup into 2 bytes refused', 'a key of the wrong size refused',
        'update 43 if it exists', 'lookup gives 43', 'delete', 'put again', 'update if it does not exist refused',
        'update with flags 8 refused', 'delete', 'delete again refused', 'closing a gadget map refused', 'releaseHandle of test_map',
        'using a released handle refused', 'newMap map_test', 'put 42 -> 43', 'lookup gives 43', 'a second entry refused (max_entries 1)',
        'newMap of type 99 refused', 'put a map into map_of_map', 'lookup gives a new handle', 'put through the inner handle',
        "seen through newMap's handle", 'delete from map_of_map', 'releaseHandle of the inner map', 'releaseHandle of map_of_map',
        'close map_test', 'close map_test again refused',
      ].map((l) => `${l}: ok`));
      for (const w of [
        'getMap: no map for name "test_map"',
        'mapLookup: writing back value to stack: buffer size 4 is bigger than 2',
        "mapLookup: key is 4 bytes; the map's keys are 12",
        'mapUpdate: invalid flags value 8, expected no more than 4',
        'mapDelete: deleting value: key does not exist in test_map',
        'mapRelease: map 1 was not created by newMap() or was already closed',
        'newMap: unknown map type 99',
      ]) expect(r.stderr).toContain(`warning: wasm wasm_maps: ${w}\n`);
      // the daemon lives on: what the run and its guest created is gone (test_hash was left open by the guest)
      await waitFor(() => { const h = heldBpfIds(d.proc.pid!); return h.maps.length === 0 && h.progs.length === 0; }, 10_000, 'the daemon to release everything');
    } finally {
      d.stop();
    }
  });
});
