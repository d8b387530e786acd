/**
 * One gadget's wasm module, instantiated for one run: IG's `ig` host module (through the shim,
 * binary/shim.ts), WASI preview 1 with nothing to read or open (stdin is /dev/null, no
 * preopened directories, no environment; stdout and stderr go to ig's stderr, where a guest's
 * panic message is useful), the interrupt its loops call, a memory capped at IG's 16 MiB.
 *
 * Instantiating checks what IG checks and more, each failure an IgError naming the module: every
 * import must be one ig provides with the type IG's API gives it, gadgetAPIVersion must return
 * 1, the entry points and dataSourceCallback must have IG's types.
 */
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { WASI as WASIType } from 'node:wasi';
import { IgError } from '../errors.js';
import type { RunContext } from '../datasource/operator.js';
import type { WasmModuleBytes } from '../gadget/spec.js';
import { API_FUNCTIONS, API_VERSION, ENTRY_POINTS, IMPORT_MODULE, typeText, type EntryPoint } from './abi.js';
import { SHIM_HI_GLOBAL, SHIM_JS_MODULE } from './binary/shim.js';
import type { FuncType, ModuleSummary } from './binary/module.js';
import { compileGuest, compileShim, INTERRUPT, MAX_PAGES } from './cache.js';
import { GuestMemory } from './memory.js';
import { datasourceFunctions } from './host/datasources.js';
import { fieldFunctions } from './host/fields.js';
import { GuestTimeout, Host, type HostOptions } from './host/host.js';
import { kernelInfoFunctions } from './host/kernel-info.js';
import { logFunctions } from './host/log.js';
import { mapFunctions } from './host/maps.js';
import { paramFunctions } from './host/params.js';
import { perfFunctions } from './host/perf.js';
import { RecordResolver } from './host/records.js';
import { syscallFunctions } from './host/syscalls.js';

const WASI_MODULE = 'wasi_snapshot_preview1';
const I32_RESULT = '() -> i32';
const CALLBACK_TYPE = '(i64, i32, i32) -> ()';

function sameType(a: FuncType | undefined, b: FuncType): boolean {
  return !!a && typeText(a) === typeText(b);
}

export class WasmGuest {
  readonly host: Host;
  private readonly exports: WebAssembly.Exports;
  private readonly stdin: number;
  private readonly summary: ModuleSummary;
  /** the guest failed once: it is not called again */
  private dead = false;
  private closed = false;
  /** the mount namespace selection, set at start (shouldDiscardMntnsID) */
  selection?: (mntns: bigint) => boolean;
  /** how the module was obtained, how long this process took to compile it, how long this instantiation took (ms): the bench and IG_DEBUG */
  readonly timing: { from: 'memory' | 'disk' | 'prepared'; origin: 'disk' | 'prepared'; compileMs: number; instantiateMs: number };

