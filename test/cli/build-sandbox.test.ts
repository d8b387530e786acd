// `ig image build` of a hostile gadget directory: the attacks of issue 11 (a response file smuggling
// -fplugin and -MD -MF past the cflags ban, symlinks copying host files into the image, metadata paths
// writing outside the directory), each refused with nothing written outside the directory and nothing
// tagged; and the sandbox on its own, which keeps a compiler given such flags from writing or reading
// the host anyway.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runIg, repoRoot } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { runSandboxed, ToolFailure } from '../../src/oci/build-sandbox.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-hostile-'));
/** Outside every gadget directory: where an attack would write or what it would read. */
const outside = path.join(work, 'outside');
const secret = path.join(outside, 'secret.txt');
const TRACER = readFileSync(path.join(repoRoot, 'test/gadgets/marker_tracer/program.bpf.c'), 'utf8');

beforeAll(() => {
  mkdirSync(outside);
  writeFileSync(secret, 'host secret\n');
});
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

function gadgetDir(name: string, files: Record<string, string>): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, c] of Object.entries(files)) writeFileSync(path.join(dir, f), c);
  return dir;
}

/** Build, expect a refusal matching `why`, and check that nothing outside changed and nothing was tagged. */
async function refused(dir: string, why: RegExp, extra: string[] = []) {
  const before = readdirSync(outside).sort();
  const r = await runIg(['image', 'build', dir, '-t', 'hostile', ...extra], { env, timeoutMs: 120_000 });
  expect(r.code, r.stdout).not.toBe(0);
  expect(r.stderr).toMatch(why);
  expect(r.stdout).not.toMatch(/Successfully built/);
  expect(readdirSync(outside).sort()).toEqual(before);
  expect(readFileSync(secret, 'utf8')).toBe('host secret\n');
  const list = await runIg(['image', 'list'], { env });
  expect(list.stdout).not.toMatch(/hostile/);
  return r;
}

describe('flags smuggled into clang', () => {
  it('ebpfsource: "@args.rsp" with -fplugin=./evil.so is refused (the same file makes plain clang run the plugin)', async () => {
    const dir = gadgetDir('plugin', { 'program.bpf.c': TRACER, 'build.yaml': 'ebpfsource: "@args.rsp"\n' });
    const marker = path.join(outside, 'plugin-ran');
    writeFileSync(path.join(dir, 'evil.c'), `#include <stdio.h>\n__attribute__((constructor)) static void pwn(void) { FILE *f = fopen("${marker}", "w"); if (f) fclose(f); }\n`);
    execFileSync('clang-19', ['-shared', '-fPIC', '-o', path.join(dir, 'evil.so'), path.join(dir, 'evil.c')]);
    writeFileSync(path.join(dir, 'args.rsp'), '-fplugin=./evil.so program.bpf.c\n');

    // the attack is real: clang reading the response file loads the plugin, which runs its code
    spawnSync('clang-19', ['-target', 'bpf', '-fsyntax-only', '@args.rsp'], { cwd: dir, stdio: 'ignore' });
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);

    await refused(dir, /"ebpfsource: @args\.rsp" is a response file \(@file\), which clang would read as more flags/);
    expect(existsSync(marker)).toBe(false);
  });

  it('a response file carrying -MD -MF <outside> is refused, and so is the flag spelled directly', async () => {
    const dep = path.join(outside, 'deps.d');
    const dir = gadgetDir('depfile', { 'program.bpf.c': TRACER, 'args.rsp': `-MD -MF ${dep} program.bpf.c\n`, 'build.yaml': 'ebpfsource: "@args.rsp"\n' });
    await refused(dir, /is a response file/);
    writeFileSync(path.join(dir, 'build.yaml'), `ebpfsource: "-MF${dep}"\n`);
    await refused(dir, /looks like a compiler flag, not a file/);
    expect(existsSync(dep)).toBe(false);
  });
});

