/**
 * IG's params and config functions (params.go, config.go). A param is one of gadget.yaml's
 * `params.wasm` (a run flag like any gadget param): its value as given, else its default; the
 * value is written without a terminating zero and the call returns 0. setConfig takes strings
 * only, as IG; the keys ig acts on are `programs.<name>.attach_to: gadget_program_disabled`
 * (the program is loaded but not attached, IG's way to switch a program off), set before the
 * gadget starts.
 */
import type { ParamSpec } from '../../gadget/params.js';
import { Kind } from '../abi.js';
import { BadPointer } from '../memory.js';
import type { Host } from './host.js';

const DISABLED_PROGRAM = 'gadget_program_disabled';

export function paramFunctions(h: Host, params: readonly ParamSpec[]) {
  const values = new Map<string, string>();
  for (const p of params) {
    if (p.operator !== 'wasm') continue;
    const v = h.o.params[p.key] ?? p.defaultValue;
    if (v !== undefined) values.set(p.key, v);
  }
  return {
    getParamValue(kAddr: number, kLen: number, dst: number, cap: number): number {
      try {
        const key = h.mem.string(kAddr, kLen);
        const v = values.get(key);
        if (v === undefined) {
          h.warn('getParamValue', `param "${key}" not found`);
          return 1;
        }
        if (!h.mem.write(dst, cap, Buffer.from(v, 'utf8'))) {
          h.warn('getParamValue', `param "${key}": its value (${Buffer.byteLength(v)} bytes) does not fit the buffer of ${cap >>> 0} bytes`);
          return 1;
        }
        return 0;
      } catch (e) {
        if (e instanceof BadPointer) {
          h.warn('getParamValue', e.message);
          return 1;
        }
        throw e;
      }
    },

    setConfig(kAddr: number, kLen: number, vAddr: number, vLen: number, kind: number): number {
      try {
        const key = h.mem.string(kAddr, kLen);
        if (kind !== Kind.String) {
          h.warn('setConfig', `unsupported type: ${kind >>> 0}`);
          return 1;
        }
        const value = h.mem.string(vAddr, vLen);
        h.config.set(key, value);
        const m = key.match(/^programs\.(.+)\.attach_to$/);
        if (m) {
          if (value === DISABLED_PROGRAM) h.ctx.kernelRequests.disabledPrograms.add(m[1]!);
          else h.ctx.kernelRequests.disabledPrograms.delete(m[1]!);
          if (value !== DISABLED_PROGRAM) h.warn('setConfig', `${key}: ig attaches programs to their sections' targets only; "${value}" is not used`);
        }
        return 0;
      } catch (e) {
        if (e instanceof BadPointer) {
          h.warn('setConfig', `reading string from stack: ${e.message}`);
          return 1;
        }
        throw e;
      }
    },
  };
}
