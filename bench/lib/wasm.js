// 5. wasm: what a gadget's wasm module costs.
//  - throughput: emit_open (trace_open's record, 64 per getppid) through a module that reads two
//    fields and sets one per event (bench/gadgets/emit_open_wasm), against the same run without it;
//  - instantiation of a 1 MB module: compiling from the disk cache and instantiating (the figure:
//    the median of fresh node processes, as each `ig run` is), and the first preparation of a new
//    digest (info).
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, run, tempDir } from './procs.js';
import { IG, ROOT } from './setup.js';
import { measure } from './throughput.js';

const FIELDS = 'timestamp_raw,timestamp,mntns_id,pid,tid,uid,gid,comm,fd,error_raw,error,flags_raw,flags,mode_raw,mode,fname';

/** A valid IG guest of about 1 MB: many functions the module keeps (an export calls them all). */
function bigGuest(functions) {
  const out = ['#include <gadget/wasm.h>', 'volatile uint32_t sink;'];
  let seed = 1;
  const rnd = (n) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
  for (let i = 0; i < functions; i++) {
    const ops = [];
    for (let j = 0; j < 12; j++) ops.push(`x = x * ${3 + rnd(997)}u + (x >> ${1 + rnd(15)}) ^ ${rnd(1 << 30)}u; if (x & ${1 << rnd(20)}u) sink += x;`);
    out.push(`__attribute__((noinline)) static uint32_t f${i}(uint32_t x) { for (int k = 0; k < (int)(x & 7); k++) { ${ops.join(' ')} } return x; }`);
  }
  out.push('GADGET_EXPORT(all) uint32_t all(uint32_t x) {');
  for (let i = 0; i < functions; i++) out.push(` x = f${i}(x);`);
  out.push(' return x; }');
  out.push('GADGET_EXPORT(gadgetInit) int gadgetInit(void) { return 0; }');
  return out.join('\n');
}

/** In a fresh process: prepare or read the cached module, instantiate it as a run would; print the timings. */
async function instantiateOnce(file, cache) {
  process.env.IG_WASM_CACHE = cache;
  const { RunHost } = await import(pathToFileURL(path.join(ROOT, 'dist', 'engine', 'run.js')).href);
  const { WasmGuest } = await import(pathToFileURL(path.join(ROOT, 'dist', 'wasm', 'guest.js')).href);
  const bytes = readFileSync(file);
  const spec = { datasources: [], params: [], maps: [], metrics: [], programs: [], metadata: null, kind: null };
  const host = new RunHost('run', spec, { notice: (t) => process.stderr.write(t), output: { name: 'none', instantiate: () => undefined } });
  const t0 = performance.now();
  const g = new WasmGuest(host, { bytes, digest: `sha256:${path.basename(file)}`, image: 'bench' }, { name: 'bench', budgetMs: 10_000, params: {}, logLevel: 2 });
  g.enter('gadgetInit');
  const total = performance.now() - t0;
  g.close();
  process.stdout.write(JSON.stringify({ ...g.timing, totalMs: total }) + "\n");
}

async function buildWasmImage(ctx, log) {
  const dir = tempDir('ig-bench-wasm-');
  for (const f of ['program.bpf.c', 'gadget.yaml']) copyFileSync(path.join(ROOT, 'bench/gadgets/emit_open', f), path.join(dir, f));
  for (const f of ['program.c', 'build.yaml']) copyFileSync(path.join(ROOT, 'bench/gadgets/emit_open_wasm', f), path.join(dir, f));
  log('wasm: building bench_emit_open_wasm (emit_open + its wasm module)');
  await run('node', [IG, 'image', 'build', dir, '-t', 'bench_emit_open_wasm'], { env: ctx.env, cwd: ROOT });
}

