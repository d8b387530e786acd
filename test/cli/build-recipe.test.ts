// `ig image build` as IG defines it (build.yaml keys ebpfsource, metadata, wasm; no cflags), plus the ways
// to package what was built elsewhere: a prebuilt .wasm, a wasm module compiled from C here, a prebuilt
// eBPF object, and an operator-only gadget (gadget.yaml alone). Layers are checked with skopeo, an
// independent OCI client, copying the image out of the store.
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { jsonLines, runIg, repoRoot } from '../helpers/ig.js';
import { tempStore } from '../helpers/gadgets.js';
import { compileBpf } from '../helpers/bpf-compile.js';
import { runWith } from '../helpers/run-with.js';
import { getcwdTrigger } from '../helpers/getcwd.js';

const store = tempStore();
const env = store.env;
const work = mkdtempSync(path.join(tmpdir(), 'ig-recipe-'));
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MT_EBPF = 'application/vnd.gadget.ebpf.program.v1+binary';
const MT_WASM = 'application/vnd.gadget.wasm.program.v1+binary';

/** A gadget directory with the given files (name → text or bytes). */
function gadgetDir(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, c] of Object.entries(files)) writeFileSync(path.join(dir, f), c);
  return dir;
}

async function build(dir: string, tag: string, extra: string[] = []) {
  return runIg(['image', 'build', dir, '-t', tag, ...extra], { env, timeoutMs: 120_000 });
}

/** skopeo copies the amd64 image out of ig's store into a dir: layout; returns its manifest and a blob reader. */
function skopeoCopy(tag: string): { manifest: any; blob: (digest: string) => Buffer } {
  const out = mkdtempSync(path.join(work, 'skopeo-'));
  rmSync(out, { recursive: true });
  execFileSync('skopeo', ['copy', '--override-arch', 'amd64', '--override-os', 'linux',
    `oci:${store.dir}:ghcr.io/inspektor-gadget/gadget/${tag}:latest`, `dir:${out}`], { stdio: 'pipe' });
  return {
    manifest: JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')),
    blob: (digest: string) => readFileSync(path.join(out, digest.replace(/^sha256:/, ''))),
  };
}

const TRACER = readFileSync(path.join(repoRoot, 'test/gadgets/marker_tracer/program.bpf.c'), 'utf8');

describe('build.yaml wasm:', () => {
  it('a prebuilt .wasm is packaged byte for byte as the wasm layer, after the eBPF layer', async () => {
    // the smallest valid module: magic, version 1, a custom section naming it
    const wasm = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 5, 4, 0x74, 0x65, 0x73, 0x74]);
    const dir = gadgetDir('wasm-prebuilt', { 'program.bpf.c': TRACER, 'build.yaml': 'wasm: mod/filter.wasm\n' });
    mkdirSync(path.join(dir, 'mod'));
    writeFileSync(path.join(dir, 'mod/filter.wasm'), wasm);
    const r = await build(dir, 'wasm-prebuilt');
    expect(r.code, r.stderr).toBe(0);
    const img = skopeoCopy('wasm-prebuilt');
    expect(img.manifest.layers.map((l: any) => l.mediaType)).toEqual([MT_EBPF, MT_WASM]);
    expect(img.manifest.layers[1].digest).toBe(sha(wasm));
    expect(img.blob(img.manifest.layers[1].digest)).toEqual(wasm);
  });

  it('a C source is compiled for WASI preview 1 (a reactor module) and runs: its export computes what the C says', async () => {
    const dir = gadgetDir('wasm-c', {
      'program.bpf.c': TRACER,
      'build.yaml': 'wasm: guest.c\n',
      'guest.c': '#include <string.h>\n__attribute__((export_name("weight"))) int weight(int n) { return (int)strlen("gadget") * n + 1; }\n',
    });
    const r = await build(dir, 'wasm-c');
    expect(r.code, r.stderr).toBe(0);
    const img = skopeoCopy('wasm-c');
    const layer = img.manifest.layers.find((l: any) => l.mediaType === MT_WASM);
    const bytes = img.blob(layer.digest);
    const wasi = new WASI({ version: 'preview1' });
    const { instance } = await WebAssembly.instantiate(bytes, { wasi_snapshot_preview1: wasi.wasiImport } as never);
    wasi.initialize(instance);
    expect((instance.exports.weight as (n: number) => number)(7)).toBe(43);
  });

  it('a Go source (IG builds these with Go >= 1.21) is refused saying what is missing and how to package a prebuilt module', async () => {
    const dir = gadgetDir('wasm-go', { 'program.bpf.c': TRACER, 'build.yaml': 'wasm: go/program.go\n' });
    mkdirSync(path.join(dir, 'go'));
    writeFileSync(path.join(dir, 'go/program.go'), 'package main\n');
    const r = await build(dir, 'wasm-go');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/building the wasm module from go\/program\.go needs Go >= 1\.21/);
    expect(r.stderr).toMatch(/point "wasm:" at it/);
  });
});

