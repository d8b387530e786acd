/**
 * Host objects a guest holds by number, as IG hands them out: u32 handles, 0 reserved for "none"
 * (so every error return of a handle-returning function is 0), the next free number after the
 * last one given, at most 4096 open at once.
 */
import { MAX_HANDLES } from './abi.js';

export class Handles {
  private readonly map = new Map<number, object>();
  private last = 0;

  /** A new handle for `obj`, or 0 when the guest already holds MAX_HANDLES. */
  add(obj: object): number {
    if (this.map.size >= MAX_HANDLES) return 0;
    let h = this.last;
    for (;;) {
      h = (h + 1) >>> 0;
      if (h === 0) continue;
      if (!this.map.has(h)) break;
    }
    this.map.set(h, obj);
    this.last = h;
    return h;
  }

  /**
   * A handle below 0x10000, for data arrays: an element handle packs its array's handle into 16
   * bits (abi.ts), which IG's next-number scheme stops guaranteeing after 65535 handles.
   */
  addLow(obj: object): number {
    if (this.map.size >= MAX_HANDLES) return 0;
    for (let h = 1; h < 0x10000; h++) {
      if (!this.map.has(h)) {
        this.map.set(h, obj);
        return h;
      }
    }
    return 0;
  }

  get(h: number): object | undefined {
    return this.map.get(h >>> 0);
  }

  delete(h: number): boolean {
    return this.map.delete(h >>> 0);
  }

  get full(): boolean {
    return this.map.size >= MAX_HANDLES;
  }

  values(): IterableIterator<object> {
    return this.map.values();
  }

  clear(): void {
    this.map.clear();
  }
}
