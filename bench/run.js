#!/usr/bin/env node
// ig benchmark harness: `npm run bench` / `node bench/run.js [--quick] [--only a,b]`.
// Sections: throughput, paths, peers, noloss, overhead, startup, tables, remote, wasm (peak RSS is taken during throughput and noloss).
// Every figure is printed next to the baseline measured in the same run; results go to
// bench/results/<timestamp>.json. See bench/README.md.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanup, installSignalHandlers } from './lib/procs.js';
import { ROOT, setup } from './lib/setup.js';
import { throughput } from './lib/throughput.js';
import { noloss } from './lib/noloss.js';
import { overhead } from './lib/overhead.js';
import { startup } from './lib/startup.js';
import { paths } from './lib/paths.js';
import { peers } from './lib/peers.js';
import { remote } from './lib/remote.js';
import { tables } from './lib/tables.js';
import { wasm } from './lib/wasm.js';
import { figures, printTable } from './lib/report.js';

const SECTIONS = { throughput, paths, peers, noloss, overhead, startup, tables, remote, wasm };

function parseArgs(argv) {
  const opts = { quick: false, only: Object.keys(SECTIONS) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      opts.only = (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      for (const s of opts.only) if (!SECTIONS[s]) throw new Error(`unknown section "${s}" (known: ${Object.keys(SECTIONS).join(', ')})`);
    } else if (a === '--help' || a === '-h') {
      console.log(`usage: node bench/run.js [--quick] [--only ${Object.keys(SECTIONS).join(',')}]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the bench loads eBPF programs: run it as root');
  installSignalHandlers();
  const t0 = Date.now();
  const log = (m) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${m}\n`);
  const ctx = { ...(await setup(log)), root: ROOT };
  const results = {};
  for (const name of opts.only) {
    try {
      results[name] = await SECTIONS[name](ctx, opts, log);
    } catch (e) {
      log(`${name} FAILED: ${e.stack ?? e}`);
      results[name] = { error: String(e.message ?? e) };
    }
  }
  const rows = figures(results);
  const host = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    kernel: os.release(),
    node: process.version,
    loadavg: os.loadavg(),
    igCommit: (() => {
      try {
        const head = readFileSync(path.join(ROOT, '.git', 'HEAD'), 'utf8').trim();
        return head.startsWith('ref: ') ? readFileSync(path.join(ROOT, '.git', head.slice(5)), 'utf8').trim() : head;
      } catch {
        return undefined;
      }
    })(),
  };
  console.log(`\nig bench (${opts.quick ? 'quick' : 'full'}): ${host.cores} cores, kernel ${host.kernel}, node ${host.node}, load avg ${host.loadavg.map((x) => x.toFixed(2)).join(' ')}\n`);
  printTable(rows);
  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), quick: opts.quick, only: opts.only, host, figures: rows, raw: results }, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(process.cwd(), file)}  (took ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  return Object.values(results).some((r) => r?.error) ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  process.stderr.write(`bench: ${e.stack ?? e}\n`);
} finally {
  await cleanup();
}
process.exit(code);
