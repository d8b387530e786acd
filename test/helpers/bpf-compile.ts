// Compile a BPF C source string into an object file in a fresh temp dir, for tests.
// Flags match the gadget build (src/oci/build-ebpf.ts): clang-19 -target bpf -Wall -g -O2, the multiarch
// include directory (<asm/*.h>), the vendored libbpf headers,
// bpf/include (the gadget/ headers) and bpf/vmlinux/<arch> (generated on first use),
// then `llvm-strip-19 -g` (keeps .BTF, drops DWARF). Each call gets its own mkdtemp dir under
// os.tmpdir() (path.dirname(objectPath)); it is left in place for the caller to inspect or remove.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Repository root (this file is test/helpers/bpf-compile.ts). */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const arch = process.arch === 'x64' ? 'x86' : process.arch === 'arm64' ? 'arm64' : process.arch;
const targetArch = arch === 'x86' ? 'x86' : arch;
const multiarch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;

let vmlinuxReady: Promise<void> | undefined;
function ensureVmlinux(): Promise<void> {
  vmlinuxReady ??= run(path.join(repoRoot, 'bpf', 'gen-vmlinux.sh')).then(() => undefined);
  return vmlinuxReady;
}

export interface CompileOptions {
  /** Extra -I directories. */
  includeDirs?: string[];
  /** Base name of the source/object files (default "prog"). */
  name?: string;
}

export async function compileBpf(
  source: string,
  opts: CompileOptions = {},
): Promise<{ objectPath: string; bytes: Buffer }> {
  await ensureVmlinux();
  const dir = await mkdtemp(path.join(tmpdir(), 'ig-bpf-'));
  const name = opts.name ?? 'prog';
  const src = path.join(dir, `${name}.bpf.c`);
  const objectPath = path.join(dir, `${name}.bpf.o`);
  await writeFile(src, source);
  const includes = [
    ...(opts.includeDirs ?? []),
    path.join(repoRoot, 'bpf', 'include'),
    path.join(repoRoot, 'native', 'vendor', 'include'),
    path.join(repoRoot, 'bpf', 'vmlinux', arch),
  ].flatMap((d) => ['-I', d]);
  try {
    await run('clang-19', [
      '-target', 'bpf', '-Wall', '-g', '-O2', `-I/usr/include/${multiarch}-linux-gnu`, `-D__TARGET_ARCH_${targetArch}`,
      ...includes, '-c', src, '-o', objectPath,
    ]);
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`clang-19 failed for ${src}:\n${err.stderr ?? err.message}`);
  }
  await run('llvm-strip-19', ['-g', objectPath]);
  return { objectPath, bytes: await readFile(objectPath) };
}
