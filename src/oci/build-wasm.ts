/**
 * build.yaml `wasm:`, the gadget's WebAssembly module (layer application/vnd.gadget.wasm.program.v1+binary).
 *   *.wasm  prebuilt: packaged byte for byte (IG does the same)
 *   *.c     compiled here for WASI preview 1 as a reactor module, with Debian's clang-19, wasi-libc and lld,
 *           against ig's C guest header <gadget/wasm.h> (wasm/include: IG's wasm API for C)
 *   *.go    IG builds these with Go >= 1.21 (GOOS=wasip1); *.rs with cargo. Neither toolchain can be had on
 *           this machine offline, so ig says so and how to package a module built elsewhere.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { IgError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { ConfinedPath } from './build-paths.js';
import { ToolFailure, runSandboxed } from './build-sandbox.js';

/**
 * Debian 12's wasi-libc is installed for the triple wasm32-wasi (/usr/lib/wasm32-wasi), the name WASI
 * preview 1 had before it was renamed wasm32-wasip1: same ABI, and clang-19 accepts both spellings.
 */
const WASM_TARGET = 'wasm32-wasi';

/** ig's C guest headers (<gadget/wasm.h>) */
const WASM_INCLUDE = path.join(packageRoot, 'wasm', 'include');

function wasmClangArgv(clang: string, source: string, out: string): string[] {
  if (source.startsWith('-') || source.startsWith('@')) throw new IgError('internal', `unchecked source path ${source}`);
  return [clang, `--target=${WASM_TARGET}`, '-O2', '-mexec-model=reactor', '-fuse-ld=lld', '-I', WASM_INCLUDE, '-o', out, `./${source}`];
}

function checkWasm(b: Buffer, where: string): Buffer {
  if (b.length < 8 || b.readUInt32BE(0) !== 0x0061736d) {
    throw new IgError('build', `${where} is not a WebAssembly module (no \\0asm header)`);
  }
  return b;
}

export interface WasmBuild {
  dir: string;
  wasm: ConfinedPath;
  outDir: string;
  clang?: string;
}

export async function buildWasm(w: WasmBuild): Promise<Buffer> {
  const ext = path.extname(w.wasm.given);
  if (ext === '.wasm') return checkWasm(await fs.readFile(w.wasm.real), w.wasm.real);
  if (ext === '.c') {
    const out = path.join(w.outDir, 'program.wasm');
    try {
      await runSandboxed({ argv: wasmClangArgv(w.clang ?? 'clang-19', w.wasm.relative, out), cwd: w.dir, readOnly: [w.dir, WASM_INCLUDE], writable: w.outDir });
    } catch (e) {
      if (!(e instanceof ToolFailure)) throw e;
      const missingLibc = /wasm32-wasi|crt1-reactor|unable to find library -lc|libclang_rt/.test(e.stderr);
      throw new IgError('build', `compiling ${w.wasm.real} to WebAssembly failed:\n${e.stderr.trim()}`, {
        hint: missingLibc ? 'install the WASI toolchain: apt-get install wasi-libc libclang-rt-19-dev-wasm32 lld-19' : 'fix the errors above',
      });
    }
    return checkWasm(await fs.readFile(out), out);
  }
  if (ext === '.go' || ext === '.rs') {
    const how = ext === '.go'
      ? 'Go >= 1.21 (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared), which Debian 12 does not have'
      : 'cargo with the wasm32-wasip1 target and the crates the module depends on, which cannot be fetched here';
    throw new IgError('unsupported', `building the wasm module from ${w.wasm.given} needs ${how}`, {
      hint: 'build the .wasm elsewhere and point "wasm:" at it (a prebuilt module is packaged as is), or write the module in C',
    });
  }
  throw new IgError('build', `unsupported wasm file type: ${w.wasm.given}`, { hint: 'wasm: takes a prebuilt .wasm, a C source (.c), or IG\'s .go/.rs' });
}
