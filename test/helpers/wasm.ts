// Gadgets with a wasm guest for the wasm API tests: an eBPF object compiled once per test file
// (test/gadgets/wasm_host, or another test gadget), a C guest from test/gadgets/wasm_host/guests
// (or given as text), packaged with `ig image build` (ebpfsource: the prebuilt object, wasm: the
// C source, compiled by ig's recipe against wasm/include).
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileBpf } from './bpf-compile.js';
import { repoRoot, runIg } from './ig.js';

const objects = new Map<string, Promise<string>>();

/** The object of test/gadgets/<dir>/program.bpf.c, compiled once per process. */
function testObject(dir: string): Promise<string> {
  let p = objects.get(dir);
  if (!p) {
    p = compileBpf(readFileSync(path.join(repoRoot, 'test', 'gadgets', dir, 'program.bpf.c'), 'utf8')).then((r) => r.objectPath);
    objects.set(dir, p);
  }
  return p;
}

export interface WasmGadgetOptions {
  /** test gadget whose program.bpf.c (and gadget.yaml) to use; default wasm_host */
  bpf?: string;
  /** gadget.yaml text instead of the test gadget's */
  yaml?: string;
  /** the guest's C source instead of guests/<name>.c */
  source?: string;
  /** a prebuilt module instead of a C guest */
  wasm?: Uint8Array;
}

/** Build `tag` from guest `name` (guests/<name>.c) into the store of `env`. */
export async function buildWasmGadget(name: string, tag: string, env: NodeJS.ProcessEnv, o: WasmGadgetOptions = {}): Promise<void> {
  const bpf = o.bpf ?? 'wasm_host';
  const object = await testObject(bpf);
  const dir = mkdtempSync(path.join(tmpdir(), 'ig-wasm-gadget-'));
  try {
    copyFileSync(object, path.join(dir, 'program.o'));
    const yaml = o.yaml ?? readOptional(path.join(repoRoot, 'test', 'gadgets', bpf, 'gadget.yaml')) ?? `name: ${tag}\n`;
    writeFileSync(path.join(dir, 'gadget.yaml'), yaml);
    const guest = o.wasm ? 'guest.wasm' : 'guest.c';
    writeFileSync(path.join(dir, guest), o.wasm ?? o.source ?? readFileSync(path.join(repoRoot, 'test', 'gadgets', 'wasm_host', 'guests', `${name}.c`), 'utf8'));
    writeFileSync(path.join(dir, 'build.yaml'), `ebpfsource: program.o\nwasm: ${guest}\n`);
    const r = await runIg(['image', 'build', dir, '-t', tag], { env, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`building the wasm gadget ${name} failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readOptional(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** The lines a guest logged (`info: wasm <name>: …`), without the prefix. */
export function guestLines(stderr: string, level = 'info'): string[] {
  const re = new RegExp(`^${level}: wasm [^:]+: (.*)$`);
  return stderr.split('\n').map((l) => l.match(re)?.[1]).filter((l): l is string => l !== undefined);
}
