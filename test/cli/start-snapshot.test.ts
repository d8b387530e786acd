// `bin/ig` (the `ig` command) starts `ig run` from the V8 start-up snapshot that scripts/bundle.mjs
// builds (dist/cli.snapshot/ig.blob): the same events as `node bin/ig.js`, on the real kernel; a
// snapshot that does not belong to the CLI bundle beside it is not used, and ig says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { collect, jsonLines, repoRoot, runIg } from '../helpers/ig.js';
import { buildGadget, tempStore } from '../helpers/gadgets.js';
import { linkCount } from '../helpers/run-with.js';
import { waitFor } from '../helpers/kernel.js';
import { fileOpener } from '../helpers/opener.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-start-snapshot-'));
const igCommand = path.join(repoRoot, 'bin', 'ig');

beforeAll(async () => {
  if (!existsSync(path.join(repoRoot, 'dist', 'cli.snapshot', 'ig.blob'))) throw new Error('dist/cli.snapshot/ig.blob is missing: run `node scripts/bundle.mjs`');
  await buildGadget('gadgets/trace_open', 'trace_open', env);
  await buildGadget('gadgets/snapshot_process', 'snapshot_process', env);
}, 180_000);
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** What a command prints, run to its end. */
function run(cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return collect(spawn(cmd, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] }), 60_000);
}

