/**
 * Reading and writing the WebAssembly binary format's primitives: bytes, LEB128 integers,
 * names. A malformed module is a WasmFormatError naming where it broke; the caller turns it
 * into an IgError naming the module.
 */

export class WasmFormatError extends Error {}

export class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, pos = 0, readonly end = buf.length) {
    this.pos = pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string): never {
    throw new WasmFormatError(`${what} at byte ${this.pos}`);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.buf[this.pos++]!;
  }

  /** An unsigned LEB128 of at most 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      if (shift === 28 && b > 0x0f) this.fail('u32 out of range');
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }

  /** A signed LEB128 of at most 33 bits (block types, heap types), as a number. */
  s33(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (i > 4) this.fail('s33 too long');
      const b = this.u8();
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return b & 0x40 ? result - mul : result;
    }
  }

  /** Skip a signed LEB128 of at most `bits` bits (i32.const, i64.const). */
  skipLeb(bits: number): void {
    const max = Math.ceil(bits / 7);
    for (let i = 0; ; i++) {
      if (i >= max) this.fail('integer too long');
      if ((this.u8() & 0x80) === 0) return;
    }
  }

  skip(n: number): void {
    if (this.pos + n > this.end) this.fail('unexpected end');
    this.pos += n;
  }

  bytes(n: number): Uint8Array {
    const start = this.pos;
    this.skip(n);
    return this.buf.subarray(start, start + n);
  }

  name(): string {
    const n = this.u32();
    return Buffer.from(this.bytes(n)).toString('utf8');
  }
}

/** A growable byte buffer. */
export class Writer {
  private buf = new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(b: number): this {
    this.room(1);
    this.buf[this.length++] = b;
    return this;
  }

  u32(v: number): this {
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.u8(b);
    } while (v !== 0);
    return this;
  }

  s32(v: number): this {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return this.u8(b);
      this.u8(b | 0x80);
    }
  }

  bytes(b: Uint8Array | readonly number[]): this {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  name(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.u32(b.length).bytes(b);
  }

  /** `bytes` prefixed with its length (a section's or a function body's content). */
  sized(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