export async function wasm(ctx, opts, log) {
  const timing = opts.quick ? { warmupMs: 500, windowMs: 1500 } : { warmupMs: 1000, windowMs: 5000 };
  const out = { timing, runs: [] };
  await buildWasmImage(ctx, log);
  const rounds = opts.quick ? 1 : 2;
  for (let i = 0; i < rounds; i++) {
    for (const [label, image, fields] of [['without', 'bench_emit_open', FIELDS], ['with', 'bench_emit_open_wasm', `${FIELDS},tag`]]) {
      log(`wasm: throughput ${label} the module (emit_open, 64 per getppid)`);
      const r = await measure(ctx, 'ig', 'open', 64, timing, { image, fields });
      log(`  ${Math.round(r.eventsPerSec).toLocaleString('en-US')} events/s (received ${r.received}, lost ${r.lostTotal})`);
      out.runs.push({ ...r, module: label === 'with' });
    }
  }

  // a 1 MB module
  const dir = tempDir('ig-bench-wasm-big-');
  const src = path.join(dir, 'big.c');
  const wasmFile = path.join(dir, 'big.wasm');
  writeFileSync(src, bigGuest(500));
  log('wasm: compiling a ~1 MB guest (clang-19, wasm32-wasi)');
  await run('clang-19', ['--target=wasm32-wasi', '-O0', '-mexec-model=reactor', '-fuse-ld=lld', '-I', path.join(ROOT, 'wasm/include'), '-o', wasmFile, src]);
  out.moduleBytes = statSync(wasmFile).size;
  const cache = path.join(dir, 'cache');
  mkdirSync(cache);
  const once = async () => JSON.parse(await run('node', [fileURLToPath(import.meta.url), '--instantiate', wasmFile, cache], { cwd: ROOT }));
  out.first = await once();
  log(`  first run (prepare and validate, then cache): ${out.first.totalMs.toFixed(1)} ms`);
  out.cached = [];
  for (let i = 0; i < (opts.quick ? 3 : 7); i++) out.cached.push(await once());
  const ms = out.cached.map((c) => c.compileMs + c.instantiateMs);
  out.cachedMedian = median(ms);
  out.cachedMin = Math.min(...ms);
  log(`  from the disk cache: median ${out.cachedMedian.toFixed(1)} ms, fastest ${out.cachedMin.toFixed(1)} ms (${out.cached.map((c) => c.from).join(',')})`);
  return out;
}

if (process.argv[2] === '--instantiate') {
  await instantiateOnce(process.argv[3], process.argv[4]);
}

/** The table's rows (bench/lib/report.js). */
export function wasmRows(w) {
  if (!w) return [];
  if (w.error) return [{ figure: 'wasm', ig: 'ERROR', baseline: w.error, ratio: '', target: '', result: 'MISS' }];
  const rate = (x) => `${Math.round(x).toLocaleString('en-US')}/s`;
  const with_ = median(w.runs.filter((r) => r.module).map((r) => r.eventsPerSec));
  const without = median(w.runs.filter((r) => !r.module).map((r) => r.eventsPerSec));
  const r = with_ / without;
  return [
    {
      figure: 'wasm: trace_open record through a module (2 reads, 1 set per event)', ig: rate(with_), baseline: `without the module ${rate(without)}`,
      ratio: `${r.toFixed(2)}x`, target: '>= 0.5x', result: r >= 0.5 ? 'PASS' : 'MISS', igValue: with_, baselineValue: without,
    },
    {
      figure: `wasm: instantiate a ${(w.moduleBytes / 1048576).toFixed(1)} MB module (disk cache)`, ig: `${w.cachedMedian.toFixed(1)} ms`,
      baseline: `fastest ${w.cachedMin.toFixed(1)} ms; first run (prepare, validate, cache) ${w.first.totalMs.toFixed(0)} ms`, ratio: '', target: '< 20 ms',
      result: w.cachedMedian < 20 ? 'PASS' : 'MISS', igValue: w.cachedMedian,
    },
  ];
}
