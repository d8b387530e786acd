/**
 * The guest's linear memory as the host reads and writes it. Every address and length a guest
 * passes is checked against the memory's current size; a bad one is a BadPointer the calling
 * host function turns into its error return (and a warning naming the module and the call).
 * The memory's buffer changes when the guest grows it, so views are refreshed on demand.
 */

export class BadPointer extends Error {}

const decoder = new TextDecoder('utf-8');

export class GuestMemory {
  private buffer: ArrayBuffer;
  private u8v: Uint8Array;
  private dv: DataView;

  constructor(readonly memory: WebAssembly.Memory) {
    this.buffer = memory.buffer;
    this.u8v = new Uint8Array(this.buffer);
    this.dv = new DataView(this.buffer);
  }

  private refresh(): void {
    if (this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.u8v = new Uint8Array(this.buffer);
      this.dv = new DataView(this.buffer);
    }
  }

  get size(): number {
    return this.memory.buffer.byteLength;
  }

  /** A view of `len` bytes at `addr` (both as the guest passed them, unsigned). */
  view(addr: number, len: number): Uint8Array {
    this.refresh();
    addr >>>= 0;
    len >>>= 0;
    if (addr + len > this.u8v.length) {
      throw new BadPointer(`address 0x${addr.toString(16)} + length ${len} is outside the module's memory (${this.u8v.length} bytes)`);
    }
    return this.u8v.subarray(addr, addr + len);
  }

  /** An IG string argument (address, length); length 0 is the empty string whatever the address. */
  string(addr: number, len: number): string {
    if (len === 0) return '';
    return decoder.decode(this.view(addr, len));
  }

  /** Copy `src` into the guest's buffer (address, capacity); false when it does not fit. */
  write(addr: number, capacity: number, src: Uint8Array): boolean {
    if (src.length > capacity >>> 0) return false;
    this.view(addr, src.length).set(src);
    return true;
  }

  writeU32(addr: number, v: number): void {
    this.view(addr, 4);
    this.dv.setUint32(addr >>> 0, v >>> 0, true);
  }
}
