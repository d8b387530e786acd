/**
 * Messages the daemon frames itself: gRPC's 5-byte prefix (not compressed, big-endian length)
 * and the protobuf bytes, built in a reused buffer (batch-frames.ts).
 *
 * grpc-js frames every message it sends into a new Buffer (`serializeMessage`: allocate length + 5,
 * copy). A streamed batch's buffer then lives until HTTP/2 has written it, outlives young-generation
 * collections, and V8 counts its bytes against the old generation's limit: at ~30 MB/s of events
 * that alone started a full mark-compact several times a second (bench/README.md, remote
 * streaming). So a FramedMessage is handed to HTTP/2 as it is. grpc-js exposes no hook for that:
 * the one method is wrapped on its server call's prototype when it is there; when a grpc-js
 * version lacks it, the service's serializer returns the protobuf bytes and grpc-js frames them
 * as before (one copy more, same bytes on the wire).
 */
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';

export class FramedMessage {
  /** `framed`: the 5-byte prefix, then the message */
  constructor(readonly framed: Buffer) {}
  /** the protobuf bytes (for grpc-js to frame) */
  get message(): Buffer {
    return this.framed.subarray(5);
  }
}

/** Writes gRPC's message prefix for `length` bytes of message at `p`. */
export function putPrefix(b: Buffer, p: number, length: number): void {
  b[p] = 0;
  b.writeUInt32BE(length, p + 1);
}

type Serialize = (this: unknown, value: unknown) => Buffer;
let wrapped = false;

/** Sends FramedMessages without grpc-js's copy, where its server call has the method to wrap. */
export function sendFramedAsIs(): void {
  if (wrapped) return;
  wrapped = true;
  const proto = (BaseServerInterceptingCall as unknown as { prototype: { serializeMessage?: Serialize } } | undefined)?.prototype;
  const frame = proto?.serializeMessage;
  if (!proto || typeof frame !== 'function') return;
  proto.serializeMessage = function (this: unknown, value: unknown): Buffer {
    return value instanceof FramedMessage ? value.framed : frame.call(this, value);
  };
}