  constructor(ctx: RunContext, w: WasmModuleBytes, o: HostOptions) {
    const { module, summary, from, origin, compileMs } = compileGuest(w);
    const t1 = performance.now();
    this.summary = summary;
    const host = (this.host = new Host(ctx, o));
    host.maxBytes = (summary.memory?.max ?? MAX_PAGES) * 65536;
    checkImports(o.name, summary);

    const records = new RecordResolver(host.handles);
    const js: Record<string, unknown> = {
      ...logFunctions(host),
      ...datasourceFunctions(host),
      ...fieldFunctions(host, records),
      ...paramFunctions(host, ctx.spec.params),
      ...mapFunctions(host),
      ...perfFunctions(host),
      ...syscallFunctions(host),
      ...kernelInfoFunctions(host, () => this.selection),
    };
    for (const name of Object.keys(API_FUNCTIONS)) if (typeof js[name] !== 'function') throw new IgError('internal', `wasm host function ${name} is missing`);
    host.hiGlobal = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
    const shim = new WebAssembly.Instance(compileShim(), { [SHIM_JS_MODULE]: { ...js, [SHIM_HI_GLOBAL]: host.hiGlobal } });

    this.stdin = openSync('/dev/null', 'r');
    const wasi = quietly(() => new (wasiClass())({ version: 'preview1', args: [o.name], env: {}, returnOnExit: true, stdin: this.stdin, stdout: 2, stderr: 2 }));
    const wasiImports = (wasi.getImportObject() as Record<string, Record<string, unknown>>)[WASI_MODULE]!;
    for (const imp of summary.imports) {
      if (imp.module === WASI_MODULE && typeof wasiImports[imp.name] !== 'function') {
        this.close();
        throw new IgError('wasm', `wasm module ${o.name} imports ${WASI_MODULE}.${imp.name}, which WASI preview 1 (node:wasi) does not have`, {
          hint: 'build the module for wasm32-wasip1 (WASI preview 1)',
        });
      }
    }
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, {
        [IMPORT_MODULE]: shim.exports,
        [WASI_MODULE]: { ...wasiImports, poll_oneoff: this.boundedPoll(wasiImports.poll_oneoff as (...a: number[]) => number) },
        [INTERRUPT.module]: { [INTERRUPT.name]: host.interrupt },
      });
    } catch (e) {
      this.close();
      throw new IgError('wasm', `wasm module ${o.name} cannot be instantiated: ${(e as Error).message}`, { cause: e });
    }
    this.exports = instance.exports;
    const memory = instance.exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) {
      this.close();
      throw new IgError('wasm', `wasm module ${o.name} exports no memory named "memory"`, { hint: 'WASI modules export their memory as "memory"; build for wasm32-wasip1' });
    }
    host.mem = new GuestMemory(memory);
    const cb = this.exports.dataSourceCallback;
    if (typeof cb === 'function') host.callback = cb as (cb: bigint, ds: number, data: number) => void;

    try {
      // a reactor's _initialize (a command's _start is not run, as in IG)
      const init = this.exports._initialize;
      host.call('_initialize', () => wasi.initialize({ exports: { memory, ...(typeof init === 'function' ? { _initialize: init } : {}) } }));
      const version = this.exports.gadgetAPIVersion;
      if (typeof version !== 'function') throw new IgError('wasm', `wasm module ${o.name} doesn't export gadgetAPIVersion`, { hint: 'IG\'s guest libraries export it; a C guest includes <gadget/wasm.h>' });
      const v = Number(host.call('gadgetAPIVersion', () => (version as () => number | bigint)()));
      if (v !== API_VERSION) {
        throw new IgError('wasm', `wasm module ${o.name}: unsupported gadget API version: ${v}, expected: ${API_VERSION}`, {
          hint: `rebuild the module against a guest library for version ${API_VERSION} of IG's wasm API`,
        });
      }
      this.checkExports();
    } catch (e) {
      this.close();
      throw e;
    }
    this.timing = { from, origin, compileMs, instantiateMs: performance.now() - t1 };
  }

  private checkExports(): void {
    const type = (name: string) => this.summary.exports.find((e) => e.name === name && e.kind === 'func')?.type;
    const bad = (name: string, want: string) => {
      const t = type(name);
      return t && typeText(t) !== want ? `${name} is ${typeText(t)}, IG's API has ${want}` : undefined;
    };
    const problems = [...ENTRY_POINTS.map((e) => bad(e, I32_RESULT)), bad('dataSourceCallback', CALLBACK_TYPE)].filter(Boolean);
    if (problems.length) {
      throw new IgError('wasm', `wasm module ${this.host.name} exports functions of the wrong type: ${problems.join('; ')}`);
    }
  }

  /** WASI's poll_oneoff (sleep, wait for stdin) may not block past the call's time budget. */
  private boundedPoll(real: (...a: number[]) => number): (...a: number[]) => number {
    return (inPtr, outPtr, nsubs, nevents) => {
      const subs = this.host.mem.view(inPtr, (nsubs >>> 0) * 48);
      const dv = new DataView(subs.buffer, subs.byteOffset, subs.byteLength);
      for (let i = 0; i < nsubs >>> 0; i++) {
        const o = i * 48;
        const clock = dv.getUint8(o + 8) === 0;
        const absolute = clock && (dv.getUint16(o + 40, true) & 1) !== 0;
        const waitMs = clock && !absolute ? Number(dv.getBigUint64(o + 24, true)) / 1e6 : Infinity;
        if (waitMs > this.host.remainingMs()) throw new GuestTimeout();
      }
      return real(inPtr, outPtr, nsubs, nevents);
    };
  }

  /** Call an entry point if the module exports it; a non-zero result is IG's "<entry> failed". */
  enter(entry: EntryPoint): void {
    if (this.dead || this.closed || this.host.failed) return;
    const fn = this.exports[entry];
    if (typeof fn !== 'function') return;
    this.host.phase = entry === 'gadgetInit' ? 'init' : 'run';
    try {
      const ret = this.host.call(entry, () => (fn as () => number)());
      if (ret !== 0) throw new IgError('wasm', `wasm module ${this.host.name}: ${entry} failed (it returned ${ret})`, { hint: 'the module\'s own messages, above, may say why' });
    } catch (e) {
      this.dead = true;
      throw e;
    } finally {
      this.host.phase = 'run';
    }
  }

  /** Release everything the guest created in the kernel and the host, once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.release();
    try {
      closeSync(this.stdin);
    } catch {
      // not opened
    }
  }
}

/** node:wasi, loaded when first needed (it warns when loaded) */
function wasiClass(): typeof WASIType {
  return (createRequire(import.meta.url)('node:wasi') as { WASI: typeof WASIType }).WASI;
}

/** node:wasi is "experimental" in Node 20 and says so on first use; ig's users need not see that. */
function quietly<T>(fn: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((w: string | Error, ...rest: unknown[]) => {
    if (String(w).includes('WASI')) return;
    return (emit as (...a: unknown[]) => void).call(process, w, ...rest);
  }) as typeof process.emitWarning;
  try {
    return fn();
  } finally {
    process.emitWarning = emit;
  }
}

/** Every import must be one ig provides, with IG's type for it. */
function checkImports(name: string, s: ModuleSummary): void {
  const problems: string[] = [];
  for (const imp of s.imports) {
    const what = `${imp.module}.${imp.name}`;
    if (imp.module === IMPORT_MODULE) {
      const want = API_FUNCTIONS[imp.name];
      if (imp.kind !== 'func' || !want) problems.push(`${what}, which IG's wasm API (version ${API_VERSION}) does not have`);
      else if (!sameType(imp.type, want)) problems.push(`${what} as ${imp.type ? typeText(imp.type) : imp.kind}, but IG's API has ${typeText(want)}`);
    } else if (imp.module !== WASI_MODULE || imp.kind !== 'func') {
      problems.push(`${what} (${imp.kind}): ig provides only the modules "${IMPORT_MODULE}" (IG's wasm API) and "${WASI_MODULE}" (functions)`);
    }
  }
  if (problems.length) {
    throw new IgError('wasm', `wasm module ${name} imports ${problems.join('; ')}`, {
      hint: 'see spec/wasm-api.md for the functions ig provides',
    });
  }
}
