// The daemon's own access policy (issue 11, item 1), through the real gRPC API: a raw client of
// spec/ig.proto where the point is what the daemon enforces whatever a client sends, the ig CLI
// where the point is what a user sees.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collect, jsonLines, repoRoot, runIg, spawnIg } from '../helpers/ig.js';
import { tempStore, buildGadget } from '../helpers/gadgets.js';
import { heldBpfIds, waitFor } from '../helpers/kernel.js';
import { rawClient, readStream, startTestDaemon, unaryCall, type TestDaemon } from '../helpers/daemon.js';

const store = tempStore();
const work = mkdtempSync(path.join(tmpdir(), 'ig-policy-'));
chmodSync(work, 0o755); // user nobody must reach the sockets in it (and then be refused or served by their mode)
const started: TestDaemon[] = [];
const NOBODY = { uid: 65534, gid: 65534 };

async function daemon(args: string[]): Promise<TestDaemon> {
  const d = await startTestDaemon(['--state-dir', '', ...args], { env: store.env });
  started.push(d);
  return d;
}

function keyPair(name: string): { key: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = path.join(work, `${name}.key`);
  const pub = path.join(work, `${name}.pub`);
  writeFileSync(key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { key, pub };
}

const runRequest = (image: string, extra: Record<string, unknown> = {}) => ({ image, pull: 'never', timeout_seconds: 1, output: 'json', ...extra });

beforeAll(() => buildGadget('gadgets/trace_open', 'trace_open', store.env), 120_000);
afterEach(async () => {
  await Promise.all(started.splice(0).map((d) => d.stop()));
});
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('ig daemon enforces its own policy', () => {
  it('requires signatures by its keys and its allow-list on every call (GetGadgetInfo and RunGadget alike)', async () => {
    const { key, pub } = keyPair('signer');
    const signed = await daemon(['-H', `unix://${work}/signed.sock`, '--verify-image', '--public-key', pub]);
    const c = rawClient(signed.address);
    // unsigned: refused before anything is loaded, whatever the request says
    await expect(unaryCall(c, 'GetGadgetInfo', { image: 'trace_open', pull: 'never' })).rejects.toMatchObject({ details: expect.stringMatching(/trace_open:latest \(sha256:[0-9a-f]{64}\) is not signed/) });
    const run = await readStream(c.RunGadget(runRequest('trace_open')) as never);
    expect(run.done?.exit_code).not.toBe(0);
    expect(run.done?.error).toMatch(/is not signed/);
    expect(run.messages.some((m) => m.batch)).toBe(false);
    // (--pull never: the signature is then looked for in the daemon's store only; this machine has no network)
    const cli = await runIg(['run', 'trace_open', '--pull', 'never', '--remote-address', signed.address, '-t', '1'], { env: store.env });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/^error: image ghcr.io\/inspektor-gadget\/gadget\/trace_open:latest \(sha256:[0-9a-f]{64}\) is not signed/m);
    // signed with the daemon's key: runs
    expect((await runIg(['image', 'sign', 'trace_open', '--key', key], { env: store.env })).code).toBe(0);
    const ok = await runIg(['run', 'trace_open', '--pull', 'never', '--remote-address', signed.address, '-o', 'json', '-t', '1'], { env: store.env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(jsonLines(ok.stdout).length).toBeGreaterThan(0);
    c.close();

    // an allow-list that does not name trace_open: refused on both calls, from the CLI too
    const listed = await daemon(['-H', `unix://${work}/listed.sock`, '--allowed-gadgets', 'ghcr.io/inspektor-gadget/gadget/trace_exec:latest']);
    const l = rawClient(listed.address);
    await expect(unaryCall(l, 'GetGadgetInfo', { image: 'trace_open', pull: 'never' })).rejects.toMatchObject({ details: expect.stringMatching(/trace_open:latest \(sha256:[0-9a-f]{64}\) is not in --allowed-gadgets/) });
    const denied = await readStream(l.RunGadget(runRequest('trace_open')) as never);
    expect(denied.done?.error).toMatch(/is not in --allowed-gadgets/);
    l.close();
    // an allow-list that names nothing does not turn the check off: the daemon does not start
    const empty = await runIg(['daemon', '-H', `unix://${work}/empty.sock`, '--allowed-gadgets', ','], { env: store.env });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^error: --allowed-gadgets names nothing/m);
    expect(existsSync(`${work}/empty.sock`)).toBe(false);
  }, 60_000);

  it('decides registries and pulls itself (here from a --policy file): another registry is refused before any pull, and pull never keeps a client from pulling', async () => {
    const file = `${work}/policy.yaml`;
    writeFileSync(file, 'allowed-registries: [localhost:5999]\npull: never\n');
    chmodSync(file, 0o664);
    const writable = await runIg(['daemon', '-H', `unix://${work}/reg.sock`, '--policy', file, '--state-dir', ''], { env: store.env });
    expect(writable.code).toBe(2);
    expect(writable.stderr).toMatch(/^error: policy file .*policy\.yaml is writable by its group/m);
    writeFileSync(file, 'allowed-registry: [localhost:5999]\n');
    chmodSync(file, 0o644);
    const typo = await runIg(['daemon', '-H', `unix://${work}/reg.sock`, '--policy', file, '--state-dir', ''], { env: store.env });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^error: policy file .*: unknown key allowed-registry/m);
    writeFileSync(file, 'allowed-registries: [localhost:5999]\npull: never\n');
    const d = await daemon(['-H', `unix://${work}/reg.sock`, '--policy', file]);
    const c = rawClient(d.address);
    const other = await readStream(c.RunGadget(runRequest('ghcr.io/someone/evil:1', { pull: 'always' })) as never);
    expect(other.done?.error).toBe('this daemon does not run images from ghcr.io (ghcr.io/someone/evil:1)');
    await expect(unaryCall(c, 'GetGadgetInfo', { image: 'ghcr.io/someone/evil:1', pull: 'always' })).rejects.toMatchObject({ details: expect.stringMatching(/does not run images from ghcr.io/) });
    const capped = await readStream(c.RunGadget(runRequest('localhost:5999/gadget:1', { pull: 'always' })) as never);
    expect(capped.messages.map((m) => m.notice).filter(Boolean)).toContain('this daemon\'s pull policy is "never": pulling as "never"\n');
    expect(capped.done?.error).toMatch(/^image localhost:5999\/gadget:1 not found in the local store/);
    c.close();
    // the client cannot name the node's files, ports or trust, however it spells the flag
    for (const flag of ['--ociStore', '--metricsListen', '--publicKey', '--insecureRegistries', '--allowedGadgets']) {
      const r = await runIg(['run', 'trace_open', '--remote-address', d.address, flag, '/etc'], { env: store.env });
      expect(r.code, flag).not.toBe(0);
      expect(r.stderr).toMatch(/cannot be set from a remote client/);
    }
  }, 60_000);

  it('refuses plain TCP unless --tls-insecure, and then says so loudly', async () => {
    const refused = await runIg(['daemon', '-H', 'tcp://127.0.0.1:0', '--state-dir', ''], { env: store.env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: refusing to serve tcp:\/\/127\.0\.0\.1:0 over plain TCP: anyone who can reach the port could run eBPF programs as root/m);
    expect(refused.stderr).toMatch(/--tls-insecure/);
    const d = await daemon(['-H', 'tcp://127.0.0.1:0', '--tls-insecure']);
    expect(d.stderr()).toMatch(/WARNING: serving tcp:\/\/127\.0\.0\.1:0 over plain TCP \(--tls-insecure\)/);
    const r = await runIg(['run', 'trace_open', '--remote-address', d.address, '-o', 'json', '-t', '1'], { env: store.env });
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  it('creates its unix socket 0660 in its group whatever the umask; a user outside the group cannot connect', async () => {
    const sock = `${work}/mode.sock`;
    const proc = spawn('bash', ['-c', `umask 0; exec "${process.execPath}" bin/ig.js daemon -H unix://${sock} --state-dir ''`], { cwd: repoRoot, env: store.env, stdio: ['ignore', 'ignore', 'pipe'] });
    // ready once it says so: the socket is bound 0600 and made 0660 in its group just before (listen.ts)
    let said = '';
    proc.stderr.on('data', (d: Buffer) => (said += d.toString()));
    try {
      await waitFor(() => said.includes(`listening on unix://${sock}`), 10_000, 'the daemon to listen');
      const st = lstatSync(sock);
      expect(st.isSocket()).toBe(true);
      expect(st.mode & 0o777).toBe(0o660);
      expect(st.gid).toBe(0);
      const r = await collect(spawnIg(['run', 'trace_open', '--remote-address', `unix://${sock}`, '-t', '1'], { ...NOBODY, env: store.env }), 30_000);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/^error: cannot run on the ig daemon at unix:\/\/.*mode\.sock/m);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
    // --group: that group's members may connect
    const g = await daemon(['-H', `unix://${work}/group.sock`, '-G', String(NOBODY.gid)]);
    expect(lstatSync(`${work}/group.sock`).gid).toBe(NOBODY.gid);
    const r = await collect(spawnIg(['run', 'trace_open', '--remote-address', g.address, '-o', 'json', '-t', '1'], { ...NOBODY, env: store.env }), 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).length).toBeGreaterThan(0);
  }, 60_000);

  it('never removes what is at its socket path unless it is a stale socket of its own', async () => {
    const file = `${work}/precious`;
    writeFileSync(file, 'data');
    const onFile = await runIg(['daemon', '-H', `unix://${file}`, '--state-dir', ''], { env: store.env });
    expect(onFile.code).toBe(2);
    expect(onFile.stderr).toMatch(/^error: .*precious exists and is not a socket; refusing to replace it/m);
    expect(readFileSync(file, 'utf8')).toBe('data');

    const live = await daemon(['-H', `unix://${work}/live.sock`]);
    const second = await runIg(['daemon', '-H', `unix://${work}/live.sock`, '--state-dir', ''], { env: store.env });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/^error: another daemon is listening on .*live\.sock/m);
    const still = await runIg(['run', 'trace_open', '--remote-address', live.address, '-o', 'json', '-t', '1'], { env: store.env });
    expect(still.code, still.stderr).toBe(0);

    // a socket nobody listens on any more (its daemon died): taken over
    const stale = `${work}/stale.sock`;
    // a process that listened there and died without cleaning up
    execFileSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.exit(0))`]);
    expect(lstatSync(stale).isSocket()).toBe(true);
    const d = await daemon(['-H', `unix://${stale}`]);
    const r = await runIg(['run', 'trace_open', '--remote-address', d.address, '-o', 'json', '-t', '1'], { env: store.env });
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  it('limits the sessions and programs of each client (told apart by their uid on a unix socket, their certificate over TLS)', async () => {
    const d = await daemon(['-H', `unix://${work}/limits.sock`, '-G', String(NOBODY.gid), '--max-sessions-per-client', '1']);
    const first = spawnIg(['run', 'trace_open', '--remote-address', d.address, '-o', 'json'], { env: store.env });
    const firstDone = collect(first, 60_000);
    try {
      await waitFor(() => heldBpfIds(d.proc.pid!).progs.length >= 2, 15_000, 'the first run to load');
      const second = await runIg(['run', 'trace_open', '--remote-address', d.address, '-t', '1'], { env: store.env });
      expect(second.code).not.toBe(0);
      expect(second.stderr).toMatch(/^error: uid 0 already has 1 session on this daemon \(its limit is 1\)/m);
      // another user is another client
      const other = await collect(spawnIg(['run', 'trace_open', '--remote-address', d.address, '-o', 'json', '-t', '1'], { ...NOBODY, env: store.env }), 30_000);
      expect(other.code, other.stderr).toBe(0);
    } finally {
      first.kill('SIGINT');
      await firstDone;
    }
    // once the first run ended, its session is free again
    const again = await runIg(['run', 'trace_open', '--remote-address', d.address, '-o', 'json', '-t', '1'], { env: store.env });
    expect(again.code, again.stderr).toBe(0);

    // over TLS, clients are their certificates
    const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=ig-test-ca', '-days', '1']);
    writeFileSync(path.join(work, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    for (const who of ['server', 'alice', 'bob']) {
      ssl(['req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? '127.0.0.1' : who}`]);
      ssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '1', ...(who === 'server' ? ['-extfile', 'san.ext'] : [])]);
    }
    const f = (n: string) => path.join(work, n);
    const t = await daemon(['-H', 'tcp://127.0.0.1:0', '--tls-cert-file', f('server.crt'), '--tls-key-file', f('server.key'), '--tls-client-ca-file', f('ca.crt'), '--max-sessions-per-client', '1']);
    const as = (who: string) => ['--remote-address', t.address, '--tls-ca-file', f('ca.crt'), '--tls-cert-file', f(`${who}.crt`), '--tls-key-file', f(`${who}.key`)];
    const alice = spawnIg(['run', 'trace_open', '-o', 'json', ...as('alice')], { env: store.env });
    const aliceDone = collect(alice, 60_000);
    try {
      await waitFor(() => heldBpfIds(t.proc.pid!).progs.length >= 2, 15_000, 'alice\'s run to load');
      const again = await runIg(['run', 'trace_open', '-t', '1', ...as('alice')], { env: store.env });
      expect(again.stderr).toMatch(/^error: client certificate CN=alice already has 1 session on this daemon \(its limit is 1\)/m);
      const bob = await runIg(['run', 'trace_open', '-o', 'json', '-t', '1', ...as('bob')], { env: store.env });
      expect(bob.code, bob.stderr).toBe(0);
    } finally {
      alice.kill('SIGINT');
      await aliceDone;
    }

    const p = await daemon(['-H', `unix://${work}/programs.sock`, '--max-programs-per-client', '1']);
    const c = rawClient(p.address);
    const over = await readStream(c.RunGadget(runRequest('trace_open')) as never);
    expect(over.done?.error).toMatch(/^this gadget loads \d+ eBPF programs; uid 0 already holds 0 on this daemon \(its limit is 1\)/);
    expect(heldBpfIds(p.proc.pid!).progs).toEqual([]);
    c.close();
  }, 120_000);
});
