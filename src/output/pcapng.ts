/**
 * `-o pcap-ng`: a datasource of captured packets (IG's `pcap.*` datasource annotations: which
 * field holds the bytes, the capture time, the length on the wire) written as a pcap-ng capture
 * (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html): one Section Header Block
 * when the run starts, an Interface Description Block when a packet of a new interface (ifindex
 * in a network namespace) first comes, then one Enhanced Packet Block per packet, nanosecond
 * timestamps. Readable by tcpdump -r, tshark, Wireshark: `ig run tcpdump -o pcap-ng | tcpdump -r -`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import { IgError } from '../errors.js';
import { bootNsToWallNs } from '../format/timestamp.js';
import { Sink, type SinkOptions } from './sink.js';

const LINKTYPE_ETHERNET = 1;
const BT_SHB = 0x0a0d0d0a, BT_IDB = 1, BT_EPB = 6;
const OPT_END = 0, IF_NAME = 2, IF_DESCRIPTION = 3, IF_TSRESOL = 9;

const PCAP = {
  payload: 'pcap.payload',
  /** our record's captured byte count (IG reads it from `ebpf.rest.len`) */
  payloadLength: 'pcap.payload-length',
  timestamp: 'pcap.timestamp',
  packetLength: 'pcap.packet-length',
} as const;

const pad4 = (n: number) => (n + 3) & ~3;

function option(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function block(type: number, body: Buffer): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

function sectionHeader(): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(0x1a2b3c4d, 0); // byte-order magic
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8); // section length not known
  return block(BT_SHB, body);
}

function interfaceDescription(name: string, description: string): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(LINKTYPE_ETHERNET, 0);
  head.writeUInt32LE(0, 4); // no snap length limit
  return block(BT_IDB, Buffer.concat([head,
    option(IF_NAME, Buffer.from(name)), option(IF_DESCRIPTION, Buffer.from(description)),
    option(IF_TSRESOL, Buffer.from([9])), // nanoseconds
    option(OPT_END, Buffer.alloc(0))]));
}

function enhancedPacket(iface: number, wallNs: bigint, data: Buffer, wireLen: number): Buffer {
  const body = Buffer.alloc(20 + pad4(data.length));
  body.writeUInt32LE(iface, 0);
  body.writeUInt32LE(Number(wallNs >> 32n), 4);
  body.writeUInt32LE(Number(wallNs & 0xffffffffn), 8);
  body.writeUInt32LE(data.length, 12);
  body.writeUInt32LE(Math.max(wireLen, data.length), 16);
  data.copy(body, 20);
  return block(BT_EPB, body);
}

/** The host's interface names by ifindex (packets of other network namespaces keep a made-up name). */
function hostInterfaces(): Map<number, string> {
  const out = new Map<number, string>();
  try {
    for (const n of readdirSync('/sys/class/net')) {
      const i = Number(readFileSync(`/sys/class/net/${n}/ifindex`, 'utf8').trim());
      if (Number.isInteger(i)) out.set(i, n);
    }
  } catch { /* no sysfs: made-up names */ }
  return out;
}

function ownNetns(): number | undefined {
  try {
    return statSync('/proc/self/ns/net').ino;
  } catch {
    return undefined;
  }
}

export class PcapNgSink extends Sink {
  protected readonly allByDefault = true;
  private readonly payload: { offset: number; size: number };
  private readonly payloadLen: (b: Batch, r: number) => unknown;
  private readonly timestamp: (b: Batch, r: number) => unknown;
  private readonly wireLen: (b: Batch, r: number) => unknown;
  private readonly ifindex?: (b: Batch, r: number) => unknown;
  private readonly netns?: (b: Batch, r: number) => unknown;
  private readonly interfaces = new Map<string, number>();
  private names?: Map<number, string>;
  private hostNetns?: number;

  constructor(ds: RunDataSource, opts: SinkOptions) {
    super(ds, opts);
    if (opts.target.isTTY) {
      throw new IgError('usage', '-o pcap-ng writes a binary capture, and stdout is a terminal', {
        hint: 'redirect it to a file (> capture.pcapng) or pipe it to a reader (| tcpdump -nr -)',
      });
    }
    const a = ds.annotations;
    const field = (key: string) => {
      const name = a[key];
      if (!name || !ds.field(name)) {
        throw new IgError('usage', `-o pcap-ng: datasource ${ds.name} has no packets to write (no field named by its "${key}" annotation)`, {
          hint: 'use -o pcap-ng with a packet-capturing gadget such as tcpdump; use -o json or columns otherwise',
        });
      }
      return name;
    };
    const payload = ds.byteRange(field(PCAP.payload));
    if (!payload) throw new IgError('usage', `-o pcap-ng: the packet bytes of datasource ${ds.name} are not in its records`);
    this.payload = payload;
    this.payloadLen = a[PCAP.payloadLength] && ds.field(a[PCAP.payloadLength]!) ? ds.reader(a[PCAP.payloadLength]!) : () => payload.size;
    this.timestamp = ds.reader(field(PCAP.timestamp));
    this.wireLen = ds.reader(field(PCAP.packetLength));
    if (ds.field('ifindex')) this.ifindex = ds.reader('ifindex');
    if (ds.field('netns_id')) this.netns = ds.reader('netns_id');
  }

  override begin(): void {
    this.names = hostInterfaces();
    this.hostNetns = ownNetns();
    this.target.write(sectionHeader());
  }

  write(b: Batch): void {
    if (b.count === 0 || this.overloaded(b)) return;
    const parts: Buffer[] = [];
    for (let i = 0; i < b.count; i++) {
      const r = b.rows[i]!;
      const iface = this.interfaceOf(b, r, parts);
      const len = Math.min(Number(this.payloadLen(b, r)), this.payload.size);
      const start = b.offsets[r]! + this.payload.offset;
      const ts = bootNsToWallNs(BigInt(this.timestamp(b, r) as number | bigint));
      parts.push(enhancedPacket(iface, ts, b.data.subarray(start, start + len), Number(this.wireLen(b, r))));
      this.shown++;
    }
    this.target.write(Buffer.concat(parts));
  }

  /** The capture's interface id of a record's interface, described (IDB) the first time it is seen. */
  private interfaceOf(b: Batch, r: number, parts: Buffer[]): number {
    const ifindex = Number(this.ifindex?.(b, r) ?? 0);
    const netns = Number(this.netns?.(b, r) ?? 0);
    const key = `${netns}:${ifindex}`;
    let id = this.interfaces.get(key);
    if (id === undefined) {
      id = this.interfaces.size;
      this.interfaces.set(key, id);
      const onHost = !netns || netns === this.hostNetns;
      const name = (onHost && this.names?.get(ifindex)) || `if${ifindex}`;
      parts.push(interfaceDescription(name, `ifindex=${ifindex};netns=${netns}`));
    }
    return id;
  }
}
