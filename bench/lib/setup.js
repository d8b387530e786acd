// Everything the figures need, built fresh into a temp dir: the C tools, the emitter objects
// (for the C consumer) and the gadget images (for ig) in a temp OCI store.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, tempDir } from './procs.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
/** The launcher measured; IG_BENCH_BIN=/abs/launcher.mjs measures another build (A/B). */
export const IG = process.env.IG_BENCH_BIN ?? path.join(ROOT, 'bin', 'ig.js');
/** Extra node flags for every measured ig process (A/B a fix or profile via a preload):
 *  IG_BENCH_NODE_ARGS="--import /abs/path/preload.mjs" */
const NODE_ARGS = (process.env.IG_BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
/** argv for `node bin/ig.js ...args` */
export function igArgs(...args) {
  return [...NODE_ARGS, IG, ...args];
}
/**
 * [command, argv] of the `ig` a user runs, for the start-up figures: bin/ig (`ig run` starts
 * from the V8 start-up snapshot). IG_BENCH_CMD=/abs/bin/ig measures another build's; with
 * IG_BENCH_BIN or IG_BENCH_NODE_ARGS set (a launcher or node flags to A/B) it is `node LAUNCHER`.
 */
export function igCommand(...args) {
  if (process.env.IG_BENCH_BIN || NODE_ARGS.length) return ['node', igArgs(...args)];
  return [process.env.IG_BENCH_CMD ?? path.join(ROOT, 'bin', 'ig'), args];
}

export async function setup(log) {
  if (!existsSync(path.join(ROOT, 'dist', 'cli.bundle', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first');
  }
  const dir = tempDir('ig-bench-');
  const bin = path.join(dir, 'bin');
  const store = path.join(dir, 'store');
  await run('mkdir', ['-p', bin, store]);
  const vendor = path.join(ROOT, 'native', 'vendor');
  log('compiling the C load generator, sink and consumer (gcc, vendored libbpf)');
  await run('gcc', ['-O2', '-Wall', '-o', path.join(bin, 'load'), path.join(ROOT, 'bench/baseline/load.c')]);
  await run('gcc', ['-O2', '-Wall', '-o', path.join(bin, 'sink'), path.join(ROOT, 'bench/baseline/sink.c')]);
  await run('gcc', ['-O2', '-Wall', '-o', path.join(bin, 'files'), path.join(ROOT, 'bench/baseline/files.c')]);
  await run('gcc', ['-O2', '-Wall', '-o', path.join(bin, 'timerun'), path.join(ROOT, 'bench/baseline/timerun.c')]);
  await run('gcc', ['-O2', '-Wall', '-o', path.join(bin, 'execstamp'), path.join(ROOT, 'bench/baseline/execstamp.c')]);
  await run('gcc', ['-O2', '-Wall', '-I', path.join(vendor, 'include'), '-o', path.join(bin, 'consumer'),
    path.join(ROOT, 'bench/baseline/consumer.c'), path.join(vendor, 'lib', 'libbpf.a'), '-lelf', '-lz']);

  log('building gadget images into a temp store (trace_open, top_file, snapshot_process, bench_emit_small, bench_emit_open)');
  const env = { ...process.env, IG_OCI_STORE: store };
  const images = { trace_open: 'gadgets/trace_open', top_file: 'gadgets/top_file', snapshot_process: 'gadgets/snapshot_process', bench_emit_small: 'bench/gadgets/emit_small', bench_emit_open: 'bench/gadgets/emit_open' };
  for (const [tag, src] of Object.entries(images)) {
    await run('node', [IG, 'image', 'build', path.join(ROOT, src), '-t', tag], { env, cwd: ROOT });
  }
  // The same objects for the C consumer, with the same flags ig's build uses.
  const vmlinuxDir = path.join(ROOT, 'bpf', 'vmlinux', 'x86');
  if (!existsSync(path.join(vmlinuxDir, 'vmlinux.h'))) {
    const h = await run('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c']);
    await run('mkdir', ['-p', vmlinuxDir]);
    writeFileSync(path.join(vmlinuxDir, 'vmlinux.h'), h);
  }
  const objs = {};
  for (const g of ['emit_small', 'emit_open']) {
    const o = path.join(dir, `${g}.o`);
    await run('clang-19', ['-target', 'bpf', '-O2', '-g', '-D__TARGET_ARCH_x86', '-I', path.join(ROOT, 'bpf/include'),
      '-I', vmlinuxDir, '-I', path.join(vendor, 'include'), '-c', path.join(ROOT, `bench/gadgets/${g}/program.bpf.c`), '-o', o]);
    await run('llvm-strip-19', ['-g', o]);
    objs[g] = o;
  }
  // files the load generators open, at paths short enough to show whole in a 32-character column
  const files = tempDir('igb');
  const target = path.join(files, 'igbench-target');
  const probe = path.join(files, 'igbench-probe');
  writeFileSync(target, 'x');
  writeFileSync(probe, 'x');
  return {
    dir,
    store,
    env,
    objs,
    target,
    probe,
    load: path.join(bin, 'load'),
    sink: path.join(bin, 'sink'),
    files: path.join(bin, 'files'),
    timerun: path.join(bin, 'timerun'),
    execstamp: path.join(bin, 'execstamp'),
    consumer: path.join(bin, 'consumer'),
  };
}
