import { describe, expect, it } from 'vitest';
import { BatchFrames, FRAME_BYTES } from '../../src/service/batch-frames.js';
import { gadgetService, servedGadgetService } from '../../src/service/proto.js';
import { FramedMessage } from '../../src/service/grpc-framed.js';
import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';

// What any gRPC client of spec/ig.proto decodes from the daemon's hand-encoded batch messages:
// decoded here with protobufjs from the .proto itself, as a third-party client would.
const method = gadgetService().GadgetService.service.RunGadget!;
interface Decoded { node: string; batch: { datasource: string; json: Buffer; lost: number; snapshot: boolean } }
/** A framed message: gRPC's prefix (not compressed, the length) checked, the protobuf decoded. */
function decode(b: Buffer): Decoded {
  expect(b[0]).toBe(0);
  expect(b.readUInt32BE(1)).toBe(b.length - 5);
  return method.responseDeserialize(b.subarray(5)) as Decoded;
}
const json = (s: string) => Buffer.from(s);
const turn = () => new Promise<void>((r) => setImmediate(r));

/** A stream that keeps every message without taking it (its `done` held) until `take()`. */
function heldStream(node = 'node-1') {
  const sent: { bytes: Buffer; copy: Buffer; done: () => void }[] = [];
  const frames = new BatchFrames(node, (bytes, done) => sent.push({ bytes, copy: Buffer.from(bytes), done }));
  return { frames, sent, take: () => sent.forEach((s) => s.done()) };
}

describe('the daemon\'s hand-encoded batch messages', () => {
  it('decode as the GadgetMessage protobufjs writes for the same batch', async () => {
    const { frames, sent } = heldStream('node-é');
    const msg = { datasource: 'open', json: json('{"pid":1}\n'), lost: 3, snapshot: false };
    frames.batch(msg);
    frames.batch({ datasource: 'procs', json: json('[{"pid":1},{"pid":2}]\n'), lost: 0, snapshot: true });
    frames.batch({ datasource: 'open', json: Buffer.alloc(0), lost: 2 ** 40, snapshot: false });
    await turn();
    expect(sent).toHaveLength(3);
    const reference = method.responseSerialize({ batch: msg, node: 'node-é' });
    expect(decode(sent[0]!.bytes)).toEqual(method.responseDeserialize(reference));
    expect(decode(sent[1]!.bytes)).toMatchObject({ node: 'node-é', batch: { datasource: 'procs', snapshot: true, lost: 0 } });
    expect(decode(sent[1]!.bytes).batch.json.toString()).toBe('[{"pid":1},{"pid":2}]\n');
    expect(decode(sent[2]!.bytes)).toMatchObject({ batch: { datasource: 'open', lost: 2 ** 40, snapshot: false } });
    expect(decode(sent[2]!.bytes).batch.json.length).toBe(0);
  });

  it('group one loop turn\'s batches of a datasource; a loss, a snapshot or another datasource ends a message', async () => {
    const { frames, sent } = heldStream();
    frames.batch({ datasource: 'open', json: json('a\n'), lost: 0, snapshot: false });
    frames.batch({ datasource: 'open', json: json('b\n'), lost: 0, snapshot: false });
    expect(sent).toHaveLength(0); // waits for the end of the turn
    await turn();
    frames.batch({ datasource: 'open', json: json('c\n'), lost: 0, snapshot: false });
    frames.batch({ datasource: 'open', json: json('d\n'), lost: 5, snapshot: false }); // lost line after d, as locally
    frames.batch({ datasource: 'open', json: json('e\n'), lost: 0, snapshot: false });
    frames.batch({ datasource: 'exec', json: json('f\n'), lost: 0, snapshot: false });
    frames.batch({ datasource: 'exec', json: json('[g]\n'), lost: 0, snapshot: true });
    frames.batch({ datasource: 'exec', json: json('h\n'), lost: 0, snapshot: false });
    frames.flush(); // another message is about to be sent
    const got = sent.map((s) => decode(s.bytes).batch).map((b) => [b.datasource, b.json.toString(), b.lost, b.snapshot]);
    expect(got).toEqual([
      ['open', 'a\nb\n', 0, false],
      ['open', 'c\nd\n', 5, false],
      ['open', 'e\n', 0, false],
      ['exec', 'f\n', 0, false],
      ['exec', '[g]\n', 0, true],
      ['exec', 'h\n', 0, false],
    ]);
  });

  it('send a message once it holds FRAME_BYTES, and never overwrite one the stream has not taken', async () => {
    const { frames, sent, take } = heldStream();
    const line = Buffer.alloc(1000, 'x'.charCodeAt(0));
    line[999] = 10;
    let written = 0;
    const write = (n: number) => {
      for (let i = 0; i < n; i++) {
        line.writeUInt32BE(written++, 0); // each line distinct
        frames.batch({ datasource: 'open', json: line, lost: 0, snapshot: false });
      }
    };
    write(Math.ceil((5 * FRAME_BYTES) / line.length)); // more than a slab, nothing taken yet
    await turn();
    expect(sent.length).toBeGreaterThanOrEqual(5);
    // about one message per FRAME_BYTES (one ends early where its buffer ends), none much larger
    expect(sent.length).toBeLessThanOrEqual(7);
    expect(sent.every((s) => decode(s.bytes).batch.json.length < FRAME_BYTES + line.length)).toBe(true);
    expect(sent.every((s) => s.bytes.equals(s.copy))).toBe(true); // nothing taken: nothing reused
    take(); // their buffers may be reused now
    const before = sent.length;
    write(Math.ceil((3 * FRAME_BYTES) / line.length));
    await turn();
    expect(sent.length).toBeGreaterThan(before);
    expect(sent.slice(before).every((s) => s.bytes.equals(s.copy))).toBe(true);
    // the lines in order, each once, as they were when their message was sent
    let next = 0;
    for (const s of sent) {
      const body = decode(s.copy).batch.json;
      for (let o = 0; o < body.length; o += line.length) expect(body.readUInt32BE(o)).toBe(next++);
    }
    expect(next).toBe(written);
  });

  it('reach HTTP/2 as they are (grpc-js frames nothing again); other messages are framed by grpc-js as before', () => {
    const served = servedGadgetService(); // wraps grpc-js's serializeMessage
    const frameOf = (BaseServerInterceptingCall.prototype as unknown as { serializeMessage: (this: unknown, v: unknown) => Buffer }).serializeMessage;
    const { frames, sent } = heldStream();
    frames.batch({ datasource: 'open', json: json('{"pid":1}\n'), lost: 0, snapshot: false });
    frames.flush();
    const framed = new FramedMessage(sent[0]!.bytes);
    // a call of this grpc-js version, as the server makes one for RunGadget
    const call = { handler: { serialize: served.RunGadget!.responseSerialize } };
    const out = frameOf.call(call, framed);
    expect(out.buffer).toBe(sent[0]!.bytes.buffer); // the slab itself: no copy
    expect(out.byteOffset).toBe(sent[0]!.bytes.byteOffset);
    const done = frameOf.call(call, { done: { exit_code: 0, error: '', hint: '' }, node: 'n' });
    expect(done.readUInt32BE(1)).toBe(done.length - 5);
    expect(method.responseDeserialize(done.subarray(5))).toMatchObject({ done: { exit_code: 0 }, node: 'n' });
    // and a grpc-js that frames everything itself still gets the same protobuf bytes
    expect(served.RunGadget!.responseSerialize(framed).equals(sent[0]!.bytes.subarray(5))).toBe(true);
  });
});