/** trace_open's event for `file`, opened every 50 ms by a process of ours, as printed by `cmd args`; and the command line ig ran with. */
async function openEvent(cmd: string, args: string[]) {
  // created before ig starts, so that creating the file is no event of the run
  const opener = fileOpener(50, work);
  try {
    const ig = spawn(cmd, [...args, 'run', 'trace_open', '-o', 'json', '-t', '3'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(ig, 30_000);
    let exited = false;
    ig.on('exit', () => (exited = true));
    await waitFor(() => exited || linkCount(ig.pid!) > 0, 20_000, 'ig to attach trace_open');
    const cmdline = exited ? '' : readFileSync(`/proc/${ig.pid}/cmdline`, 'utf8').split('\0').join(' ');
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const event = jsonLines(r.stdout).find((e) => e.fname === opener.file);
    expect(event, `no open of ${opener.file} in ${cmd} ${args.join(' ')}'s output`).toBeDefined();
    expect(event!.pid).toBe(opener.pid);
    return { event: event!, cmdline, stderr: r.stderr };
  } finally {
    opener.stop();
  }
}

/** An event without the fields that differ from run to run (times, the opener's ids, its file and fd) */
const steady = (e: Record<string, unknown>) => Object.fromEntries(Object.entries(e).filter(([k]) => !/^timestamp|pid$|tid$|^fname$|^fd$/.test(k)));

describe('ig from the start-up snapshot', () => {
  it('runs `ig run trace_open -o json` from the blob and prints the same event, with the same fields, as `node bin/ig.js`', async () => {
    const snap = await openEvent(igCommand, []);
    expect(snap.cmdline).toMatch(/--snapshot-blob \S*dist\/cli\.snapshot\/ig\.blob -- run trace_open/);
    // with the V8 flags the blob was built with (node refuses it under others)
    const flags = readFileSync(path.join(repoRoot, 'dist', 'cli.snapshot', 'ig.blob.flags'), 'utf8').trim();
    expect(snap.cmdline).toContain(`${flags} --snapshot-blob`);
    expect(snap.stderr).not.toMatch(/snapshot/); // (trace_open may warn of events lost on a busy machine)
    const plain = await openEvent(process.execPath, [path.join(repoRoot, 'bin', 'ig.js')]);
    expect(plain.cmdline).not.toMatch(/--snapshot-blob/);
    expect(Object.keys(snap.event)).toEqual(Object.keys(plain.event));
    expect(steady(snap.event)).toEqual(steady(plain.event));
  }, 90_000);

  it('prints the same snapshot_process rows (kthreadd, pid 3) with and without the blob, and IG_SNAPSHOT=0 turns it off', async () => {
    const snap = await run(igCommand, ['run', 'snapshot_process', '-o', 'json']);
    const off = await run(igCommand, ['run', 'snapshot_process', '-o', 'json'], { IG_SNAPSHOT: '0' });
    const plain = await runIg(['run', 'snapshot_process', '-o', 'json'], { env });
    for (const r of [snap, off, plain]) expect(r.code, r.stderr).toBe(0);
    const rows = (out: string) => (JSON.parse(out) as Record<string, unknown>[]).filter((p) => p.pid === 2 || p.pid === 3);
    expect(rows(snap.stdout)).toHaveLength(2);
    expect(rows(snap.stdout)).toEqual(rows(plain.stdout));
    expect(rows(off.stdout)).toEqual(rows(plain.stdout));
  }, 60_000);

  it('starts without the blob when NODE_OPTIONS is set (a V8 flag there made node refuse it and stop), and prints the same rows', async () => {
    const withOptions = await run(igCommand, ['run', 'snapshot_process', '-o', 'json'], { NODE_OPTIONS: '--max-old-space-size=512' });
    expect(withOptions.code, withOptions.stderr).toBe(0);
    expect(withOptions.stderr).not.toMatch(/snapshot/);
    const snap = await run(igCommand, ['run', 'snapshot_process', '-o', 'json']);
    const rows = (out: string) => (JSON.parse(out) as Record<string, unknown>[]).filter((p) => p.pid === 2 || p.pid === 3);
    expect(rows(withOptions.stdout)).toHaveLength(2);
    expect(rows(withOptions.stdout)).toEqual(rows(snap.stdout));
  }, 60_000);

  it('stops at --timeout when its start was held up before it made any timer (the blob keeps no timer state of its build)', async () => {
    // Node arms its one uv timer only for a timer due before the next expiry it remembers. A blob
    // that remembered its build's (a timer due ~1 s after that start) left `ig run -t 1` running for
    // good whenever every timer of the run was due later: a slow start on a busy machine. Here the
    // config file is a pipe written 3 s late, so the run makes its first timer seconds after it started.
    const config = path.join(work, 'held-back.yaml');
    execFileSync('mkfifo', [config]);
    const writer = spawn('sh', ['-c', `trap '' PIPE; sleep 3; while :; do echo '# held back' 2>/dev/null > "$0"; done`, config], { stdio: 'ignore' });
    try {
      const started = Date.now();
      const r = await collect(spawn(igCommand, ['run', 'trace_open', '--config', config, '-o', 'json', '-t', '1'], { env, stdio: ['ignore', 'pipe', 'pipe'] }), 20_000);
      const took = Date.now() - started;
      expect(r.code, `${r.stderr}(ended after ${took} ms)`).toBe(0);
      expect(took).toBeGreaterThan(3000); // it waited for its config file
    } finally {
      writer.kill('SIGKILL');
      rmSync(config, { force: true });
    }
  }, 60_000);

  it('sends other commands and flags node would take for its own (`ig image list`, `ig run --help`) to the CLI as before', async () => {
    const list = await run(igCommand, ['image', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^trace_open +latest /m);
    const help = await run(igCommand, ['run', 'trace_open', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Fields of datasource open \(tracer\)/m);
    const bad = await run(igCommand, ['run', 'trace_open', '--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: unknown flag --no-such-flag$/m);
  }, 60_000);
});

describe('NODE_EXTRA_CA_CERTS (bin/ig applies it at the first TLS connection, not at node start)', () => {
  it('trusts a registry whose certificate is in the extra file, as node bin/ig.js does, and no other', async () => {
    const key = path.join(work, 'registry.key');
    const cert = path.join(work, 'registry.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    // a registry that knows no image: reaching its answer means TLS was accepted
    const registry = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(req.url === '/v2/' ? '{}' : '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
    try {
      const args = ['run', `${host}/nothing:latest`, '-o', 'json'];
      const trusted = await run(igCommand, args, { NODE_EXTRA_CA_CERTS: cert });
      const plain = await run(process.execPath, [path.join(repoRoot, 'bin', 'ig.js'), ...args], { NODE_EXTRA_CA_CERTS: cert });
      const untrusted = await run(igCommand, args, { NODE_EXTRA_CA_CERTS: '' });
      expect(trusted.stderr).toMatch(new RegExp(`^error: image ${host}/nothing:latest not found in registry ${host} \\(MANIFEST_UNKNOWN`, 'm'));
      expect(trusted.stderr).toBe(plain.stderr);
      expect(trusted.code).toBe(plain.code);
      expect(untrusted.code).not.toBe(0);
      expect(untrusted.stderr).toMatch(new RegExp(`^error: cannot talk HTTPS to registry ${host} .*self-signed certificate`, 'm'));
    } finally {
      registry.close();
    }
  }, 60_000);
});

describe('a start-up snapshot that does not belong to the CLI bundle beside it', () => {
  /** A copy of the package (bin/, dist/cli.bundle/, package.json; node_modules and the addon linked) with a snapshot built for it. */
  function packageCopy(): string {
    const pkg = path.join(work, `pkg-${randomBytes(3).toString('hex')}`);
    mkdirSync(path.join(pkg, 'dist'), { recursive: true });
    cpSync(path.join(repoRoot, 'bin'), path.join(pkg, 'bin'), { recursive: true });
    cpSync(path.join(repoRoot, 'dist', 'cli.bundle'), path.join(pkg, 'dist', 'cli.bundle'), { recursive: true });
    cpSync(path.join(repoRoot, 'package.json'), path.join(pkg, 'package.json'));
    for (const d of ['node_modules', 'native']) symlinkSync(path.join(repoRoot, d), path.join(pkg, d));
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build-snapshot.mjs'), '--out', path.join(pkg, 'dist', 'cli.snapshot')], { stdio: 'ignore' });
    return pkg;
  }

  it('is used when it was built with the bundle; after the bundle is rebuilt, ig says it starts without it and prints the same table', async () => {
    const pkg = packageCopy();
    const ig = path.join(pkg, 'bin', 'ig');
    const fresh = await run(ig, ['run', 'snapshot_process', '-o', 'json']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).toBe('');
    writeFileSync(path.join(pkg, 'dist', 'cli.bundle', 'build-id'), `${randomBytes(8).toString('hex')}\n`); // as a new bundle would
    const stale = await run(ig, ['run', 'snapshot_process', '-o', 'json']);
    expect(stale.code, stale.stderr).toBe(0);
    expect(stale.stderr).toMatch(/^ig: the start-up snapshot is older than the CLI bundle \(dist\/cli\.bundle\): starting without it$/m);
    expect(stale.stderr).toMatch(/^hint: rebuild it with `node scripts\/bundle\.mjs`/m);
    const kthreadd = (out: string) => (JSON.parse(out) as Record<string, unknown>[]).find((p) => p.pid === 2);
    expect(kthreadd(stale.stdout)).toBeDefined();
    expect(kthreadd(stale.stdout)).toEqual(kthreadd(fresh.stdout));
  }, 90_000);

  it('is not used from another package folder (a copied or moved tree): ig names where it was built for', async () => {
    const pkg = packageCopy();
    const moved = `${pkg}-moved`;
    execFileSync('mv', [pkg, moved]);
    const r = await run(path.join(moved, 'bin', 'ig'), ['run', 'snapshot_process', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`ig: the start-up snapshot was built for ${pkg}: starting without it`);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBeGreaterThan(1);
  }, 90_000);
});
