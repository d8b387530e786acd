/**
 * The state one guest's host functions share: its memory, its handles, the run it is part of,
 * the time budget of the call into the guest that is under way, and the user-facing messages
 * (warnings rate-limited per call, as a guest may fail the same way on every record).
 *
 * A call into the guest (an entry point, or one batch's callbacks) runs inside `enter`/`leave`:
 * the deadline is set when the outermost call begins, packets the guest emits meanwhile are
 * queued and sent down their datasources' chains when it ends (so a guest is never re-entered
 * from its own emit, which IG's guest libraries do not expect).
 */
import { IgError } from '../../errors.js';
import { Batch } from '../../datasource/batch.js';
import type { RunDataSource } from '../../datasource/datasource.js';
import type { RunContext } from '../../datasource/operator.js';
import { Handles } from '../handles.js';
import type { GuestMemory } from '../memory.js';

/** Warnings printed per host function before the rest are only counted. */
const WARNINGS_PER_CALL = 5;

/** Thrown by the interrupt check when the guest's call overran its time budget. */
export class GuestTimeout extends Error {}

/** A host function's verdict that the guest cannot go on (IG closes the module): stops the run. */
class GuestFatal extends Error {}

export interface HostOptions {
  /** the module's name in messages (the image) */
  name: string;
  /** ms a call into the guest may take (an entry point, or one batch's callbacks) */
  budgetMs: number;
  /** gadget params by key (the values the user gave) */
  params: Record<string, string>;
  /** guest log levels shown: error, warn, info by default (IG's default), debug and trace with IG_DEBUG */
  logLevel: number;
}

interface PendingEmit { ds: RunDataSource; recordSize: number; singles: Batch[]; arrays: Batch[] }

export class Host {
  readonly handles = new Handles();
  mem!: GuestMemory;
  /** the high half of an i64 result, read by the shim (binary/shim.ts) */
  hiGlobal!: WebAssembly.Global;
  /** performance.now() after which the current call into the guest is stopped */
  deadline = Infinity;
  /** what the guest is doing, for messages: `gadgetInit`, `dataSourceCallback (datasource open)` */
  current = '';
  private depth = 0;
  private readonly warned = new Map<string, number>();
  private readonly pending = new Map<RunDataSource, PendingEmit>();
  /** kernel objects and readers the guest created; released at close */
  readonly closers = new Set<() => void>();
  /** config keys the guest set (setConfig) */
  readonly config = new Map<string, string>();
  /** `init` while gadgetInit runs: datasources and fields can be created only then (outputs are made after) */
  phase: 'init' | 'run' = 'init';
  /** the guest's dataSourceCallback export, if it has one */
  callback?: (cb: bigint, ds: number, data: number) => void;

  constructor(readonly ctx: RunContext, readonly o: HostOptions) {}

  get name(): string {
    return this.o.name;
  }

  /** Set the high 32 bits of the i64 the current host function returns. */
  hi(v: number): void {
    if (v !== 0) this.hiGlobal.value = v | 0;
  }

  /** A host function failed in a way the guest sees as its error return: tell the user (rate-limited). */
  warn(call: string, msg: string): void {
    const n = (this.warned.get(call) ?? 0) + 1;
    this.warned.set(call, n);
    if (n <= WARNINGS_PER_CALL) this.ctx.notice(`warning: wasm ${this.name}: ${call}: ${msg}\n`);
    if (n === WARNINGS_PER_CALL) this.ctx.notice(`warning: wasm ${this.name}: ${call}: further warnings of this call are only counted\n`);
  }

  /** The guest cannot go on: the run stops with this error. */
  fatal(call: string, msg: string): never {
    throw new GuestFatal(`${call}: ${msg}`);
  }

  remainingMs(): number {
    return Math.max(0, this.deadline - performance.now());
  }

  /** Called by the guest's interrupt checks (binary/module.ts). */
  readonly interrupt = (): void => {
    if (performance.now() > this.deadline) throw new GuestTimeout();
  };

  get inGuest(): boolean {
    return this.depth > 0;
  }

  /** Run `fn`, a call into the guest, with the time budget; failures become IgErrors naming the module and the call. */
  call<T>(what: string, fn: () => T): T {
    const outer = this.depth === 0;
    if (outer) {
      this.deadline = performance.now() + this.o.budgetMs;
      this.current = what;
    }
    this.depth++;
    try {
      return fn();
    } catch (err) {
      throw outer ? this.failure(what, err) : err;
    } finally {
      this.depth--;
      if (outer) {
        this.deadline = Infinity;
        this.flush();
      }
    }
  }

  /** a call into the guest failed: the guest is not called again */
  failed = false;

  private failure(what: string, err: unknown): IgError {
    this.failed = true;
    if (err instanceof IgError) return err;
    const where = `wasm module ${this.name}`;
    if (err instanceof GuestTimeout) {
      return new IgError('wasm', `${where} did not return from ${what} within its time budget of ${this.o.budgetMs} ms; the run is stopped`, {
        hint: 'the module loops without end or is too slow; IG_WASM_BUDGET_MS raises the budget',
      });
    }
    if (err instanceof GuestFatal) return new IgError('wasm', `${where}: ${err.message} (in ${what}); the run is stopped`);
    if (typeof err === 'symbol') return new IgError('wasm', `${where} exited (proc_exit) in ${what}; the run is stopped`);
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      return new IgError('wasm', `${where} overflowed its stack in ${what}; the run is stopped`, { hint: 'the module recurses without end' });
    }
    if (err instanceof WebAssembly.RuntimeError || err instanceof WebAssembly.CompileError) {
      // an allocator fails a little below the cap (its own overhead): near it, say so
      const size = this.mem ? this.mem.memory.buffer.byteLength : 0;
      const atCap = size >= this.maxBytes * 0.9;
      return new IgError('wasm', `${where} trapped in ${what}: ${err.message}; the run is stopped`, {
        hint: atCap
          ? `its memory (${(size / 2 ** 20).toFixed(1)} MiB) is at the cap of ${this.maxBytes / 2 ** 20} MiB a module may use (IG's limit): the module allocates without bound`
          : 'a bug in the module (its stderr, above, may say more)',
      });
    }
    return new IgError('wasm', `${where} failed in ${what}: ${(err as Error)?.message ?? String(err)}; the run is stopped`, { cause: err });
  }

  /** bytes the guest's memory may grow to */
  maxBytes = Infinity;

  // ---- packets the guest emits ----

  /** Queue a packet the guest emitted; sent when the outermost call into the guest returns. */
  emit(ds: RunDataSource, b: Batch, array: boolean): void {
    let p = this.pending.get(ds);
    if (!p) {
      p = { ds, recordSize: ds.recordSize, singles: [], arrays: [] };
      this.pending.set(ds, p);
    }
    (array ? p.arrays : p.singles).push(b);
    if (this.depth === 0) this.flush();
  }

  private flush(): void {
    while (this.pending.size) {
      const all = [...this.pending.values()];
      this.pending.clear();
      for (const p of all) {
        if (p.singles.length) this.ctx.emit(p.ds, p.singles.length === 1 ? p.singles[0]! : Batch.concat(p.singles, p.recordSize));
        for (const a of p.arrays) {
          a.snapshot = true;
          this.ctx.emit(p.ds, a);
        }
      }
    }
  }

  /** Release what the guest created in the kernel, once. */
  release(): void {
    for (const c of this.closers) {
      try {
        c();
      } catch {
        // already gone
      }
    }
    this.closers.clear();
    this.handles.clear();
  }
}
