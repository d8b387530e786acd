/**
 * A RunGadget/AttachInstance stream's batch messages, encoded by hand: GadgetMessage{batch:
 * EventBatch{datasource, json, lost, snapshot}, node} as the protobuf bytes spec/ig.proto defines
 * (what protobufjs writes, field by field, without its default-valued fields), behind gRPC's
 * 5-byte message prefix, with the JSON copied once into a reused buffer. Through protobufjs each
 * batch cost a message object, a Writer and two new Buffers (the encoding and grpc-js's framed
 * copy), and the daemon spent ~35 % of its CPU samples collecting garbage (bench/README.md,
 * remote streaming).
 *
 * Consecutive tracer batches of one datasource that arrive in one event-loop turn go out as one
 * message (their lines concatenated): a daemon that falls behind then sends fewer, larger
 * messages instead of paying gRPC's and HTTP/2's per-message work for each native batch. A batch
 * that reports lost events ends its message, so the client writes the lost line where a local
 * run would (after that batch's lines); snapshots are always a message of their own.
 */
import { putPrefix } from './grpc-framed.js';

/** A message is sent once it holds this many bytes of JSON (and at the end of the loop turn in any case). */
export const FRAME_BYTES = 1 << 20;

const WIRE_LEN = 2;
const WIRE_VARINT = 0;
const tag = (field: number, wire: number) => (field << 3) | wire;
const T_BATCH = tag(2, WIRE_LEN);
const T_NODE = tag(5, WIRE_LEN);
const T_DATASOURCE = tag(1, WIRE_LEN);
const T_JSON = tag(2, WIRE_LEN);
const T_LOST = tag(3, WIRE_VARINT);
const T_SNAPSHOT = tag(4, WIRE_VARINT);

function varintSize(n: number): number {
  let s = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}

