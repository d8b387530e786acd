// The tcpdump gadget on a veth pair: packets the test sends from a network namespace to the host
// side, captured by classifiers on the host side (--iface), a pcap filter (--pf) applied in the
// kernel, shown as JSON and written as pcap-ng that tcpdump (the real one) reads back.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collect, igBin, jsonLines, type IgResult } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { makeVeth, bpftoolNet, runWhenReady, type VethPair } from '../helpers/netns.js';
import { waitFor } from '../helpers/kernel.js';

const store = tempStore();
const env = store.env;
let veth: VethPair;
let tmp: string;

// the ports the test sends to: only UDP to WANTED and TCP with CONNECT pass the filter
const WANTED = 40_001, OTHER = 40_002, CONNECT = 40_003;
const FILTER = `udp dst port ${WANTED} or tcp port ${CONNECT}`;

beforeAll(async () => {
  await buildGadget('gadgets/tcpdump', 'tcpdump', env);
  veth = makeVeth('td', 92);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-tcpdump-'));
}, 180_000);
afterAll(() => {
  veth?.remove();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  store.cleanup();
});

/** Ingress and egress classifiers are both on the host side (two dispatcher filters). */
const attached = () => (bpftoolNet(veth.host).match(/ig_net_disp/g) ?? []).length === 2;

/** 3 datagrams to WANTED (10 bytes), 2 to OTHER (20 bytes), and a connect to CONNECT, where nobody listens (SYN in, RST out). */
function sendTraffic(): void {
  veth.sendFromNs(WANTED, 3, 10);
  veth.sendFromNs(OTHER, 2, 20);
  execFileSync('ip', ['netns', 'exec', veth.ns, 'python3', '-c',
    `import socket\ns=socket.socket()\ntry: s.connect(('${veth.hostAddr}',${CONNECT}))\nexcept ConnectionRefusedError: pass`]);
}

/** What a captured Ethernet/IPv4 frame is, read from its first bytes. */
function decode(bytes: number[]) {
  const ihl = (bytes[14]! & 0xf) * 4;
  const l4 = 14 + ihl;
  const port = (o: number) => (bytes[l4 + o]! << 8) | bytes[l4 + o + 1]!;
  return { proto: bytes[23], sport: port(0), dport: port(2), tcpFlags: bytes[23] === 6 ? bytes[l4 + 13] : undefined };
}

