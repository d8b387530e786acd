/**
 * Keys made by `cosign generate-key-pair` sign and verify; a short local name is pushed to a
 * registry reference directly; a run says when the gadget was built by another ig.
 * cosign is in neither Debian 12 nor npm: the key pair is made the way cosign makes it
 * (test/helpers/cosign.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cosignKeyPair } from '../helpers/cosign.js';
import { runIg, withoutLoss } from '../helpers/ig.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildGadget, writeImageTar } from '../helpers/gadgets.js';

let reg: TestRegistry;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-ux-cosign-'));
const env = { ...process.env, IG_OCI_STORE: path.join(tmp, 'store') };
const keyFile = path.join(tmp, 'cosign.key');
const pubFile = path.join(tmp, 'cosign.pub');
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  const kp = cosignKeyPair(PASSWORD);
  writeFileSync(keyFile, kp.key);
  writeFileSync(pubFile, kp.pub);
  reg = await startRegistry();
  await buildGadget('gadgets/trace_open', 'trace_open', env);
}, 180_000);
afterAll(async () => {
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const digestOf = async () => JSON.parse((await runIg(['image', 'inspect', 'trace_open', '-o', 'json'], { env })).stdout).digest as string;

describe('cosign keys', () => {
  it('a cosign-generated encrypted key signs (COSIGN_PASSWORD), and cosign.pub verifies', async () => {
    const digest = await digestOf();
    const s = await runIg(['image', 'sign', 'trace_open', '--key', keyFile], { env: { ...env, COSIGN_PASSWORD: PASSWORD } });
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(new RegExp(`^Signed ghcr\\.io/inspektor-gadget/gadget/trace_open:latest@${digest} with key [0-9a-f]{12} \\(signature ghcr\\.io/inspektor-gadget/gadget/trace_open:${digest.replace(':', '-')}\\.sig\\)\\n$`));
    const keyId = s.stdout.match(/with key ([0-9a-f]{12})/)![1];
    const v = await runIg(['image', 'verify', 'trace_open', '--public-key', pubFile, '--offline'], { env });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(`Verified ghcr.io/inspektor-gadget/gadget/trace_open:latest@${digest}: signed by key ${keyId}\n`);
    // inspect lists the signature and what it signs
    const sig = await runIg(['image', 'inspect', 'trace_open', '--jsonpath', '.signatures[0].signs'], { env });
    expect(sig.stdout).toBe(`${digest}\n`);
    // and a run that requires it is admitted
    const run = await runIg(['run', 'trace_open', '--public-key', pubFile, '--verify-image', '-t', '0.5', '-o', 'none'], { env });
    expect(run.code, run.stderr).toBe(0);
  });

  it('says what is wrong: no COSIGN_PASSWORD, a wrong one (exit 2, nothing signed)', async () => {
    const { COSIGN_PASSWORD: _, ...noPw } = env as Record<string, string>;
    const none = await runIg(['image', 'sign', 'trace_open', '--key', keyFile], { env: noPw });
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe(`error: ${keyFile} is a cosign key encrypted with a password, and COSIGN_PASSWORD is not set\nhint: export COSIGN_PASSWORD=… (the password given to cosign generate-key-pair; empty if none was)\n`);
    const wrong = await runIg(['image', 'sign', 'trace_open', '--key', keyFile], { env: { ...env, COSIGN_PASSWORD: 'wrong' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(`error: cannot decrypt ${keyFile}: wrong password\nhint: set COSIGN_PASSWORD to the password the key was made with (cosign generate-key-pair asks for it)\n`);
  });
});

describe('ig image push of a short local name', () => {
  it('localhost:PORT/trace_open pushes the local trace_open there, as skopeo copy would (no image tag first)', async () => {
    const dest = `${reg.host}/trace_open`;
    const digest = await digestOf();
    const p = await runIg(['image', 'push', dest, '--insecure-registries', reg.host], { env });
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(`Successfully pushed ${dest}:latest@${digest} (the local trace_open:latest)\n`);
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${dest}:latest`]).toString());
    expect(raw.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    // nothing was tagged locally
    const list = await runIg(['image', 'list', '-o', 'json'], { env });
    expect(JSON.parse(list.stdout).map((x: { repository: string }) => x.repository)).toEqual(['trace_open']);
    const none = await runIg(['image', 'push', `${reg.host}/no_such_gadget`, '--insecure-registries', reg.host], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`error: image ${reg.host}/no_such_gadget:latest not found in the local store\nhint: build it with \`ig image build\`, or push a local image there with \`ig image push SRC ${reg.host}/no_such_gadget\`\n`);
  });
});

describe('which ig built a gadget', () => {
  it('a run warns when the image does not say (IG\'s check); images built here say this ig and run quietly', async () => {
    const quiet = await runIg(['run', 'trace_open', '-t', '0.5', '-o', 'none'], { env });
    expect(quiet.code).toBe(0);
    expect(withoutLoss(quiet.stderr)).toBe('');
    const info = JSON.parse((await runIg(['image', 'inspect', 'trace_open', '-o', 'json'], { env })).stdout);
    expect(info.builtBy).toEqual({ ig: expect.stringMatching(/^\d+\.\d+\.\d+/), thisIg: `v${info.builtBy.ig.replace(/^v/, '')}` });
    // the same object in an image without the builder annotation
    const layer = info.layers[0];
    const elf = execFileSync('cat', [path.join(env.IG_OCI_STORE, 'blobs', 'sha256', layer.digest.slice(7))]);
    const tar = path.join(tmp, 'anon.tar');
    await writeImageTar(tar, 'ghcr.io/inspektor-gadget/gadget/anon:latest', elf, 'name: anon\n');
    expect((await runIg(['image', 'import', tar], { env })).code).toBe(0);
    const warned = await runIg(['run', 'anon', '-t', '0.5', '-o', 'none'], { env });
    expect(warned.code).toBe(0);
    expect(withoutLoss(warned.stderr)).toBe('warning: the gadget image does not say which ig built it; it could be incompatible\n');
  });
});