describe('files leaving the gadget directory', () => {
  it('a gadget.yaml symlinked to a host file is refused (it would be copied into the image)', async () => {
    const dir = gadgetDir('yaml-link', { 'program.bpf.c': TRACER });
    symlinkSync(secret, path.join(dir, 'gadget.yaml'));
    await refused(dir, /gadget\.yaml is a symlink leading outside the gadget directory \(to .*secret\.txt\)/);
  });

  it('a build.yaml symlinked to a host file is refused before it is parsed', async () => {
    const dir = gadgetDir('build-yaml-link', { 'program.bpf.c': TRACER });
    symlinkSync(secret, path.join(dir, 'build.yaml'));
    const r = await refused(dir, /build\.yaml is a symlink leading outside the gadget directory/);
    expect(r.stderr).not.toMatch(/host secret/);
  });

  it('a .wasm symlinked out is refused', async () => {
    const dir = gadgetDir('wasm-link', { 'program.bpf.c': TRACER, 'build.yaml': 'wasm: filter.wasm\n' });
    symlinkSync(secret, path.join(dir, 'filter.wasm'));
    await refused(dir, /filter\.wasm is a symlink leading outside the gadget directory/);
  });

  it('a source symlinked out, or one reaching out through a symlinked directory, is refused', async () => {
    writeFileSync(path.join(outside, 'program.bpf.c'), TRACER);
    const dir = gadgetDir('src-link', {});
    symlinkSync(path.join(outside, 'program.bpf.c'), path.join(dir, 'program.bpf.c'));
    await refused(dir, /program\.bpf\.c is a symlink leading outside the gadget directory/);
    const dir2 = gadgetDir('src-dir-link', { 'build.yaml': 'ebpfsource: src/program.bpf.c\n' });
    symlinkSync(outside, path.join(dir2, 'src'));
    await refused(dir2, /src\/program\.bpf\.c is a symlink leading outside the gadget directory/);
    rmSync(path.join(outside, 'program.bpf.c'));
  });

  it('metadata: ../x is refused, also with --update-metadata, and ../x is never written', async () => {
    const dir = gadgetDir('meta-escape', { 'program.bpf.c': TRACER, 'build.yaml': 'metadata: ../outside/x.yaml\n' });
    await refused(dir, /"metadata: \.\.\/outside\/x\.yaml" points outside the gadget directory/);
    await refused(dir, /points outside the gadget directory/, ['--update-metadata']);
    expect(existsSync(path.join(outside, 'x.yaml'))).toBe(false);
  });

  it('--update-metadata into a directory symlinked out is refused before anything is written', async () => {
    const dir = gadgetDir('meta-dir-link', { 'program.bpf.c': TRACER, 'build.yaml': 'metadata: conf/gadget.yaml\n' });
    symlinkSync(outside, path.join(dir, 'conf'));
    await refused(dir, /conf\/gadget\.yaml is under a symlink leading outside the gadget directory/, ['--update-metadata']);
    expect(existsSync(path.join(outside, 'gadget.yaml'))).toBe(false);
  });

  it('a source that #embeds or #includes a host file cannot read it: the compiler sees only the toolchain and the gadget', async () => {
    const src = `#include <vmlinux.h>\nstatic const char leak[] = {\n#embed "${secret}"\n};\n${TRACER.replace('#include <vmlinux.h>', '')}`;
    const dir = gadgetDir('embed', { 'program.bpf.c': src });
    await refused(dir, new RegExp(`'${secret.replace(/[/.]/g, '\\$&')}' file not found`));
  });
});

describe('the build sandbox on its own', () => {
  it('clang given -MD -MF <outside> cannot write there; its output directory it can', async () => {
    const dir = gadgetDir('sandbox-direct', { 'program.c': 'int x;\n' });
    const out = mkdtempSync(path.join(work, 'out-'));
    const dep = path.join(outside, 'sandbox.d');
    const run = (depfile: string) => runSandboxed({
      argv: ['clang-19', '-target', 'bpf', '-MD', '-MF', depfile, '-c', 'program.c', '-o', path.join(out, 'p.o')],
      cwd: dir, readOnly: [dir], writable: out,
    });
    const err = await run(dep).catch((e) => e);
    expect(err).toBeInstanceOf(ToolFailure);
    expect((err as ToolFailure).stderr).toMatch(/sandbox\.d.*(Read-only file system|No such file or directory)/);
    expect(existsSync(dep)).toBe(false);
    await run(path.join(out, 'p.d'));
    expect(readFileSync(path.join(out, 'p.d'), 'utf8')).toMatch(/p\.o: program\.c/);
  });
});