describe('tcpdump', () => {
  it('captures exactly the packets the --pf filter matches, both directions, cut at --snaplen', async () => {
    const snaplen = 60;
    const r = await runWhenReady(['run', 'tcpdump', '--iface', veth.host, '--pf', FILTER, '--snaplen', String(snaplen),
      '-o', 'json', '--fields', 'ifindex,packet_type,packet_size,payload_len,payload', '-t', '4'], env, attached, sendTraffic);
    expect(r.code, r.stderr).toBe(0);
    const ifindex = Number(readFileSync(`/sys/class/net/${veth.host}/ifindex`, 'utf8'));
    const got = jsonLines(r.stdout).filter((e) => !('lost' in e)).map((e) => ({
      ifindex: e.ifindex, packet_type: e.packet_type, packet_size: e.packet_size, payload_len: e.payload_len,
      ...decode(e.payload as number[]),
    }));
    const SYN = 0x02, RST_ACK = 0x14;
    // a SYN's length depends on its TCP options: whatever it is on the wire, the capture stops at snaplen
    const syn = got.find((p) => p.tcpFlags === SYN);
    expect(got, r.stdout).toEqual([
      ...Array(3).fill({ ifindex, packet_type: 1, packet_size: 52, payload_len: 52, proto: 17, sport: expect.any(Number), dport: WANTED, tcpFlags: undefined }),
      { ifindex, packet_type: 1, packet_size: syn?.packet_size, payload_len: snaplen, proto: 6, sport: expect.any(Number), dport: CONNECT, tcpFlags: SYN },
      { ifindex, packet_type: 0, packet_size: 54, payload_len: 54, proto: 6, sport: CONNECT, dport: syn?.sport, tcpFlags: RST_ACK },
    ]);
    expect(syn!.packet_size).toBeGreaterThan(snaplen);
  });

  it('a filter on the packet length (no packet bytes read): only the longer datagrams', async () => {
    const r = await runWhenReady(['run', 'tcpdump', '--iface', veth.host, '--pf', 'udp and greater 60',
      '-o', 'json', '--fields', 'packet_size,payload', '-t', '4'], env, attached, sendTraffic);
    expect(r.code, r.stderr).toBe(0);
    const got = jsonLines(r.stdout).filter((e) => !('lost' in e)).map((e) => ({ size: e.packet_size, dport: decode(e.payload as number[]).dport }));
    expect(got, r.stdout).toEqual(Array(2).fill({ size: 62, dport: OTHER }));
  });

  it('-o pcap-ng writes a capture tcpdump -r reads: the same packets, timestamps of now', async () => {
    const file = path.join(tmp, 'capture.pcapng');
    const r = await runToFile(['run', 'tcpdump', '--iface', veth.host, '--pf', FILTER, '-o', 'pcap-ng', '-t', '4'], file, true);
    expect(r.code, r.stderr).toBe(0);
    const text = execFileSync('tcpdump', ['-nn', '-tt', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = text.trim().split('\n');
    const ns = veth.peerAddr.replace(/\./g, '\\.'), host = veth.hostAddr.replace(/\./g, '\\.');
    const udp = new RegExp(`^\\d+\\.\\d+ IP ${ns}\\.\\d+ > ${host}\\.${WANTED}: UDP, length 10$`);
    expect(lines, text).toHaveLength(5);
    expect(lines.slice(0, 3).every((l) => udp.test(l)), text).toBe(true);
    expect(lines[3], text).toMatch(new RegExp(`IP ${ns}\\.\\d+ > ${host}\\.${CONNECT}: Flags \\[S\\]`));
    expect(lines[4], text).toMatch(new RegExp(`IP ${host}\\.${CONNECT} > ${ns}\\.\\d+: Flags \\[R\\.\\]`));
    // nanosecond timestamps of the wall clock: within the last minute
    const first = Number(lines[0]!.split(' ')[0]);
    expect(Math.abs(Date.now() / 1000 - first)).toBeLessThan(60);
  });

  it('the verifier takes every shape of classic BPF libpcap makes (IPv6, flags, arithmetic on X, scratch memory)', async () => {
    const filters = ['vlan and udp', 'icmp6 or (ip6 and tcp port 80)', 'tcp[tcpflags] & tcp-syn != 0', 'ip[2:2] / ip[9] > 3',
      'ip[2:2] % ip[9] = 0', 'len - 14 > ip[2:2]', 'net 10.0.0.0/8 and not portrange 1-100'];
    for (const pf of filters) {
      const r = await collect(spawn(process.execPath, [igBin, 'run', 'tcpdump', '--iface', veth.host, '--pf', pf, '-o', 'json', '-t', '0.5'],
        { env, stdio: ['ignore', 'pipe', 'pipe'] }));
      expect(r.code, `${pf}: ${r.stderr}`).toBe(0);
    }
  });

  it('a bad filter: libpcap\'s message naming the expression, exit 2, nothing written', async () => {
    const file = path.join(tmp, 'bad.pcapng');
    const r = await runToFile(['run', 'tcpdump', '--iface', veth.host, '--pf', 'tcp port nosuchport', '-o', 'pcap-ng', '-t', '2'], file, false);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad packet filter --pf "tcp port nosuchport": unknown port 'nosuchport'/);
    expect(statSync(file).size).toBe(0);
    expect(bpftoolNet(veth.host)).not.toMatch(/ig_net_disp/);
  });
});

/** Run ig with its stdout in `file` (binary output); with `traffic`, send the test's packets once it is attached. */
async function runToFile(args: string[], file: string, traffic: boolean): Promise<IgResult> {
  const fd = openSync(file, 'w');
  try {
    const child = spawn(process.execPath, [igBin, ...args], { env, stdio: ['ignore', fd, 'pipe'] });
    const result = collect(child, 60_000);
    if (traffic) {
      let exited = false;
      child.on('exit', () => (exited = true));
      await waitFor(() => exited || attached(), 20_000, 'tcpdump to attach');
      if (!exited) sendTraffic();
    }
    return await result;
  } finally {
    closeSync(fd);
  }
}
