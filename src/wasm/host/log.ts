/**
 * IG's log functions (pkg/operators/wasm/log.go): a guest's messages go to the user as ig's own
 * notices do (stderr on the CLI, notice messages on the daemon's stream), prefixed with the level
 * and the module. Error, warn and info are shown (IG's default level is info); debug and trace
 * only with IG_DEBUG set.
 */
import { LOG_LEVEL_NAMES, LogLevel } from '../abi.js';
import { BadPointer } from '../memory.js';
import type { Host } from './host.js';

export function logFunctions(h: Host) {
  return {
    gadgetLog(level: number, addr: number, len: number): void {
      let msg: string;
      try {
        msg = h.mem.string(addr, len);
      } catch (e) {
        if (e instanceof BadPointer) return h.warn('gadgetLog', `reading string from stack: ${e.message}`);
        throw e;
      }
      const name = LOG_LEVEL_NAMES[level >>> 0];
      if (!name) return h.warn('gadgetLog', `gadget used unknown log level: ${level >>> 0} for ${msg}`);
      if ((level >>> 0) > h.o.logLevel) return;
      h.ctx.notice(`${name}: wasm ${h.name}: ${msg}\n`);
    },
    gadgetShouldLog(level: number): number {
      return (level >>> 0) <= h.o.logLevel && (level >>> 0) <= LogLevel.Trace ? 1 : 0;
    },
  };
}
