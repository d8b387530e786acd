// What `ig run` admits under --public-key and --allowed-gadgets: the checks and the load happen on
// one resolved digest, allow-lists compare normalized references and digests, and key lists with
// keys of other kinds still verify.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, repoRoot, runIg } from '../helpers/ig.js';
import { defaultStorePath } from '../../src/oci/store.js';
import { loadPublicKey } from '../../src/oci/signing.js';
import { openAdmittedImage } from '../../src/oci/verified.js';
import { getGadgetImage } from '../../src/oci/image.js';

let tmp: string;
let store: string;
let S: string[];
let ecPub: string;
let edPub: string;
let openDigest: string;
let execDigest: string;

function pemPair(dir: string, name: string, kind: 'ec' | 'ed25519'): { priv: string; pub: string } {
  const { privateKey, publicKey } = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const priv = path.join(dir, `${name}.key`);
  const pub = path.join(dir, `${name}.pub`);
  writeFileSync(priv, (privateKey as KeyObject).export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pub, (publicKey as KeyObject).export({ type: 'spki', format: 'pem' }));
  return { priv, pub };
}

const digestOf = async (ref: string) => JSON.parse((await runIg(['image', 'inspect', ref, '-o', 'json', ...S])).stdout).digest as string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-admission-'));
  store = path.join(tmp, 'store');
  S = ['--oci-store', store];
  // trace_open and trace_exec, built by scripts/setup.sh --test into the default store
  const tar = path.join(tmp, 'two.tar');
  const e = await runIg(['image', 'export', 'trace_open', 'trace_exec', tar, '--oci-store', defaultStorePath()]);
  expect(e.code, e.stderr).toBe(0);
  expect((await runIg(['image', 'import', tar, ...S])).code).toBe(0);
  const ec = pemPair(tmp, 'ec', 'ec');
  ecPub = ec.pub;
  edPub = pemPair(tmp, 'ed', 'ed25519').pub;
  const s = await runIg(['image', 'sign', 'trace_open', '--key', ec.priv, ...S]);
  expect(s.code, s.stderr).toBe(0);
  openDigest = await digestOf('trace_open');
  execDigest = await digestOf('trace_exec');
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (args: string[]) => runIg(['run', ...args, '--pull', 'never', '-o', 'json', '-t', '1', ...S], { timeoutMs: 30_000 });

describe('--public-key: verify what you load', () => {
  it('with tags retagged concurrently, only the signed content is ever admitted', async () => {
    // Another process flips race:latest between the signed trace_open and the unsigned trace_exec.
    const script = `
      import { Store } from ${JSON.stringify(path.join(repoRoot, 'dist', 'oci', 'store.js'))};
      const s = await Store.open(${JSON.stringify(store)});
      const signed = await s.resolveTag('ghcr.io/inspektor-gadget/gadget/trace_open:latest');
      const unsigned = await s.resolveTag('ghcr.io/inspektor-gadget/gadget/trace_exec:latest');
      for (let i = 0; ; i++) await s.setTag('ghcr.io/inspektor-gadget/gadget/race:latest', i % 2 ? unsigned : signed);
    `;
    const signedEbpf = (await getGadgetImage('trace_open', 'never', { store })).ebpf;
    expect((await runIg(['image', 'tag', 'trace_open', 'race', ...S])).code).toBe(0);
    expect((await runIg(['image', 'sign', 'race', '--key', path.join(tmp, 'ec.key'), ...S])).code).toBe(0); // signatures are per repository
    const retagger = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    const keys = [loadPublicKey(ecPub)];
    let admitted = 0;
    let refused = 0;
    try {
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 150; i++) {
        try {
          const { image, verified } = await openAdmittedImage('race', 'never', { keys }, { store });
          admitted++;
          expect(image.indexDigest).toBe(openDigest);
          expect(verified?.digest).toBe(openDigest);
          expect(image.ebpf.equals(signedEbpf)).toBe(true);
        } catch (e) {
          refused++;
          expect((e as Error).message).toMatch(new RegExp(`race:latest \\(${execDigest}\\) is not signed`));
        }
      }
    } finally {
      retagger.kill('SIGKILL');
    }
    expect(admitted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('an Ed25519 key in the list does not stop another key from verifying', async () => {
    const v = await runIg(['image', 'verify', 'trace_open', '--public-key', edPub, '--public-key', ecPub, '--offline', ...S]);
    expect(v.code, v.stderr).toBe(0);
    const r = await run(['trace_open', '--public-key', edPub, '--public-key', ecPub]);
    expect(r.code, r.stderr).toBe(0);
    const only = await run(['trace_open', '--public-key', edPub]);
    expect(only.code).toBe(1);
    expect(only.stderr).toMatch(/^error: no signature of .*trace_open:latest .* verifies with the given public key\nhint: found a signature by an untrusted key/m);
  });

  it('name@sha256:… with --public-key is found in the local store and verified', async () => {
    const r = await run([`trace_open@${openDigest}`, '--public-key', ecPub]);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).length).toBeGreaterThan(0);
  });
});

describe('--allowed-gadgets compares normalized references and digests', () => {
  it('a prefix does not lend its name to another gadget\'s digest', async () => {
    const allow = ['--allowed-gadgets', 'ghcr.io/inspektor-gadget/gadget/trace_open*'];
    const r = await run([`trace_open@${execDigest}`, ...allow]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(`error: image ghcr.io/inspektor-gadget/gadget/trace_open@${execDigest} not found in the local store`);
    const ok = await run([`trace_open@${openDigest}`, ...allow]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('short-name prefixes match the normalized name', async () => {
    expect((await run(['trace_open', '--allowed-gadgets', 'trace_*'])).code).toBe(0);
    const denied = await run(['trace_open', '--allowed-gadgets', 'top_*,snapshot_*']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error: image ghcr\.io\/inspektor-gadget\/gadget\/trace_open:latest \(sha256:[0-9a-f]{64}\) is not in --allowed-gadgets/m);
  });

  it('exact entries: name@digest and a short name:tag', async () => {
    expect((await run(['trace_open', '--allowed-gadgets', `ghcr.io/inspektor-gadget/gadget/trace_open@${openDigest}`])).code).toBe(0);
    expect((await run(['trace_open', '--allowed-gadgets', 'trace_open:latest'])).code).toBe(0);
    expect((await run(['trace_open', '--allowed-gadgets', `trace_open@${execDigest}`])).code).toBe(1);
  });

  it('a list that names nothing is an error, not "allow all"', async () => {
    for (const list of [',', ' , ', '']) {
      const r = await run(['trace_open', '--allowed-gadgets', list]);
      expect(r.code, list).toBe(2);
      expect(r.stderr).toMatch(/^error: --allowed-gadgets names no image/m);
    }
  });
});

