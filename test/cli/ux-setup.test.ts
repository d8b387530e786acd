/**
 * Set-up as a new user does it: a fresh clone, `scripts/setup.sh`, and the clone is still clean
 * (`npm ci` installs the lock file as it is; everything built is ignored). libbpf comes from
 * Debian's signed archive, the newest >= 1.5 it serves, checked by apt. `npm pack` ships the
 * library, the addon and the headers, not the tests.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collect, repoRoot } from '../helpers/ig.js';

/** A long command, without blocking the test worker (vitest's RPC times out under a blocked loop). */
function run(cmd: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }) {
  return collect(spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] }), o.timeoutMs);
}

const work = mkdtempSync(path.join(tmpdir(), 'ig-ux-setup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });

describe('set-up from a fresh clone', () => {
  it('scripts/setup.sh installs with npm ci and leaves git status empty', async () => {
    const clone = path.join(work, 'clone');
    git(work, 'clone', '--quiet', repoRoot, clone);
    // libbpf's download is the next test's; here the built one is reused (native/vendor is ignored by git)
    cpSync(path.join(repoRoot, 'native', 'vendor'), path.join(clone, 'native', 'vendor'), { recursive: true });
    // the built-in gadgets are those the suite's own set-up built (same sources, same store): CI's
    // fresh-clone set-up builds them already, so this one only checks that it finds them current
    cpSync(path.join(repoRoot, '.cache', 'gadgets'), path.join(clone, '.cache', 'gadgets'), { recursive: true });
    const env = { ...process.env };
    const r = await run('bash', ['scripts/setup.sh'], { cwd: clone, env, timeoutMs: 900_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toContain('==> npm: installing packages (npm ci)');
    expect(r.stderr).not.toContain('building gadget'); // current gadgets are found, not rebuilt
    expect(git(clone, 'status', '--porcelain')).toBe('');
    // and a second run does nothing that dirties it either
    const again = await run('bash', ['scripts/setup.sh'], { cwd: clone, env, timeoutMs: 300_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('npm: installing');
    expect(git(clone, 'status', '--porcelain')).toBe('');
  }, 1_200_000);

  it('native/fetch-libbpf.sh builds the newest libbpf >= 1.5 that Debian\'s signed archive serves', async () => {
    const vendor = path.join(work, 'vendor');
    const f = await run('bash', [path.join(repoRoot, 'native', 'fetch-libbpf.sh')], { env: { ...process.env, LIBBPF_VENDOR_DIR: vendor }, timeoutMs: 600_000 });
    expect(f.code, f.stderr).toBe(0);
    const out = f.stdout;
    const m = out.match(/^built libbpf (\d+)\.(\d+)\.(\d+) \(Debian (\S+), static, PIC\) in /m);
    expect(m, out).not.toBeNull();
    expect(Number(m![1]) * 1000 + Number(m![2])).toBeGreaterThanOrEqual(1005);
    expect(readFileSync(path.join(vendor, 'VERSION'), 'utf8').trim()).toBe(`${m![1]}.${m![2]}.${m![3]}`);
    expect(existsSync(path.join(vendor, 'lib', 'libbpf.a'))).toBe(true);
    // apt fetched it: the signed Sources index it checked against names the same .dsc
    const dsc = readFileSync(path.join(vendor, 'dl', `libbpf_${m![4]!.replace(/^\d+:/, '')}.dsc`), 'utf8');
    expect(dsc).toMatch(new RegExp(`^Version: ${m![4]!.replace(/[.+]/g, '\\$&')}$`, 'm'));
    expect(readFileSync(path.join(vendor, 'apt', 'sources.list'), 'utf8')).toMatch(/^deb-src \[signed-by=\/usr\/share\/keyrings\/debian-archive-keyring\.gpg\] /m);
    // a second call keeps what is built (no network)
    expect(execFileSync('bash', [path.join(repoRoot, 'native', 'fetch-libbpf.sh')], { encoding: 'utf8', env: { ...process.env, LIBBPF_VENDOR_DIR: vendor } })).toBe('');
  }, 900_000);
});

describe('the npm package', () => {
  it('npm pack ships the library, the addon and the gadget headers, not test/ or bench/', () => {
    const j = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { files: { path: string }[] }[];
    const files = j[0]!.files.map((f) => f.path);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'bin/ig.js', 'dist/cli.bundle/main.js', 'native/src/addon.cc', 'native/Makefile', 'native/fetch-libbpf.sh',
      'native/build/ig_native.node', 'native/launcher/heap-arena.c', 'native/build/ig-heap-arena.so', 'bpf/include/gadget/types.h', 'spec/ig.proto', 'src/containers/cri/api.proto', 'gadgets/trace_open/program.bpf.c']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(test|bench|node_modules)\//.test(f) || f.endsWith('.map'))).toEqual([]);
  });

  it('exports the library entry only: import("ig") gives runGadget, internals are not reachable', () => {
    const app = path.join(work, 'app');
    mkdirSync(path.join(app, 'node_modules'), { recursive: true });
    symlinkSync(repoRoot, path.join(app, 'node_modules', 'ig'));
    writeFileSync(path.join(app, 'check.mjs'), `
      const ig = await import('ig');
      console.log(typeof ig.runGadget);
      try { await import('ig/dist/cli/main.js'); console.log('reachable'); } catch (e) { console.log(e.code); }
    `);
    const out = execFileSync(process.execPath, ['check.mjs'], { cwd: app, encoding: 'utf8' });
    expect(out).toBe('function\nERR_PACKAGE_PATH_NOT_EXPORTED\n');
  });
});
