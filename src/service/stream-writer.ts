/**
 * Writes a RunGadget or AttachInstance call's messages, in the order they come: batches
 * hand-encoded, framed and grouped (batch-frames.ts) and sent as those bytes (grpc-framed.ts),
 * every other message through protobufjs. It counts the bytes still queued: gRPC's stream is in
 * object mode (its writableLength counts messages, not bytes), and HTTP/2 flow control holds a
 * message until the client has read the ones before it.
 */
import type * as grpc from '@grpc/grpc-js';
import { BatchFrames, type BatchMsg } from './batch-frames.js';
import { FramedMessage } from './grpc-framed.js';

/** Bytes queued towards one client above which whole batches are dropped (and counted as lost). */
const HIGH_WATER = 8 * 1024 * 1024;

export interface StreamWriter {
  /** a message of the stream (`node` is added); a batch's `json` is read during the call only */
  write(m: Record<string, unknown>): void;
  /** the client is behind: stop sending batches until it catches up */
  full(): boolean;
  /** calls `fn` once the bytes queued are down to half of what makes the stream full */
  whenDrained(fn: () => void): void;
}

export function streamWriter(call: grpc.ServerWritableStream<unknown, unknown>, node: string): StreamWriter {
  let queued = 0;
  let waiting: (() => void)[] = [];
  const frames = new BatchFrames(node, (bytes, done) => {
    if (call.cancelled) return done();
    const n = bytes.length;
    queued += n;
    call.write(new FramedMessage(bytes), () => {
      queued -= n;
      done();
      if (waiting.length && queued + frames.pending <= HIGH_WATER / 2) {
        const fns = waiting;
        waiting = [];
        for (const fn of fns) fn();
      }
    });
  });
  return {
    write(m) {
      if (call.cancelled) return;
      if (m.batch) return frames.batch(m.batch as BatchMsg);
      frames.flush();
      call.write({ ...m, node });
    },
    full: () => queued + frames.pending > HIGH_WATER,
    whenDrained(fn) {
      if (queued + frames.pending <= HIGH_WATER / 2) setImmediate(fn);
      else waiting.push(fn);
    },
  };
}
