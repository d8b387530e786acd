/**
 * Host objects a guest holds by number, as IG hands them out: u32 handles, 0 reserved for "none"
 * (so every error return of a handle-returning function is 0), the next free number after the
 * last one given, at most 4096 open at once.
 *
 * Every record a guest is handed gets a fresh handle, so this is on the per-record path: an
 * open-addressed table of twice the handle limit, indexed by the handle's low bits, instead of a
 * Map (a lookup is an index and a compare; adding and deleting allocate nothing). A number whose
 * slot a live handle holds is skipped, which a guest cannot tell from IG's numbering.
 */
import { MAX_HANDLES } from './abi.js';

const SLOTS = MAX_HANDLES * 2;
const MASK = SLOTS - 1;

export class Handles {
  private readonly keys = new Uint32Array(SLOTS);
  private readonly objs: (object | undefined)[] = new Array<object | undefined>(SLOTS).fill(undefined);
  private live = 0;
  private last = 0;

  /** A new handle for `obj`, or 0 when the guest already holds MAX_HANDLES. */
  add(obj: object): number {
    if (this.live >= MAX_HANDLES) return 0;
    let h = this.last;
    do {
      h = (h + 1) >>> 0;
    } while (h === 0 || this.keys[h & MASK] !== 0);
    this.put(h, obj);
    this.last = h;
    return h;
  }

  /**
   * A handle below 0x10000, for data arrays: an element handle packs its array's handle into 16
   * bits (abi.ts), which IG's next-number scheme stops guaranteeing after 65535 handles.
   */
  addLow(obj: object): number {
    if (this.live >= MAX_HANDLES) return 0;
    for (let h = 1; h < 0x10000; h++) {
      if (this.keys[h & MASK] === 0) {
        this.put(h, obj);
        return h;
      }
    }
    return 0;
  }

  private put(h: number, obj: object): void {
    this.keys[h & MASK] = h;
    this.objs[h & MASK] = obj;
    this.live++;
  }

  get(h: number): object | undefined {
    const i = h & MASK;
    return this.keys[i] === h >>> 0 && h !== 0 ? this.objs[i] : undefined;
  }

  delete(h: number): boolean {
    const i = h & MASK;
    if (h === 0 || this.keys[i] !== h >>> 0) return false;
    this.keys[i] = 0;
    this.objs[i] = undefined;
    this.live--;
    return true;
  }

  clear(): void {
    this.keys.fill(0);
    this.objs.fill(undefined);
    this.live = 0;
  }
}
