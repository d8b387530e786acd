/**
 * A gadget's wasm module, compiled once per image digest (as IG caches wazero's compilation in
 * /var/run/ig/wasm-cache). The expensive part ig controls, reading every instruction to put the
 * interrupt checks in and validating the result (binary/module.ts), is done once and kept on disk
 * per digest with what it found (imports, exports, memory); later runs compile the kept bytes
 * with V8's lazy validation and compilation (each function is validated and compiled with Liftoff
 * when first called, hot ones again with TurboFan), and a process that runs the same image again
 * (the daemon) reuses the compiled WebAssembly.Module itself.
 *
 * V8 in Node 20 offers no way to write its machine code to disk (WebAssembly.Module cannot be
 * serialized outside a process), so what is on disk is the prepared, validated module.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { IgError } from '../errors.js';
import type { WasmModuleBytes } from '../gadget/spec.js';
import { WasmFormatError } from './binary/bytes.js';
import { prepareModule, type ModuleSummary } from './binary/module.js';
import { buildShim } from './binary/shim.js';
import { API_FUNCTIONS } from './abi.js';

/** Bumped whenever prepareModule's output changes: older cache entries are not used. */
const PREPARE_VERSION = 2;
/** IG's memory limit for a guest: 256 pages of 64 KiB (wazero WithMemoryLimitPages(256)) */
export const MAX_PAGES = 256;
export const INTERRUPT = { module: 'ig:runtime', name: 'interrupt' };
/** loop iterations (and calls) between two looks at the clock */
const INTERRUPT_EVERY = 65536;

export interface CompiledGuest {
  module: WebAssembly.Module;
  summary: ModuleSummary;
  /** where it came from: compiled in this process before, read from the disk cache, or prepared now */
  from: 'memory' | 'disk' | 'prepared';
  /** where this process got it first: the disk cache, or prepared */
  origin: 'disk' | 'prepared';
  /** ms this process took to get it (the first time) */
  compileMs: number;
}

const compiled = new Map<string, Omit<CompiledGuest, 'from'>>();
let lazy = false;

function cacheDir(): string {
  if (process.env.IG_WASM_CACHE) return process.env.IG_WASM_CACHE;
  if (process.getuid?.() === 0) return '/var/run/ig/wasm-cache';
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'ig', 'wasm');
}

/** Modules in the cache were validated when prepared: their functions need not be validated before first use. */
function lazyValidation(): void {
  if (lazy) return;
  v8.setFlagsFromString('--wasm-lazy-validation');
  lazy = true;
}

function entryPath(dir: string, digest: string): string {
  return path.join(dir, `${digest.replace(/[^a-z0-9]/gi, '-')}.v${PREPARE_VERSION}`);
}

function readEntry(file: string): { bytes: Buffer; summary: ModuleSummary } | undefined {
  try {
    const summary = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as ModuleSummary;
    return { bytes: readFileSync(`${file}.wasm`), summary };
  } catch {
    return undefined;
  }
}

function writeEntry(file: string, bytes: Uint8Array, summary: ModuleSummary): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(`${tmp}.wasm`, bytes);
    writeFileSync(`${tmp}.json`, JSON.stringify(summary));
    // the summary last: an entry is whole once its .json is there
    renameSync(`${tmp}.wasm`, `${file}.wasm`);
    renameSync(`${tmp}.json`, `${file}.json`);
  } catch {
    // a cache that cannot be written costs the next run the preparation, nothing more
  }
}

/** The image's module, ready to instantiate. A module ig cannot use is an IgError naming the image and why. */
export function compileGuest(w: WasmModuleBytes, dir = cacheDir()): CompiledGuest {
  const hit = compiled.get(w.digest);
  if (hit) return { ...hit, from: 'memory' };
  const t0 = performance.now();
  const file = entryPath(dir, w.digest);
  const entry = readEntry(file);
  if (entry) {
    lazyValidation();
    try {
      const module = new WebAssembly.Module(entry.bytes as BufferSource);
      const c = { module, summary: entry.summary, origin: 'disk' as const, compileMs: performance.now() - t0 };
      compiled.set(w.digest, c);
      return { ...c, from: 'disk' };
    } catch {
      // a damaged entry: prepare again
    }
  }
  const invalid = (bytes: BufferSource): string | undefined => {
    if (WebAssembly.validate(bytes)) return undefined;
    try {
      new WebAssembly.Module(bytes);
    } catch (e) {
      return (e as Error).message;
    }
    return 'invalid';
  };
  const why = invalid(w.bytes as BufferSource);
  if (why) throw new IgError('wasm', `the wasm module of ${w.image} is not valid WebAssembly: ${why}`, { hint: 'rebuild the module' });
  let prepared: { bytes: Uint8Array; summary: ModuleSummary };
  try {
    prepared = prepareModule(w.bytes, { maxPages: MAX_PAGES, interrupt: INTERRUPT, every: INTERRUPT_EVERY });
  } catch (e) {
    if (!(e instanceof WasmFormatError)) throw e;
    throw new IgError('wasm', `the wasm module of ${w.image} cannot be used: ${e.message}`, {
      hint: 'ig runs WebAssembly 1.0 modules with the common extensions (bulk memory, SIMD, reference types, tail calls); build the module for wasm32-wasip1 without threads, GC or memory64',
    });
  }
  const broken = invalid(prepared.bytes as BufferSource);
  if (broken) throw new IgError('internal', `preparing the wasm module of ${w.image} produced invalid code: ${broken}`);
  lazyValidation();
  const module = new WebAssembly.Module(prepared.bytes as BufferSource);
  writeEntry(file, prepared.bytes, prepared.summary);
  const c = { module, summary: prepared.summary, origin: 'prepared' as const, compileMs: performance.now() - t0 };
  compiled.set(w.digest, c);
  return { ...c, from: 'prepared' };
}

let shim: WebAssembly.Module | undefined;

/** The i64 shim (binary/shim.ts), built once and kept beside the modules (building it is JS work at every start). */
export function compileShim(dir = cacheDir()): WebAssembly.Module {
  if (shim) return shim;
  const file = path.join(dir, `shim.v${PREPARE_VERSION}.${Object.keys(API_FUNCTIONS).length}.wasm`);
  let bytes: Uint8Array | undefined;
  try {
    bytes = readFileSync(file);
    shim = new WebAssembly.Module(bytes as BufferSource);
  } catch {
    bytes = buildShim(API_FUNCTIONS);
    shim = new WebAssembly.Module(bytes as BufferSource);
    writeEntryFile(file, bytes);
  }
  return shim;
}

function writeEntryFile(file: string, bytes: Uint8Array): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch {
    // not cached: built again next time
  }
}

/** Forget modules compiled in this process (tests of the disk cache). */
export function forgetCompiled(): void {
  compiled.clear();
}
