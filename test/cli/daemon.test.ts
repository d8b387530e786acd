import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runIg, spawnIg, collect, jsonLines, repoRoot } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { heldBpfIds, bpfObjectExists, waitFor } from '../helpers/kernel.js';
import { fileOpener } from '../helpers/opener.js';

const store = tempStore();
const work = mkdtempSync(path.join(tmpdir(), 'ig-daemon-'));
const daemons: ChildProcess[] = [];

/** Start `ig daemon` as node NAME; resolves with the address it reports. */
async function daemon(name: string, host: string, extra: string[] = []): Promise<{ proc: ChildProcess; address: string }> {
  const proc = spawnIg(['daemon', '-H', host, ...extra], { env: { ...store.env, NODE_NAME: name } });
  daemons.push(proc);
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const address = await waitFor(() => err.match(/listening on (\S+)/)?.[1], 10_000, `daemon ${name}`);
  return { proc, address };
}

beforeAll(() => buildGadget('gadgets/trace_open', 'trace_open', store.env), 120_000);
afterAll(() => {
  for (const d of daemons) d.kill('SIGKILL');
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('ig daemon and ig run --remote-address', () => {
  it('runs on two nodes and merges their events into one output, each with its node', async () => {
    const a = await daemon('node-a', `unix://${work}/a.sock`);
    const b = await daemon('node-b', 'tcp://127.0.0.1:0', ['--tls-insecure']);
    const child = fileOpener(50, work);
    const file = child.file;
    try {
      const r = await runIg(['run', 'trace_open', '--remote-address', `${a.address},${b.address}`, '-o', 'json', '-t', '2',
        '--pid', String(child.pid)]);
      expect(r.code, r.stderr).toBe(0);
      const events = jsonLines(r.stdout) as { fname: string; pid: number; k8s: { node: string } }[];
      const mine = events.filter((e) => e.fname === file);
      expect(mine.length).toBeGreaterThan(2);
      expect(mine.every((e) => e.pid === child.pid)).toBe(true);
      expect(new Set(mine.map((e) => e.k8s.node))).toEqual(new Set(['node-a', 'node-b']));
      // columns work remotely too, with the node column a user asks for
      const c = await runIg(['run', 'trace_open', '--remote-address', a.address, '-t', '1', '--fields', 'k8s.node,pid,fname', '--pid', String(child.pid)]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout.split('\n')[0]).toMatch(/^K8S\.NODE\s+PID\s+FNAME/);
      expect(c.stdout).toMatch(/node-a\s+\d+\s+/);
      // a reader that goes away stops the remote run quietly, as a local one
      for (const output of ['json', 'columns']) {
        const sh = spawn('bash', ['-c', `"${process.execPath}" bin/ig.js run trace_open --remote-address ${a.address} -o ${output} --pid ${child.pid} | head -n 1; echo "ig exit \${PIPESTATUS[0]}" >&2`], {
          env: store.env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
        });
        const h = await collect(sh, 30_000);
        expect(h.stdout.trim().split('\n')).toHaveLength(1);
        expect(h.stderr.trim(), output).toBe('ig exit 0');
      }
    } finally {
      child.stop();
    }
  });

  it('Ctrl-C on the client stops the run on the node and releases what it loaded', async () => {
    const a = await daemon('node-c', `unix://${work}/c.sock`);
    const client = spawnIg(['run', 'trace_open', '--remote-address', a.address, '-o', 'json']);
    const result = collect(client, 30_000);
    const held = await waitFor(() => {
      const h = heldBpfIds(a.proc.pid!);
      return h.progs.length >= 2 ? h : undefined;
    }, 15_000, 'the node to load the gadget');
    client.kill('SIGINT');
    const r = await result;
    expect(r.code, r.stderr).toBe(0);
    await waitFor(() => held.progs.every((id) => !bpfObjectExists('prog', id)), 10_000, 'the node to release its programs');
    expect(heldBpfIds(a.proc.pid!).progs).toEqual([]);
  });

  it('a client that reads slowly gets the lost lines a local run prints, and the events after them', async () => {
    const a = await daemon('node-slow', `unix://${work}/slow.sock`);
    const file = path.join(work, `slow-${randomBytes(4).toString('hex')}`);
    writeFileSync(file, 'x');
    // opens as fast as one process can: far more than the node may queue while the reader sleeps
    const child = spawn(process.execPath, ['-e', `const fs = require('fs'); for (;;) fs.closeSync(fs.openSync(${JSON.stringify(file)}, 'r'))`], { stdio: 'ignore' });
    try {
      const sh = spawn('bash', ['-c', `"${process.execPath}" bin/ig.js run trace_open --remote-address ${a.address} -o json -t 8 --pid ${child.pid} | { sleep 5; cat; }`], {
        env: store.env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const r = await collect(sh, 60_000);
      expect(r.code, r.stderr).toBe(0);
      const lines = jsonLines(r.stdout) as { fname?: string; lost?: number; lostTotal?: number }[];
      const lost = lines.filter((l) => l.lost !== undefined);
      expect(lost.length, `${lines.length} lines; ${r.stderr}`).toBeGreaterThan(0);
      // the lines count as a local run's do: each its own, and the running total
      let total = 0;
      for (const l of lost) {
        expect(l.lost).toBeGreaterThan(0);
        total += l.lost!;
        expect(l.lostTotal).toBe(total);
      }
      expect(r.stderr).toMatch(new RegExp(`lost ${total} events in total`));
      // the node went on streaming once the reader caught up
      const afterFirstLoss = lines.slice(lines.indexOf(lost[0]!) + 1);
      expect(afterFirstLoss.filter((l) => l.fname === file).length).toBeGreaterThan(0);
    } finally {
      child.kill();
    }
  });

  it('reports a node\'s errors, refuses flags naming the node\'s files, and says when no daemon answers', async () => {
    const a = await daemon('node-d', `unix://${work}/d.sock`);
    const missing = await runIg(['run', 'no_such_gadget', '--pull', 'never', '--remote-address', a.address]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/^error: image ghcr.io\/inspektor-gadget\/gadget\/no_such_gadget:latest not found in the local store/m);
    const banned = await runIg(['run', 'trace_open', '--remote-address', a.address, '--oci-store', '/etc']);
    expect(banned.code).not.toBe(0);
    expect(banned.stderr).toMatch(/--oci-store cannot be set from a remote client/);
    const none = await runIg(['run', 'trace_open', '--remote-address', `unix://${work}/nobody.sock`, '-t', '1']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/^error: cannot run on the ig daemon at unix:\/\/.*nobody\.sock/m);
  });

  it('speaks TLS with client certificates when given them', async () => {
    const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=ig-test-ca', '-days', '1']);
    writeFileSync(path.join(work, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    for (const who of ['server', 'client']) {
      ssl(['req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? '127.0.0.1' : 'ig-client'}`]);
      ssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '1',
        ...(who === 'server' ? ['-extfile', 'san.ext'] : [])]);
    }
    const f = (n: string) => path.join(work, n);
    const a = await daemon('node-tls', 'tcp://127.0.0.1:0', ['--tls-cert-file', f('server.crt'), '--tls-key-file', f('server.key'), '--tls-client-ca-file', f('ca.crt')]);
    const ok = await runIg(['run', 'trace_open', '--remote-address', a.address, '-o', 'json', '-t', '1',
      '--tls-ca-file', f('ca.crt'), '--tls-cert-file', f('client.crt'), '--tls-key-file', f('client.key')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(jsonLines(ok.stdout).length).toBeGreaterThan(0);
    const noCert = await runIg(['run', 'trace_open', '--remote-address', a.address, '-t', '1', '--tls-ca-file', f('ca.crt')]);
    expect(noCert.code).not.toBe(0);
    expect(noCert.stderr).toMatch(/^error: cannot run on the ig daemon/m);
  });
});