function putVarint(b: Buffer, p: number, n: number): number {
  while (n >= 0x80) {
    b[p++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  b[p++] = n;
  return p;
}

function putBytes(b: Buffer, p: number, t: number, bytes: Buffer): number {
  b[p++] = t;
  p = putVarint(b, p, bytes.length);
  return p + bytes.copy(b, p);
}

/**
 * A reused buffer that messages are built in one after another; it is reused once the stream has
 * taken every message built in it. Memory then follows the bytes queued, not the message count.
 */
class Slab {
  used = 0;
  refs = 0;
  constructor(readonly buf: Buffer) {}
}

/** Room a message's trailer needs: `lost` (tag + 10-byte varint), `snapshot`, and the node's tag, length and name. */
const trailerRoom = (node: Buffer) => 11 + 2 + 6 + node.length;

/** One message being filled: its JSON starts at `start` of the slab, the header goes just before it. */
class Frame {
  end: number;
  lost = 0;
  constructor(readonly slab: Slab, readonly datasource: Buffer, readonly datasourceName: string, readonly start: number, private readonly trailer: number) {
    this.end = start;
  }

  get jsonBytes(): number {
    return this.end - this.start;
  }

  /** Appends `json` when it fits; false when the slab has no room for it. */
  append(json: Buffer): boolean {
    if (this.end + json.length + this.trailer > this.slab.buf.length) return false;
    this.end += json.copy(this.slab.buf, this.end);
    return true;
  }

  /** The finished message: header written before the JSON, `lost`, `snapshot` and `node` after it. */
  finish(snapshot: boolean, node: Buffer): Buffer {
    const b = this.slab.buf;
    const jsonLen = this.end - this.start;
    let p = this.end;
    if (this.lost > 0) {
      b[p++] = T_LOST;
      p = putVarint(b, p, this.lost);
    }
    if (snapshot) {
      b[p++] = T_SNAPSHOT;
      b[p++] = 1;
    }
    const tail = p - this.end;
    const dsLen = this.datasource.length ? 1 + varintSize(this.datasource.length) + this.datasource.length : 0;
    const jsonHead = jsonLen ? 1 + varintSize(jsonLen) : 0;
    const batchLen = dsLen + jsonHead + jsonLen + tail;
    let h = this.start - (1 + varintSize(batchLen) + dsLen + jsonHead);
    const first = h - 5;
    b[h++] = T_BATCH;
    h = putVarint(b, h, batchLen);
    if (this.datasource.length) h = putBytes(b, h, T_DATASOURCE, this.datasource);
    if (jsonLen) {
      b[h++] = T_JSON;
      h = putVarint(b, h, jsonLen);
    }
    if (node.length) p = putBytes(b, p, T_NODE, node);
    putPrefix(b, first, p - first - 5);
    return b.subarray(first, p);
  }
}

export interface BatchMsg {
  datasource: string;
  /** read during the call only (the caller may reuse it) */
  json: Buffer;
  lost: number;
  snapshot: boolean;
}

/** Size of a slab: a message is sent at FRAME_BYTES, so a slab holds at least three. */
const SLAB_BYTES = 4 * FRAME_BYTES;
/**
 * Slabs kept for reuse: about what the messages a slow client may have queued fill (batches are
 * dropped past 8 MiB queued, stream-writer.ts), so a busy stream allocates none. A buffer
 * allocated per message lives until HTTP/2 has written it, and V8 counts such external memory
 * towards starting a full collection.
 */
const SPARE_SLABS = 3;

/**
 * Encodes and groups one stream's batches. `send` gets each finished message (framed for gRPC:
 * grpc-framed.ts) and calls `done` once the stream has written it, which lets its slab be reused.
 */
export class BatchFrames {
  private frame?: Frame;
  private slab?: Slab;
  /** slabs whose messages were all written, kept for the next ones */
  private readonly spares: Slab[] = [];
  private scheduled = false;
  private readonly node: Buffer;
  private readonly trailer: number;
  private readonly names = new Map<string, Buffer>();

  constructor(node: string, private readonly send: (bytes: Buffer, done: () => void) => void) {
    this.node = Buffer.from(node, 'utf8');
    this.trailer = trailerRoom(this.node);
  }

  /** Bytes of JSON waiting in the message being filled. */
  get pending(): number {
    return this.frame?.jsonBytes ?? 0;
  }

  batch(m: BatchMsg): void {
    const lost = Number(m.lost);
    if (this.frame && (this.frame.datasourceName !== m.datasource || m.snapshot)) this.flush();
    if (m.snapshot) {
      const f = this.open(m.datasource, m.json);
      f.lost = lost;
      this.emit(f, true);
      return;
    }
    let f = this.frame;
    if (f && !f.append(m.json)) {
      this.flush();
      f = undefined;
    }
    f ??= this.frame = this.open(m.datasource, m.json);
    if (lost > 0) {
      f.lost = lost;
      this.flush();
    } else if (f.jsonBytes >= FRAME_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Sends the message being filled, if any (before any other message, to keep the stream's order). */
  flush(): void {
    const f = this.frame;
    if (!f) return;
    this.frame = undefined;
    this.emit(f, false);
  }

  private emit(f: Frame, snapshot: boolean): void {
    const bytes = f.finish(snapshot, this.node);
    const slab = f.slab;
    slab.used = bytes.byteOffset - slab.buf.byteOffset + bytes.length;
    slab.refs++;
    this.send(bytes, () => {
      if (--slab.refs > 0) return;
      if (slab === this.slab) {
        if (!this.frame) slab.used = 0;
      } else if (slab.buf.length === SLAB_BYTES && this.spares.length < SPARE_SLABS) {
        slab.used = 0;
        this.spares.push(slab);
      }
    });
  }

  /** A frame holding `json`, in the current slab when it fits there, else in a spare or new one. */
  private open(datasource: string, json: Buffer): Frame {
    let name = this.names.get(datasource);
    if (!name) this.names.set(datasource, (name = Buffer.from(datasource, 'utf8')));
    const room = 5 + 3 + 3 * 5 + name.length; // gRPC's prefix, two tags with 5-byte lengths, the datasource's tag, length and name
    const need = room + json.length + this.trailer;
    let slab = this.slab;
    if (!slab || slab.used + need > slab.buf.length) {
      if (need > SLAB_BYTES) slab = new Slab(Buffer.allocUnsafe(need));
      else slab = this.spares.pop() ?? new Slab(Buffer.allocUnsafe(SLAB_BYTES));
      if (slab.buf.length === SLAB_BYTES) this.slab = slab;
    }
    const f = new Frame(slab, name, datasource, slab.used + room, this.trailer);
    f.append(json);
    return f;
  }
}
