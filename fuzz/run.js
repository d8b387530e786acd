#!/usr/bin/env node
// ig's fuzz harness: `npm run fuzz -- [--kind elf,layout,text,manifest,tar] [--seconds 60] [--seed 1]`.
// For each input kind, a child process runs deterministic mutated inputs (seed + index) for the
// time budget; every input ends ok, as a clean error (IgError), an unwrapped exception, a crash
// (the child died) or a hang (no answer within --timeout-ms). Reproducers of the last three are
// saved under --out (default fuzz/findings/); `--replay FILE --kind K` runs one in this process.
// See fuzz/README.md.
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { classify } from './lib/classify.js';
import { ROOT } from './lib/dist.js';
import { rngFor } from './lib/rng.js';
import { TARGETS } from './lib/targets/index.js';

function parseArgs(argv) {
  const o = { kinds: Object.keys(TARGETS), seconds: 60, seed: '1', timeoutMs: 10_000, out: path.join(ROOT, 'fuzz', 'findings'), json: false, replay: undefined, maxInputs: Infinity,
    store: process.env.IG_OCI_STORE || (process.getuid?.() === 0 ? '/var/lib/ig/oci-store' : path.join(os.homedir(), '.ig', 'oci-store')) };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const val = () => inline ?? argv[++i];
    if (flag === '--kind') o.kinds = val().split(',').filter(Boolean);
    else if (flag === '--seconds') o.seconds = Number(val());
    else if (flag === '--seed') o.seed = String(val());
    else if (flag === '--timeout-ms') o.timeoutMs = Number(val());
    else if (flag === '--max-inputs') o.maxInputs = Number(val());
    else if (flag === '--out') o.out = path.resolve(val());
    else if (flag === '--store') o.store = path.resolve(val());
    else if (flag === '--json') o.json = true;
    else if (flag === '--replay') o.replay = val();
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: npm run fuzz -- [--kind elf,layout,text,manifest,tar] [--seconds N] [--seed S] [--timeout-ms N] [--max-inputs N] [--out DIR] [--store DIR] [--json]\n       npm run fuzz -- --replay FILE --kind KIND');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  for (const k of o.kinds) if (!TARGETS[k]) throw new Error(`unknown kind "${k}" (known: ${Object.keys(TARGETS).join(', ')})`);
  return o;
}

/** Fuzz one kind for the budget; restarts the child after a crash or a hang. */
async function fuzzKind(kind, o, tmp) {
  const target = TARGETS[kind];
  const gen = await target.init({ store: o.store, generateOnly: true });
  const counts = { inputs: 0, ok: 0, clean: 0, unwrapped: 0, crash: 0, hang: 0 };
  const cleanMessages = new Map();
  const findings = [];
  const save = (index, outcome, detail) => {
    const dir = path.join(o.out, kind);
    mkdirSync(dir, { recursive: true });
    const base = path.join(dir, `seed${o.seed}-${index}-${outcome}`);
    writeFileSync(`${base}.bin`, target.generate(rngFor(o.seed, kind, index), gen));
    writeFileSync(`${base}.txt`, `kind ${kind}, seed ${o.seed}, input ${index}: ${outcome}\n${detail}\n`);
    findings.push({ index, outcome, detail: detail.split('\n')[0], file: `${base}.bin` });
  };
  let child;
  const start = () =>
    new Promise((resolve, reject) => {
      child = fork(path.join(ROOT, 'fuzz', 'lib', 'worker.js'), [], {
        env: { ...process.env, FUZZ_KIND: kind, FUZZ_SEED: o.seed, FUZZ_STORE: o.store, TMPDIR: tmp },
        execArgv: ['--max-old-space-size=2048'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
      child.stderrTail = () => stderr;
      child.once('message', (m) => (m.ready ? resolve() : reject(new Error('worker did not start'))));
      child.once('exit', (code) => reject(new Error(`worker for ${kind} exited (${code}) before it was ready:\n${stderr}`)));
    });
  await start();
  const end = Date.now() + o.seconds * 1000;
  for (let index = 0; Date.now() < end && index < o.maxInputs; index++) {
    const result = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ outcome: 'hang', message: `no answer within ${o.timeoutMs} ms` }), o.timeoutMs);
      const onExit = (code, signal) => resolve({ outcome: 'crash', message: `child died (${signal ?? `exit ${code}`})\n${child.stderrTail()}` });
      child.once('exit', onExit);
      child.once('message', (m) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(m);
      });
      child.send({ index });
    });
    counts.inputs++;
    counts[result.outcome]++;
    if (result.outcome === 'clean') cleanMessages.set(result.message, (cleanMessages.get(result.message) ?? 0) + 1);
    if (result.outcome === 'unwrapped') save(index, 'unwrapped', result.stack ?? result.message);
    if (result.outcome === 'crash' || result.outcome === 'hang') {
      save(index, result.outcome, result.message);
      child.removeAllListeners();
      child.kill('SIGKILL');
      await start();
    }
  }
  child.removeAllListeners('exit');
  child.disconnect();
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  await target.close?.(gen);
  const top = [...cleanMessages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([m, n]) => ({ n, message: m.replace(/\/tmp\/\S+/g, '…') }));
  return { kind, seconds: o.seconds, seed: o.seed, ...counts, perSecond: Math.round(counts.inputs / o.seconds), findings, topCleanErrors: top };
}

async function replay(o) {
  if (o.kinds.length !== 1) throw new Error('--replay needs exactly one --kind');
  const target = TARGETS[o.kinds[0]];
  const state = await target.init({ store: o.store, generateOnly: false });
  const r = await classify(() => target.run(readFileSync(o.replay), state));
  await target.close?.(state);
  console.log(r.outcome, r.stack ?? r.message ?? '');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.replay) return replay(o);
  // Temp stores on tmpfs when there is one: the store fsyncs every file, which a disk makes slow.
  const tmp = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'ig-fuzz-'));
  const results = [];
  try {
    for (const kind of o.kinds) {
      const r = await fuzzKind(kind, o, tmp);
      results.push(r);
      if (!o.json) {
        console.log(`${kind.padEnd(9)} ${String(r.inputs).padStart(8)} inputs (${r.perSecond}/s): ${r.ok} ok, ${r.clean} clean errors, ${r.unwrapped} unwrapped, ${r.crash} crashes, ${r.hang} hangs`);
        for (const f of r.findings) console.log(`  ${f.outcome}: ${f.detail}  (${path.relative(process.cwd(), f.file)})`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (o.json) console.log(JSON.stringify(results));
  const bad = results.reduce((n, r) => n + r.unwrapped + r.crash + r.hang, 0);
  process.exitCode = bad ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
