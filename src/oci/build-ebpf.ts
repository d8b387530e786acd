/**
 * The eBPF half of `ig image build`: IG's compile recipe with ig's headers, run in the build sandbox, or a
 * prebuilt object taken as is.
 *
 * IG's recipe (cmd/common/image/build-step.go), per target architecture:
 *   clang -target bpf -Wall -g -O2 -I/usr/include/<host arch>-linux-gnu -D __TARGET_ARCH_<x86|arm64>
 *         -c SRC -I <gadget headers>/<arch>/ -o OBJ && llvm-strip -g OBJ
 * ig adds its own header directories (bpf/include, the vmlinux.h of the arch, libbpf 1.5's headers) where
 * IG has them installed under /usr/include. The multiarch directory gives <asm/types.h>, <asm/errno.h>
 * to gadgets built on <linux/*.h>. Every argument is fixed except the source path, which build-paths.ts
 * has confined to the gadget directory and cleared of flag and response-file spellings.
 */
import { execFile } from 'node:child_process';
import { elfSections } from './elf.js';
import { promises as fs, existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { IgError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { ConfinedPath } from './build-paths.js';
import { ToolFailure, runSandboxed } from './build-sandbox.js';
import { surfaceGaps } from './ig-surface.js';

const run = promisify(execFile);

/** One architecture a gadget is built for, in the three spellings the recipe needs. */
export interface Target {
  /** OCI platform.architecture */
  platform: 'amd64' | 'arm64';
  /** __TARGET_ARCH_* and bpf/vmlinux/<dir> */
  bpfArch: 'x86' | 'arm64';
  /** Debian multiarch include directory: /usr/include/<multiarch>-linux-gnu */
  multiarch: 'x86_64' | 'aarch64';
}

const TARGETS: Record<Target['platform'], Target> = {
  amd64: { platform: 'amd64', bpfArch: 'x86', multiarch: 'x86_64' },
  arm64: { platform: 'arm64', bpfArch: 'arm64', multiarch: 'aarch64' },
};

/** The host's architecture: what ig builds for unless told (--platform). */
export function hostTarget(arch = process.arch): Target {
  if (arch === 'x64') return TARGETS.amd64;
  if (arch === 'arm64') return TARGETS.arm64;
  throw new IgError('unsupported', `ig image build supports amd64 and arm64 hosts, not ${arch}`);
}

/**
 * `--platform linux/amd64,linux/arm64` (the OCI spelling of docker buildx and skopeo) → the targets, in
 * the order an image index lists them (by architecture). A bare `amd64` is accepted too.
 */
export function parsePlatforms(text: string): Target[] {
  const out = new Map<string, Target>();
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [os, arch, more] = item.includes('/') ? item.split('/') : ['linux', item];
    const t = TARGETS[arch as Target['platform']];
    if (os !== 'linux' || !t || more !== undefined) {
      throw new IgError('usage', `--platform ${item}: ig builds gadgets for linux/amd64 and linux/arm64 only`, {
        hint: 'e.g. --platform linux/amd64,linux/arm64',
      });
    }
    out.set(t.platform, t);
  }
  if (out.size === 0) throw new IgError('usage', '--platform is empty', { hint: 'e.g. --platform linux/amd64,linux/arm64' });
  return [...out.values()].sort((a, b) => a.platform.localeCompare(b.platform));
}

/**
 * Where <asm/*.h> of the target comes from: Debian's multiarch directory when that architecture's
 * headers are installed (always the host's), else the arm64 headers gen-vmlinux-arm64.sh unpacked.
 */
function asmIncludeDir(t: Target): string {
  const system = `/usr/include/${t.multiarch}-linux-gnu`;
  if (t.platform === hostTarget().platform || existsSync(path.join(system, 'asm'))) return system;
  return path.join(packageRoot, 'bpf', 'vmlinux', t.bpfArch, 'include');
}

/** ig's header directories, read-only in the sandbox (a foreign arm64 target's <asm/*.h> lie under its vmlinux dir). */
function includeDirs(t: Target): string[] {
  return [
    path.join(packageRoot, 'bpf', 'include'),
    path.join(packageRoot, 'bpf', 'vmlinux', t.bpfArch),
    path.join(packageRoot, 'native', 'vendor', 'include'),
  ];
}

/** clang's full argv: fixed flags, ig's include directories, and the (confined, relative) source. */
function clangArgv(clang: string, t: Target, source: string, object: string): string[] {
  if (source.startsWith('-') || source.startsWith('@')) throw new IgError('internal', `unchecked source path ${source}`);
  return [
    clang, '-target', 'bpf', '-Wall', '-g', '-O2',
    `-I${asmIncludeDir(t)}`,
    '-D', `__TARGET_ARCH_${t.bpfArch}`,
    ...includeDirs(t).flatMap((d) => ['-I', d]),
    // "./" keeps a file literally named like a flag from ever reading as one
    '-c', `./${source}`, '-o', object,
  ];
}

/** Generate vmlinux.h / fetch libbpf's headers when missing (ig's own scripts, outside the sandbox). */
async function ensurePrereqs(t: Target): Promise<void> {
  const vmlinux = path.join(packageRoot, 'bpf', 'vmlinux', t.bpfArch, 'vmlinux.h');
  const native = t.platform === hostTarget().platform;
  if (!native && t.platform !== 'arm64' && !existsSync(vmlinux)) {
    throw new IgError('build', `building for linux/${t.platform} on this ${hostTarget().platform} machine needs ${path.relative(packageRoot, vmlinux)}`, {
      hint: `generate it on a linux/${t.platform} machine with bpf/gen-vmlinux.sh and copy it here`,
    });
  }
  // a foreign arm64 target: its kernel's BTF and UAPI headers, from Debian's arm64 packages
  const arm64Asm = path.join(packageRoot, 'bpf', 'vmlinux', t.bpfArch, 'include', 'asm');
  const steps: [string[], string][] = [
    [native ? [vmlinux] : [vmlinux, arm64Asm], path.join(packageRoot, 'bpf', native ? 'gen-vmlinux.sh' : 'gen-vmlinux-arm64.sh')],
    [[path.join(packageRoot, 'native', 'vendor', 'include', 'bpf', 'bpf_helpers.h')], path.join(packageRoot, 'native', 'fetch-libbpf.sh')],
  ];
  for (const [files, script] of steps) {
    const file = files.find((f) => !existsSync(f));
    if (file === undefined) continue;
    try {
      await run('bash', [script], { cwd: packageRoot, maxBuffer: 16 << 20 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new IgError('build', `${path.relative(packageRoot, file)} is missing and ${path.relative(packageRoot, script)} failed: ${(err.stderr || err.message).trim()}`, {
        hint: native
          ? undefined
          : `the linux/${t.platform} kernel headers come from Debian's ${t.platform} kernel package (deb.debian.org): run scripts/setup.sh --test once while online, or copy bpf/vmlinux/${t.bpfArch}/ from a machine that has it`,
      });
    }
  }
}

function compileError(source: ConfinedPath, stderr: string): IgError {
  const lines = stderr.trim().split('\n');
  const shown = lines.length > 40 ? [...lines.slice(0, 40), `… (${lines.length - 40} more lines)`] : lines;
  const gaps = surfaceGaps(stderr);
  const msg = [`compiling ${source.real} failed:`, ...shown];
  if (gaps.length) msg.push('', ...gaps.map((g) => g.message));
  return new IgError('build', msg.join('\n'), {
    hint: gaps.length ? 'see spec/ig-header-surface.md for what ig provides of IG\'s headers' : 'fix the errors above',
  });
}

export interface EbpfBuild {
  /** The gadget directory, realpath'd. */
  dir: string;
  source: ConfinedPath;
  /** A private directory the compiler may write (the object goes there). */
  outDir: string;
  target: Target;
  clang?: string;
  strip?: string;
}

/** Compile and strip, sandboxed; returns the object's bytes. */
export async function compileEbpf(b: EbpfBuild): Promise<Buffer> {
  await ensurePrereqs(b.target);
  const object = path.join(b.outDir, `${b.target.platform}.bpf.o`);
  const readOnly = [b.dir, ...includeDirs(b.target)];
  try {
    await runSandboxed({ argv: clangArgv(b.clang ?? 'clang-19', b.target, b.source.relative, object), cwd: b.dir, readOnly, writable: b.outDir });
  } catch (e) {
    if (e instanceof ToolFailure) throw compileError(b.source, e.stderr);
    throw e;
  }
  try {
    await runSandboxed({ argv: [b.strip ?? 'llvm-strip-19', '-g', object], cwd: b.outDir, readOnly: [], writable: b.outDir });
  } catch (e) {
    if (e instanceof ToolFailure) throw new IgError('build', `${e.tool} failed: ${e.stderr.trim()}`);
    throw e;
  }
  return fs.readFile(object);
}

const EM_BPF = 247;

/**
 * A prebuilt object (build.yaml `ebpfsource: x.o`): packaged byte for byte after checking that it is
 * what the runtime can load, a 64-bit little-endian BPF ELF with BTF.
 */
export async function readPrebuiltObject(source: ConfinedPath): Promise<Buffer> {
  const b = await fs.readFile(source.real);
  const bad = (why: string) => new IgError('build', `${source.real} is not a usable eBPF object: ${why}`, {
    hint: 'compile it with clang -target bpf -g (BTF is required) and keep BTF when stripping (llvm-strip -g)',
  });
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw bad('not an ELF file');
  if (b[4] !== 2 || b[5] !== 1) throw bad('not a 64-bit little-endian ELF');
  if (b.readUInt16LE(18) !== EM_BPF) throw bad(`machine ${b.readUInt16LE(18)} is not BPF (${EM_BPF})`);
  if (!elfSections(b).some((x) => x.name === '.BTF')) throw bad('it has no .BTF section');
  return b;
}

/** build.yaml's ebpfsource names a compiled object rather than C. */
export const isPrebuiltObject = (p: string) => p.endsWith('.o');
