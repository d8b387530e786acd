import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runIg, repoRoot, igBin, collect } from '../helpers/ig.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const fixture = existsSync(path.join(repoRoot, 'gadgets', 'trace_open', 'program.bpf.c'))
  ? path.join(repoRoot, 'gadgets', 'trace_open')
  : path.join(repoRoot, 'test', 'registry', 'fixtures', 'minimal');

let reg: TestRegistry;
let tmp: string;
const USER = 'alice';
const PASS = 's3cret-pass';

function igWithStdin(args: string[], input: string, env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [igBin, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  child.stdin!.end(input);
  return collect(child);
}

beforeAll(async () => {
  reg = await startRegistry({ auth: { user: USER, password: PASS } });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-oci-auth-'));
  const r = await runIg(['build', fixture, '-t', `${reg.host}/private/gadget:v1`, '--oci-store', path.join(tmp, 'store')]);
  expect(r.code).toBe(0);
}, 180_000);

afterAll(async () => {
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('authenticated registry (htpasswd)', () => {
  const ref = () => `${reg.host}/private/gadget:v1`;
  const common = () => ['--insecure-registries', reg.host, '--oci-store', path.join(tmp, 'store')];

  it('refuses anonymous pushes with a hint to log in', async () => {
    const r = await runIg(['image', 'push', ref(), ...common(), '--authfile', path.join(tmp, 'none.json')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/requires authentication/);
    expect(r.stderr).toContain(`ig login ${reg.host}`);
  });

  it('rejects a wrong password at login and stores nothing', async () => {
    const auth = path.join(tmp, 'wrong.json');
    const r = await igWithStdin(['login', reg.host, '-u', USER, '--password-stdin', '--authfile', auth, '--insecure-registries', reg.host], 'nope\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: registry .* refused the credentials of user "alice"/);
    expect(existsSync(auth)).toBe(false);
  });

  it('logs in with --password-stdin, pushes and pulls, then logs out', async () => {
    const auth = path.join(tmp, 'auth.json');
    const li = await igWithStdin(['login', reg.host, '-u', USER, '--password-stdin', '--authfile', auth, '--insecure-registries', reg.host], `${PASS}\n`);
    expect(li.stderr).toBe('');
    expect(li.code).toBe(0);
    const cfg = JSON.parse(readFileSync(auth, 'utf8'));
    expect(Buffer.from(cfg.auths[reg.host].auth, 'base64').toString()).toBe(`${USER}:${PASS}`);
    const p = await runIg(['image', 'push', ref(), ...common(), '--authfile', auth]);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const pl = await runIg(['image', 'pull', ref(), '--insecure-registries', reg.host, '--oci-store', path.join(tmp, 'store2'), '--authfile', auth]);
    expect(pl.code).toBe(0);
    const lo = await runIg(['logout', reg.host, '--authfile', auth]);
    expect(lo.code).toBe(0);
    expect(JSON.parse(readFileSync(auth, 'utf8')).auths[reg.host]).toBeUndefined();
    const lo2 = await runIg(['logout', reg.host, '--authfile', auth]);
    expect(lo2.code).not.toBe(0);
    expect(lo2.stderr).toMatch(/not logged in/);
  });

  it('reads a hand-written config.json through REGISTRY_AUTH_FILE, and -p', async () => {
    const auth = path.join(tmp, 'docker-config.json');
    writeFileSync(auth, JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${USER}:${PASS}`).toString('base64') } } }));
    const pl = await runIg(['image', 'pull', ref(), '--insecure-registries', reg.host, '--oci-store', path.join(tmp, 'store3')], {
      env: { ...process.env, REGISTRY_AUTH_FILE: auth },
    });
    expect(pl.stderr).toBe('');
    expect(pl.code).toBe(0);
    const bad = path.join(tmp, 'bad-config.json');
    writeFileSync(bad, JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${USER}:wrong`).toString('base64') } } }));
    const r = await runIg(['image', 'pull', ref(), '--insecure-registries', reg.host, '--oci-store', path.join(tmp, 'store4'), '--authfile', bad]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/refused the credentials of user "alice"/);
    const li = await runIg(['login', reg.host, '-u', USER, '-p', PASS, '--authfile', path.join(tmp, 'p.json'), '--insecure-registries', reg.host]);
    expect(li.code).toBe(0);
  });
});
