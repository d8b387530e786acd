// `ig image build --platform linux/amd64,linux/arm64`: one index, one manifest per architecture, each
// object compiled against its own architecture's vmlinux.h with its __TARGET_ARCH_*. Pushed to a real
// registry (skopeo reads the index), pulled back into an empty store (image inspect lists both), run
// here (this amd64 machine takes the amd64 object: trace_malloc reads malloc's size right), and the
// two objects told apart by what the addon reads out of them: the arm64 one carries arm64's pt_regs
// and reads a uprobe's first argument from user_pt_regs.regs[0], the amd64 one from pt_regs.di.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jsonLines, repoRoot, runIg } from '../helpers/ig.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runWith, runChild } from '../helpers/run-with.js';
import { native as loadAddon } from '../../src/runtime/native.js';
import type { BtfType } from '../../native/index.js';

const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
const gadget = path.join(repoRoot, 'gadgets', 'trace_malloc');
let reg: TestRegistry;
let tmp: string;
let ref: string;
const store = (n: string) => ['--oci-store', path.join(tmp, n)];
const ins = () => ['--insecure-registries', reg.host];

interface Index { mediaType: string; manifests: { digest: string; platform: { architecture: string; os: string } }[] }
interface Manifest { layers: { mediaType: string; digest: string }[] }

/** A blob of an OCI image layout (the store ig pulled into). */
const blob = (n: string, digest: string) => readFileSync(path.join(tmp, n, 'blobs', 'sha256', digest.slice('sha256:'.length)));

