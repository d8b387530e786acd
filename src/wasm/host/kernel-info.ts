/**
 * IG's kallsyms and mount-namespace filter functions (kallsyms.go, filter.go).
 *  - kallsymsSymbolExists: whether /proc/kallsyms names the symbol (read once per run, on first use).
 *  - shouldDiscardMntnsID: whether the run's container selection leaves this mount namespace out;
 *    0 when the run selects no containers (IG: no filter map, keep everything). IG looks the id
 *    up in the gadget's filter map; ig asks the same question of the kernel side through the
 *    engine, which knows whether that map lists namespaces to keep or to drop.
 */
import { readFileSync } from 'node:fs';
import { BadPointer } from '../memory.js';
import type { Host } from './host.js';

export function kernelInfoFunctions(h: Host, selection: () => ((mntns: bigint) => boolean) | undefined) {
  let symbols: Set<string> | undefined;
  const loadSymbols = (): Set<string> => {
    const set = new Set<string>();
    try {
      for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
        const a = line.indexOf(' ', line.indexOf(' ') + 1);
        if (a < 0) continue;
        const tab = line.indexOf('\t', a + 1);
        set.add(tab < 0 ? line.slice(a + 1) : line.slice(a + 1, tab));
      }
    } catch (e) {
      h.warn('kallsymsSymbolExists', `reading /proc/kallsyms: ${(e as Error).message}`);
    }
    return set;
  };
  return {
    kallsymsSymbolExists(addr: number, len: number): number {
      try {
        const name = h.mem.string(addr, len);
        symbols ??= loadSymbols();
        return symbols.has(name) ? 1 : 0;
      } catch (e) {
        if (e instanceof BadPointer) {
          h.warn('kallsymsSymbolExists', `reading string from stack: ${e.message}`);
          return 0;
        }
        throw e;
      }
    },
    shouldDiscardMntnsID(lo: number, hi: number): number {
      const keep = selection();
      if (!keep) return 0;
      return keep((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)) ? 0 : 1;
    },
  };
}