describe('packaging what was compiled elsewhere', () => {
  it('ebpfsource: an object (.o) is packaged as is, and runs', async () => {
    const { objectPath, bytes } = await compileBpf(TRACER, { name: 'marker' });
    const dir = gadgetDir('prebuilt-object', { 'build.yaml': 'ebpfsource: out/marker.bpf.o\n' });
    mkdirSync(path.join(dir, 'out'));
    copyFileSync(objectPath, path.join(dir, 'out/marker.bpf.o'));
    rmSync(path.dirname(objectPath), { recursive: true, force: true });
    const r = await build(dir, 'prebuilt-object');
    expect(r.code, r.stderr).toBe(0);
    const img = skopeoCopy('prebuilt-object');
    expect(img.manifest.layers).toEqual([expect.objectContaining({ mediaType: MT_EBPF, digest: sha(bytes), size: bytes.length })]);

    const trigger = getcwdTrigger(work, 'igprebpwd');
    const run = await runWith(['run', 'prebuilt-object', '--comm', trigger.comm, '-o', 'json', '-t', '2'], env, () => trigger.run(1));
    expect(run.code, run.stderr).toBe(0);
    expect(jsonLines(run.stdout).map((e) => [e.pid, e.comm])).toEqual([[run.triggered[0], trigger.comm]]);
  });

  it('an object that is not BPF, or has no BTF, is refused with the reason', async () => {
    const x86 = path.join(work, 'x86.o');
    writeFileSync(path.join(work, 'x86.c'), 'int f(void) { return 1; }\n');
    execFileSync('clang-19', ['-c', path.join(work, 'x86.c'), '-o', x86]);
    const dir = gadgetDir('not-bpf', { 'build.yaml': 'ebpfsource: x86.o\n' });
    copyFileSync(x86, path.join(dir, 'x86.o'));
    const r = await build(dir, 'not-bpf');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/x86\.o is not a usable eBPF object: machine 62 is not BPF \(247\)/);

    const noBtf = path.join(work, 'nobtf.o');
    writeFileSync(path.join(work, 'nobtf.c'), 'int f(void *ctx) { return 0; }\n');
    execFileSync('clang-19', ['-target', 'bpf', '-O2', '-c', path.join(work, 'nobtf.c'), '-o', noBtf]);
    const dir2 = gadgetDir('no-btf', { 'build.yaml': 'ebpfsource: nobtf.o\n' });
    copyFileSync(noBtf, path.join(dir2, 'nobtf.o'));
    const r2 = await build(dir2, 'no-btf');
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/it has no \.BTF section/);
  });

  it('a gadget.yaml alone (an operator-only gadget, as IG builds them) gives an image with the config and no layers', async () => {
    const yaml = 'name: top_operator\ndescription: operator-only\n';
    const dir = gadgetDir('operator-only', { 'gadget.yaml': yaml });
    const r = await build(dir, 'operator-only');
    expect(r.code, r.stderr).toBe(0);
    const img = skopeoCopy('operator-only');
    expect(img.manifest.layers).toEqual([]);
    expect(img.manifest.config.mediaType).toBe('application/vnd.gadget.config.v1+yaml');
    expect(img.blob(img.manifest.config.digest).toString()).toBe(yaml);
  });
});

describe('build.yaml keys', () => {
  it('cflags is refused with IG\'s reason for removing it', async () => {
    const dir = gadgetDir('cflags', { 'program.bpf.c': TRACER, 'build.yaml': 'cflags: "-DX=1"\n' });
    const r = await build(dir, 'cflags');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/the "cflags" key is not supported/);
    expect(r.stderr).toMatch(/removed it because it allowed injecting commands into the build/);
  });

  it('ebpfsource and metadata name other files; a given ebpfsource that is missing is an error, as in IG', async () => {
    const dir = gadgetDir('renamed', {
      'tracer.c': TRACER, 'meta.yaml': 'name: renamed\n', 'build.yaml': 'ebpfsource: tracer.c\nmetadata: meta.yaml\n',
    });
    const r = await build(dir, 'renamed');
    expect(r.code, r.stderr).toBe(0);
    const img = skopeoCopy('renamed');
    expect(img.blob(img.manifest.config.digest).toString()).toBe('name: renamed\n');
    expect(img.manifest.layers.map((l: any) => l.mediaType)).toEqual([MT_EBPF]);

    writeFileSync(path.join(dir, 'build.yaml'), 'ebpfsource: gone.c\n');
    const r2 = await build(dir, 'renamed');
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/ebpfsource file .*gone\.c not found/);
  });
});
