import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runIg, jsonLines } from '../helpers/ig.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildGadget } from '../helpers/gadgets.js';

let reg: TestRegistry;
let tmp: string;
let key: string;
let pub: string;
let otherPub: string;
const store = (name: string) => ['--oci-store', path.join(tmp, name)];

function keyPair(dir: string, name: string): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const priv = path.join(dir, `${name}.key`);
  const pubFile = path.join(dir, `${name}.pub`);
  writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv, pub: pubFile };
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-sign-'));
  ({ priv: key, pub } = keyPair(tmp, 'signer'));
  otherPub = keyPair(tmp, 'other').pub;
  reg = await startRegistry();
  await buildGadget('gadgets/trace_open', 'trace_open', { ...process.env, IG_OCI_STORE: path.join(tmp, 'a') });
}, 180_000);
afterAll(async () => {
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('image signatures (cosign format)', () => {
  it('an unsigned image fails verification clearly; a signed one verifies with its key and not with another', async () => {
    const unsigned = await runIg(['image', 'verify', 'trace_open', '--public-key', pub, '--offline', ...store('a')]);
    expect(unsigned.code).not.toBe(0);
    expect(unsigned.stderr).toMatch(/^error: image ghcr.io\/inspektor-gadget\/gadget\/trace_open:latest \(sha256:[0-9a-f]{64}\) is not signed/m);

    const s = await runIg(['image', 'sign', 'trace_open', '--key', key, ...store('a')]);
    expect(s.code, s.stderr).toBe(0);
    const ok = await runIg(['image', 'verify', 'trace_open', '--public-key', pub, '--offline', ...store('a')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Verified .*trace_open:latest@sha256:[0-9a-f]{64}: signed by key [0-9a-f]{12}/);
    const wrong = await runIg(['image', 'verify', 'trace_open', '--public-key', otherPub, '--offline', ...store('a')]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/no signature .* verifies/);
    expect(wrong.stderr).toMatch(/untrusted key/);
    // the signature is bookkeeping, not an image of its own
    const list = await runIg(['image', 'list', '-o', 'json', ...store('a')]);
    expect(list.stdout).not.toMatch(/\.sig/);
  });

  it('travels with push and pull, and verifies from the local store with the registry gone', async () => {
    const ref = `${reg.host}/gadgets/trace_open:signed`;
    const ins = ['--insecure-registries', reg.host];
    expect((await runIg(['image', 'tag', 'trace_open', ref, ...store('a')])).code).toBe(0);
    expect((await runIg(['image', 'sign', ref, '--key', key, ...store('a')])).code).toBe(0);
    const p = await runIg(['image', 'push', ref, ...ins, ...store('a')]);
    expect(p.code, p.stderr).toBe(0);
    const digest = p.stdout.match(/@(sha256:[0-9a-f]{64})/)![1];

    // an independent client sees cosign's layout: tag sha256-<hex>.sig with a simple-signing layer
    const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref.replace(':signed', '')}:${digest.replace(':', '-')}.sig`]).toString();
    const sigManifest = JSON.parse(raw);
    expect(sigManifest.layers[0].mediaType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    expect(sigManifest.layers[0].annotations['dev.cosignproject.cosign/signature']).toMatch(/^[A-Za-z0-9+/=]+$/);

    const pull = await runIg(['image', 'pull', ref, ...ins, ...store('b')]);
    expect(pull.code, pull.stderr).toBe(0);
    await reg.stop(); // from now on nothing can come from the network
    const v = await runIg(['image', 'verify', ref, '--public-key', pub, ...ins, ...store('b')]);
    expect(v.code, v.stderr).toBe(0);
    const run = await runIg(['run', ref, '--public-key', pub, '--pull', 'never', '-o', 'json', '-t', '1', ...store('b')]);
    expect(run.code, run.stderr).toBe(0);
    expect(jsonLines(run.stdout).length).toBeGreaterThan(0);
    reg = await startRegistry();
  });

  it('ig run refuses an image signed by no trusted key, and one outside --allowed-gadgets, before loading it', async () => {
    const r = await runIg(['run', 'trace_open', '--public-key', otherPub, '--pull', 'never', '-t', '1', ...store('a')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: no signature of .*trace_open:latest/m);
    const denied = await runIg(['run', 'trace_open', '--allowed-gadgets', 'ghcr.io/someone-else/*', '--pull', 'never', '-t', '1', ...store('a')]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/is not in --allowed-gadgets/);
    const allowed = await runIg(['run', 'trace_open', '--allowed-gadgets', 'ghcr.io/inspektor-gadget/gadget/*', '--pull', 'never', '-o', 'json', '-t', '1', ...store('a')]);
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it('export/import keeps the signature, so an air-gapped machine can verify', async () => {
    const tar = path.join(tmp, 'signed.tar');
    const e = await runIg(['image', 'export', 'trace_open', tar, ...store('a')]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/exported 1 image /);
    expect((await runIg(['image', 'import', tar, ...store('c')])).code).toBe(0);
    const v = await runIg(['image', 'verify', 'trace_open', '--public-key', pub, '--offline', ...store('c')]);
    expect(v.code, v.stderr).toBe(0);
    const list = await runIg(['image', 'list', ...store('c')]);
    expect(list.stdout).not.toMatch(/\.sig/);
  });
});
