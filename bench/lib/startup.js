// 4. Start-up: spawning `ig run trace_open -o json` → its first event on stdout.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { IG, igCommand } from './setup.js';
import { median, run, start, stop, tempDir } from './procs.js';
import { startRegistry } from './registry.js';

/** ms from spawn to the first complete JSON line, opens running in the background. */
async function firstEvent(ctx, image, env, extra = []) {
  const t0 = performance.now();
  const ig = start(...igCommand('run', image, '-o', 'json', ...extra), { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: ctx.root });
  let ms;
  try {
    ms = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no event from ig within 30 s: ${ig.stderrText}`)), 30_000);
      ig.stdout.on('data', (d) => {
        if (d.includes(10)) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
      ig.exited.then((r) => {
        clearTimeout(timer);
        reject(new Error(`ig exited (${r.code ?? r.signal}) before its first event: ${ig.stderrText}`));
      });
    });
  } finally {
    ig.stdout.destroy(); // stop reading; ig's quiet stop on a closed stdout is fine too
    await stop(ig, 'SIGINT');
  }
  return ms;
}

/** Store with `n` extra tags, written straight into index.json (the store's own format). */
function storeWithTags(ctx, n) {
  const dir = path.join(tempDir('ig-bench-tags-'), 'store');
  cpSync(ctx.store, dir, { recursive: true });
  const idxPath = path.join(dir, 'index.json');
  const idx = JSON.parse(readFileSync(idxPath, 'utf8'));
  const base = idx.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name']?.endsWith('/trace_open:latest'));
  for (let i = 0; i < n; i++) {
    idx.manifests.push({
      mediaType: base.mediaType,
      digest: base.digest,
      size: base.size,
      annotations: {
        'org.opencontainers.image.created': base.annotations['org.opencontainers.image.created'],
        'org.opencontainers.image.ref.name': `registry.example.com/bench/other-${i}:v${i % 7}`,
      },
    });
  }
  writeFileSync(idxPath, JSON.stringify(idx));
  return dir;
}

export async function startup(ctx, opts, log) {
  const trials = opts.quick ? 3 : 7;
  // opens in the background, every 2 ms, so the first event follows attach immediately
  const bg = start(ctx.load, ['probe', ctx.probe], { stdio: ['ignore', 'ignore', 'inherit'] });
  const out = { trials };
  try {
    const series = async (label, image, envFor, extra) => {
      const xs = [];
      for (let i = 0; i < trials; i++) xs.push(await firstEvent(ctx, image, envFor(), extra));
      log(`startup ${label}: ${xs.map((x) => x.toFixed(0)).join(', ')} ms`);
      return { ms: xs, median: median(xs) };
    };
    log('startup: warm-up run (page cache)');
    const tags = storeWithTags(ctx, 500);
    const tagsEnv = { ...process.env, IG_OCI_STORE: tags };
    await firstEvent(ctx, 'trace_open', ctx.env);
    await firstEvent(ctx, 'trace_open', tagsEnv);
    // The two stores alternate, run by run, so the machine's drift (±30 % on shared cores) falls
    // on both alike and the comparison shows what the 500 tags cost.
    const local = [];
    const with500 = [];
    for (let i = 0; i < trials; i++) {
      local.push(await firstEvent(ctx, 'trace_open', ctx.env));
      with500.push(await firstEvent(ctx, 'trace_open', tagsEnv));
    }
    log(`startup local store: ${local.map((x) => x.toFixed(0)).join(', ')} ms`);
    log(`startup local store + 500 tags: ${with500.map((x) => x.toFixed(0)).join(', ')} ms`);
    out.local = { ms: local, median: median(local) };
    out.tags500 = { ms: with500, median: median(with500) };

    // node itself, for scale: the floor under any start-up figure
    const nodeMs = [];
    for (let i = 0; i < trials; i++) {
      const t0 = performance.now();
      await run('node', ['-e', '0']);
      nodeMs.push(performance.now() - t0);
    }
    out.nodeBare = { ms: nodeMs, median: median(nodeMs) };

    const reg = await startRegistry();
    const ref = `${reg.host}/bench/trace_open:latest`;
    await run('node', [IG, 'image', 'tag', 'trace_open', ref], { env: ctx.env });
    await run('node', [IG, 'image', 'push', ref, '--insecure-registries', reg.host], { env: ctx.env });
    try {
      out.pull = await series('empty store, pull from loopback registry', ref,
        () => ({ ...process.env, IG_OCI_STORE: path.join(tempDir('ig-bench-empty-'), 'store') }),
        ['--insecure-registries', reg.host]);
    } finally {
      await reg.stop();
    }
  } finally {
    await stop(bg, 'SIGTERM');
  }
  return out;
}
