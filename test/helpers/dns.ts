// A tiny DNS server and client over UDP on 127.0.0.1, for trace_dns's tests: the server answers
// `<x>.test.` with an A (1.2.3.4) and an AAAA (2001:db8::1) answer, anything else with NXDOMAIN,
// after `delayMs`; the client sends one query and waits for its answer.
import dgram from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])), Buffer.from([0])]);
}

function query(id: number, name: string, type: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2); // RD
  h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(1, 2);
  return Buffer.concat([h, encodeName(name), q]);
}

function answer(q: Buffer): Buffer {
  const id = q.readUInt16BE(0);
  let off = 12;
  while (q[off] !== 0) off += q[off]! + 1;
  const question = q.subarray(12, off + 5);
  const name = q.subarray(12, off + 1).toString('latin1');
  const ok = name.endsWith('\x04test\x00');
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(ok ? 0x8180 : 0x8183, 2); // QR RD RA, rcode 0 or 3 (NXDOMAIN)
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(ok ? 2 : 0, 6);
  if (!ok) return Buffer.concat([h, question]);
  const rr = (type: number, rdata: number[]) => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(0xc00c, 0); // the question's name, compressed
    b.writeUInt16BE(type, 2);
    b.writeUInt16BE(1, 4);
    b.writeUInt32BE(60, 6);
    b.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([b, Buffer.from(rdata)]);
  };
  return Buffer.concat([h, question, rr(1, [1, 2, 3, 4]), rr(28, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])]);
}

export async function dnsServer(delayMs = 0): Promise<{ port: number; close: () => void }> {
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, rinfo) => setTimeout(() => s.send(answer(msg), rinfo.port, rinfo.address), delayMs));
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
  return { port: s.address().port, close: () => s.close() };
}

/** Send one query, resolve with the client's port when the answer came. */
export async function ask(port: number, id: number, name: string, type = 1): Promise<number> {
  const c = dgram.createSocket('udp4');
  await new Promise<void>((res) => c.bind(0, '127.0.0.1', res));
  const answered = new Promise<void>((res) => c.once('message', () => res()));
  c.send(query(id, name, type), port, '127.0.0.1');
  await answered;
  const local = c.address().port;
  c.close();
  return local;
}

/** Whether a process holds a packet socket (where a socket filter gadget is attached). */
export function holdsPacketSocket(pid: number): boolean {
  let inodes: Set<string>;
  try {
    inodes = new Set(readFileSync(`/proc/${pid}/net/packet`, 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/).at(-1)!));
  } catch {
    return false;
  }
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      const m = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      return !!m && inodes.has(m[1]!);
    } catch {
      return false;
    }
  });
}