beforeAll(async () => {
  reg = await startRegistry();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ig-multiarch-'));
  ref = `${reg.host}/gadgets/trace_malloc:multi`;
  // the first arm64 build may fetch Debian's arm64 kernel package (bpf/gen-vmlinux-arm64.sh; cached after)
  const b = await runIg(['image', 'build', gadget, '--platform', 'linux/amd64,linux/arm64', '-t', ref, ...store('build')], { env, timeoutMs: 600_000 });
  if (b.code !== 0) throw new Error(`multi-arch build failed:\n${b.stdout}\n${b.stderr}`);
  const p = await runIg(['image', 'push', ref, ...ins(), ...store('build')]);
  if (p.code !== 0) throw new Error(`push failed:\n${p.stderr}`);
  const pl = await runIg(['image', 'pull', ref, ...ins(), ...store('pulled')]);
  if (pl.code !== 0) throw new Error(`pull failed:\n${pl.stderr}`);
}, 660_000);
afterAll(async () => {
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('ig image build --platform linux/amd64,linux/arm64', () => {
  it('the registry holds an index with an amd64 and an arm64 manifest, each with its own eBPF layer', () => {
    const raw = (r: string) => execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${r}`], { encoding: 'utf8' });
    const index = JSON.parse(raw(ref)) as Index;
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    const layers = index.manifests.map((m) => (JSON.parse(raw(`${reg.host}/gadgets/trace_malloc@${m.digest}`)) as Manifest).layers);
    const ebpf = layers.map((l) => l.filter((x) => x.mediaType === 'application/vnd.gadget.ebpf.program.v1+binary'));
    expect(ebpf.map((l) => l.length)).toEqual([1, 1]);
    expect(ebpf[0]![0]!.digest).not.toBe(ebpf[1]![0]!.digest);
  });

  it('image inspect of the pulled image lists both platforms', async () => {
    const r = await runIg(['image', 'inspect', ref, '-o', 'json', ...store('pulled')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).platforms).toEqual(['linux/amd64', 'linux/arm64']);
  });

  it('ig run on this amd64 machine runs the amd64 object: a malloc of 123457 bytes shows that size', async () => {
    expect(os.arch()).toBe('x64');
    const src = path.join(tmp, 'malloc.c'), bin = path.join(tmp, 'igmamalloc');
    writeFileSync(src, `#include <stdio.h>
#include <stdlib.h>
int main(void) { void *p = malloc(123457); printf("%lu\\n", (unsigned long)p); fflush(stdout); free(p); return 0; }
`);
    execFileSync('gcc', ['-O0', '-o', bin, src]);
    const r = await runWith(['run', ref, '-o', 'json', '-t', '3', '--comm', 'igmamalloc', ...store('pulled')], env, () => runChild(bin, []), { links: 3 });
    expect(r.code, r.stderr).toBe(0);
    const addr = Number(r.triggered.stdout.trim());
    const mine = jsonLines(r.stdout).filter((e) => (e.proc as { pid: number } | undefined)?.pid === r.triggered.pid && e.addr === addr);
    // the arm64 object would read malloc's size from the wrong register (regs[0] is r15 in x86's pt_regs)
    expect(mine.map((e) => [e.operation, e.size]), r.stdout.slice(0, 3000)).toEqual([['malloc', 123457], ['free', 0]]);
  });

  it('the arm64 object is built for arm64: its BTF has arm64\'s pt_regs, and malloc\'s size is read from user_pt_regs.regs[0]', () => {
    const native = loadAddon();
    const index = JSON.parse(blob('pulled', JSON.parse(readFileSync(path.join(tmp, 'pulled', 'index.json'), 'utf8')).manifests[0].digest).toString()) as Index;
    const objects = Object.fromEntries(index.manifests.map((m) => {
      const layer = (JSON.parse(blob('pulled', m.digest).toString()) as Manifest).layers[0]!;
      return [m.platform.architecture, blob('pulled', layer.digest)];
    }));
    const look = (elf: Buffer) => {
      const o = new native.BpfObject(elf, 'trace_malloc');
      try {
        const btf = o.btf();
        const struct = (name: string) => btf.find((t: BtfType) => t.kind === 'struct' && t.name === name);
        // the first load from the context (r1) in the malloc uprobe: BPF_LDX|BPF_MEM|BPF_DW with src r1
        const insns = o.programInsns('ig_malloc');
        let ctxLoad: number | undefined;
        for (let i = 0; i < insns.length && ctxLoad === undefined; i += 8) {
          if (insns[i] === 0x79 && insns[i + 1]! >> 4 === 1) ctxLoad = insns.readInt16LE(i + 2);
        }
        return { machine: elf.readUInt16LE(18), ptRegs: struct('pt_regs'), userPtRegs: struct('user_pt_regs'), ctxLoad };
      } finally {
        o.close();
      }
    };
    const amd64 = look(objects.amd64!), arm64 = look(objects.arm64!);
    // both are eBPF ELF objects (EM_BPF): the ELF header does not say the architecture, the kernel types do
    expect([amd64.machine, arm64.machine]).toEqual([247, 247]);
    const memberOffset = (t: BtfType | undefined, name: string) => (t?.members?.find((m) => m.name === name)?.bitsOffset ?? -8) / 8;
    // x86_64: struct pt_regs of 21 registers (168 bytes) with di, and no user_pt_regs
    expect(amd64.ptRegs?.size).toBe(168);
    expect(amd64.userPtRegs).toBeUndefined();
    expect(amd64.ctxLoad).toBe(memberOffset(amd64.ptRegs, 'di'));
    // aarch64: struct user_pt_regs { regs[31], sp, pc, pstate } inside a larger pt_regs, no di anywhere
    expect(arm64.userPtRegs?.members?.map((m) => m.name)).toEqual(['regs', 'sp', 'pc', 'pstate']);
    expect(arm64.ptRegs!.size).toBeGreaterThan(arm64.userPtRegs!.size!);
    expect(arm64.ptRegs?.members?.some((m) => m.name === 'di')).toBe(false);
    expect(arm64.ctxLoad).toBe(memberOffset(arm64.userPtRegs, 'regs'));
    expect(arm64.ctxLoad).not.toBe(amd64.ctxLoad);
  });

  it('every gadget of the catalog builds for linux/arm64 (gadgets/README.md says so)', async () => {
    const names = readdirSync(path.join(repoRoot, 'gadgets')).filter((n) => existsSync(path.join(repoRoot, 'gadgets', n, 'program.bpf.c')));
    expect(names.length).toBeGreaterThan(10);
    const failed: string[] = [];
    for (const n of names) {
      const r = await runIg(['image', 'build', path.join(repoRoot, 'gadgets', n), '--platform', 'linux/arm64', '-t', `arm64/${n}`, ...store('catalog')], { env, timeoutMs: 120_000 });
      if (r.code !== 0) failed.push(`${n}: ${r.stderr}`);
    }
    expect(failed).toEqual([]);
    // each an index with the one arm64 entry (image inspect on this amd64 machine says it has none for amd64)
    const tags = (JSON.parse(readFileSync(path.join(tmp, 'catalog', 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests;
    expect(tags).toHaveLength(names.length);
    for (const t of tags) {
      const index = JSON.parse(blob('catalog', t.digest).toString()) as Index;
      expect(index.manifests.map((m) => m.platform.architecture)).toEqual(['arm64']);
    }
  }, 300_000);

  it('a platform ig cannot build for is refused by name, and nothing is tagged', async () => {
    for (const bad of ['linux/s390x', 'windows/amd64', 'linux/amd64,linux/arm64/v9', ',']) {
      const r = await runIg(['image', 'build', gadget, '--platform', bad, '-t', 'bad:platform', ...store('bad')]);
      expect(r.code, bad).not.toBe(0);
      expect(r.stderr, bad).toMatch(/^error: --platform .*(linux\/amd64 and linux\/arm64 only|is empty)/);
      expect(r.stderr, bad).toContain('hint: e.g. --platform linux/amd64,linux/arm64');
    }
    const ls = await runIg(['image', 'list', '-o', 'json', ...store('bad')]);
    expect(JSON.parse(ls.stdout || '[]')).toEqual([]);
  });
});
