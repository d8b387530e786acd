// trace_dns: DNS over UDP on 127.0.0.1 to a small server of the test's (test/helpers/dns.ts),
// parsed by the gadget's wasm module (gadgets/trace_dns/program.c): ids, Q/R, names, types,
// rcodes, the A and AAAA answers, and the latency from a query to its response.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, jsonLines, spawnIg } from '../helpers/ig.js';
import { buildGadget, tempStore } from '../helpers/gadgets.js';
import { waitFor } from '../helpers/kernel.js';
import { ask, dnsServer, holdsPacketSocket } from '../helpers/dns.js';

const store = tempStore();
beforeAll(() => buildGadget('gadgets/trace_dns', 'trace_dns', store.env), 120_000);
afterAll(() => store.cleanup());

describe('trace_dns', () => {
  it('queries and responses, names, types, rcodes, answers, and the latency of a response', async () => {
    const server = await dnsServer(30);
    try {
      // a socket filter is attached to a packet socket, not through a bpf_link: wait for the socket
      const child = spawnIg(['run', 'trace_dns', '-o', 'json', '-t', '3', '--port', String(server.port)], { env: store.env });
      const done = collect(child);
      await waitFor(() => holdsPacketSocket(child.pid!), 20_000, 'trace_dns to attach its socket filter');
      const triggered = { ok: await ask(server.port, 0x1234, 'example.test', 1), bad: await ask(server.port, 0x4321, 'nope.example', 28) };
      const r = { ...(await done), triggered };
      expect(r.code, r.stderr).toBe(0);
      // the loopback shows each packet twice: leaving (OUTGOING) and arriving (HOST)
      const ev = jsonLines(r.stdout) as Record<string, any>[];
      const of = (id: string, qr: string, pkt: string) => ev.filter((e) => e.id === id && e.qr === qr && e.pkt_type === pkt);
      const ep = (port: number) => ({ addr: '127.0.0.1', port, proto: 'UDP', version: 4 });
      expect(of('1234', 'Q', 'OUTGOING')).toHaveLength(1);
      expect(of('1234', 'Q', 'HOST')[0]).toMatchObject({
        qr_raw: false, name: 'example.test.', qtype: 'A', qtype_raw: 1, rd: true, ra: false, tc: false, num_answers: 0, addresses: '',
        src: ep(r.triggered.ok), dst: ep(server.port), latency_ns_raw: 0,
      });
      const answer = of('1234', 'R', 'HOST')[0]!;
      expect(answer).toMatchObject({
        qr_raw: true, name: 'example.test.', qtype: 'A', rcode: 'Success', rcode_raw: 0, ra: true, num_answers: 2,
        addresses: '1.2.3.4,2001:db8::1', src: ep(server.port), dst: ep(r.triggered.ok),
      });
      // the server answers 30 ms after the query
      expect(answer.latency_ns_raw).toBeGreaterThan(25e6);
      expect(answer.latency_ns_raw).toBeLessThan(1e9);
      expect(answer.latency_ns).toMatch(/^\d+\.\d\dms$/);
      // the response leaving the server has no latency: only the client's side measures it
      expect(of('1234', 'R', 'OUTGOING')[0]).toMatchObject({ latency_ns_raw: 0 });
      expect(of('4321', 'R', 'HOST')[0]).toMatchObject({ name: 'nope.example.', qtype: 'AAAA', rcode: 'NameError', rcode_raw: 3, num_answers: 0 });
      // the module's input stays out of JSON (json.skip), as IG
      expect(answer).not.toHaveProperty('data');
      expect(answer).not.toHaveProperty('data_len');
      expect(ev).toHaveLength(8);
    } finally {
      server.close();
    }
  });
});
