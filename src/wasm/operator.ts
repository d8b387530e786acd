/**
 * The wasm operator: a gadget image's WebAssembly module (IG's wasm layer) as an operator of the
 * run. Instantiated with the run (also for --help: the fields a module adds in gadgetInit are the
 * gadget's fields), it calls the module's entry points at the engine's phases:
 *
 *   instantiate  compile (cached per digest), instantiate, check the API version, gadgetInit
 *                (the module subscribes, adds fields and datasources, reads params)
 *   preStart     gadgetPreStart (before load: setConfig programs.<name>.attach_to still counts)
 *   start        gadgetStart (the gadget's maps exist: getMap, newPerfReader)
 *   stop         gadgetStop, gadgetPostStop
 *   close        everything the module created in the kernel is released
 *
 * A module that fails (a trap, a call that overruns its time budget, an entry point returning
 * non-zero) stops the run with an IgError naming the module and the call.
 */
import { IgError } from '../errors.js';
import type { DataOperator, OperatorInstance, RunContext } from '../datasource/operator.js';
import { FILTER_MAP } from '../runtime/mntns-filter.js';
import { native } from '../runtime/native.js';
import { LogLevel } from './abi.js';

let Guest: typeof import('./guest.js').WasmGuest | undefined;

/**
 * The wasm runtime (~80 KB of code) loads only for images that carry a module; the engine calls
 * this when it prepares such an image (instantiate, where it is used, cannot wait).
 */
export async function loadWasmRuntime(): Promise<void> {
  if (Guest) return;
  const { WasmGuest } = await import('./guest.js');
  Guest = WasmGuest;
}

/** ms one call into a guest may take (an entry point, or one batch's callbacks) */
const DEFAULT_BUDGET_MS = 2000;

export interface WasmOptions {
  /** the run's gadget params, by key */
  params: Record<string, string>;
}

function budgetMs(): number {
  const v = Number(process.env.IG_WASM_BUDGET_MS);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_BUDGET_MS;
}

/** Image names as the user knows them: `trace_mount`, `ghcr.io/…/trace_dns:latest` → `trace_dns`. */
function moduleName(image: string): string {
  const last = image.split('/').pop() ?? image;
  return last.replace(/[:@].*$/, '');
}

export function wasmOperator(o: WasmOptions): DataOperator {
  return {
    name: 'wasm',
    instantiate(ctx: RunContext): OperatorInstance | undefined {
      const w = ctx.spec.wasm;
      if (!w) return undefined;
      if (ctx.mode === 'run') {
        for (const p of ctx.spec.params) {
          if (p.operator === 'wasm' && p.mandatory && o.params[p.key] === undefined && p.defaultValue === undefined) {
            throw new IgError('usage', `--${p.key} is required`, { hint: p.description ? `--${p.key}: ${p.description}` : `run with --help to see what --${p.key} takes` });
          }
        }
      }
      if (!Guest) throw new IgError('internal', 'the wasm runtime was not loaded (engine: loadWasmRuntime)');
      const guest = new Guest(ctx, w, {
        name: moduleName(w.image),
        budgetMs: budgetMs(),
        params: o.params,
        logLevel: process.env.IG_DEBUG ? LogLevel.Trace : LogLevel.Info,
      });
      if (process.env.IG_DEBUG) {
        const t = guest.timing;
        // `ig run` instantiates the module twice (its --help description, then the run): say where this process got it
        const how = t.origin === 'prepared' ? 'prepared (then kept in the disk cache)' : 'from the disk cache';
        ctx.notice(`debug: wasm ${moduleName(w.image)}: module ${w.digest} ${how}: compiled in ${t.compileMs.toFixed(1)} ms, instantiated in ${t.instantiateMs.toFixed(1)} ms\n`);
      }
      try {
        guest.enter('gadgetInit');
      } catch (e) {
        guest.close();
        throw e;
      }
      if (ctx.mode === 'describe') {
        guest.close();
        return {};
      }
      return {
        preStart: () => guest.enter('gadgetPreStart'),
        start: () => {
          guest.selection = mntnsSelection(ctx);
          guest.enter('gadgetStart');
        },
        stop: () => {
          guest.enter('gadgetStop');
          guest.enter('gadgetPostStop');
        },
        close: () => guest.close(),
      };
    },
  };
}

/**
 * What shouldDiscardMntnsID answers: whether the run's in-kernel container filter keeps a mount
 * namespace (the filter map lists namespaces to keep, IG's way, or to drop, ours); undefined when
 * the run filters no containers in the kernel.
 */
function mntnsSelection(ctx: RunContext): ((mntns: bigint) => boolean) | undefined {
  const mode = ctx.kernelRequests.mntnsFilter;
  if (!mode || !ctx.kernel.hasFilterMap()) return undefined;
  const fd = ctx.kernel.mapFd(FILTER_MAP);
  const valueSize = ctx.spec.maps.find((m) => m.name === FILTER_MAP)?.valueSize ?? 4;
  const n = native();
  const key = Buffer.alloc(8);
  return (id) => {
    key.writeBigUInt64LE(id);
    const listed = n.mapLookup(fd, key, valueSize) !== null;
    return mode === 'allow' ? listed : !listed;
  };
}
