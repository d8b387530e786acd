/**
 * Every command README.md shows is run by a test. The commands are read from README's ```sh
 * blocks; each is run here, bounded and pointed at what this test starts (a store, a registry,
 * an OTLP receiver, a cosign key pair), or — where it needs minutes or a cluster — named with the
 * test that runs it. A README command this table does not know fails the test, so a new example
 * cannot go untested.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collect, runIg, repoRoot } from '../helpers/ig.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { cosignKeyPair } from '../helpers/cosign.js';

const work = mkdtempSync(path.join(tmpdir(), 'ig-ux-readme-'));
const store = path.join(work, 'store');
let reg: TestRegistry;
let otlp: OtlpReceiver;

/** The commands in README's sh blocks, comments and trailing `&` dropped. */
function readmeCommands(): string[] {
  const text = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const out: string[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').replace(/\s*&$/, '').trim();
      if (cmd) out.push(cmd);
    }
  }
  return out;
}

interface Check { code?: number; stdout?: RegExp; stderr?: RegExp }
type How =
  | { run: string[]; env?: 'store'; check?: Check }
  | { shell: string; check?: Check }
  | { testedBy: string; contains: string };

const bounded = (args: string[]) => [...args, '-t', '1'];

/** How each README command is exercised. The keys are the commands exactly as README shows them. */
function table(): Record<string, How> {
  const ig = 'bin/ig ';
  return {
    'sudo scripts/demo.sh': { shell: 'bash scripts/demo.sh -t 1', check: { stdout: /^RUNTIME\.CONTAINERNAME +MNTNS_ID +PID/ } },
    'sudo scripts/test.sh': { testedBy: '.ci/run', contains: 'scripts/test.sh' },
    [`${ig}run trace_open`]: { run: bounded(['run', 'trace_open']), check: { stdout: /^RUNTIME\.CONTAINERNAME +MNTNS_ID +PID .* FNAME$/m } },
    [`${ig}run trace_open -o json -t 5`]: { run: ['run', 'trace_open', '-o', 'json', '-t', '1'] },
    [`${ig}run trace_open --failed --comm cat`]: { run: bounded(['run', 'trace_open', '--failed', '--comm', 'cat']) },
    [`${ig}run trace_open -F fname~^/etc --fields pid,comm,fname`]: { run: bounded(['run', 'trace_open', '-F', 'fname~^/etc', '--fields', 'pid,comm,fname']), check: { stdout: /^ +PID COMM +FNAME$/m } },
    [`${ig}run snapshot_process`]: { run: ['run', 'snapshot_process'], check: { stdout: /\bCOMM\b/ } },
    [`${ig}run top_file --sort -reads --max-entries 10`]: { run: ['run', 'top_file', '--sort', '-reads', '--max-entries', '10', '--map-fetch-count', '1'] },
    [`${ig}run profile_cpu --collect-ustack --sort -samples --max-entries 10`]: { run: ['run', 'profile_cpu', '--collect-ustack', '--sort', '-samples', '--max-entries', '10', '-t', '2'], check: { stdout: /\bSAMPLES\b/ } },
    [`${ig}run trace_open --k8s-podname web -F fname~^/etc`]: { run: bounded(['run', 'trace_open', '--k8s-podname', 'web', '-F', 'fname~^/etc']), check: { stderr: /^warning: no container matches --k8s-podname web yet; ig is waiting for it/m } },
    [`${ig}run top_syscall --metrics-listen 127.0.0.1:9090`]: { run: ['run', 'top_syscall', '--metrics-listen', '127.0.0.1:0', '-t', '1'], check: { stderr: /^serving metrics on http:\/\/127\.0\.0\.1:\d+\/metrics$/m } },
    [`${ig}run top_syscall --otel-metrics-exporter http://127.0.0.1:4318`]: { run: ['run', 'top_syscall', '--otel-metrics-exporter', otlp.url, '-t', '1'], check: { stderr: /^sending metrics to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics every 5000 ms$/m } },
    [`${ig}run trace_open --otel-logs-exporter http://127.0.0.1:4318 -o none`]: { run: ['run', 'trace_open', '--otel-logs-exporter', otlp.url, '-o', 'none', '-t', '1'], check: { stderr: /^sending events as logs to / } },
    [`${ig}run trace_open --host=false`]: { run: bounded(['run', 'trace_open', '--host=false']) },
    [`${ig}image build gadgets/trace_open -t trace_open`]: { run: ['image', 'build', 'gadgets/trace_open', '-t', 'trace_open'], env: 'store', check: { stdout: /^Successfully built ghcr\.io\/inspektor-gadget\/gadget\/trace_open:latest@sha256:[0-9a-f]{64}\n$/ } },
    [`${ig}image sign trace_open --key cosign.key`]: { run: ['image', 'sign', 'trace_open', '--key', path.join(work, 'cosign.key')], env: 'store', check: { stdout: /^Signed / } },
    [`${ig}image verify trace_open --public-key cosign.pub`]: { run: ['image', 'verify', 'trace_open', '--public-key', path.join(work, 'cosign.pub')], env: 'store', check: { stdout: /^Verified / } },
    [`${ig}image push localhost:5000/trace_open --insecure-registries localhost:5000`]: {
      run: ['image', 'push', `localhost:${reg.port}/trace_open`, '--insecure-registries', `localhost:${reg.port}`], env: 'store',
      check: { stdout: new RegExp(`^Successfully pushed localhost:${reg.port}/trace_open:latest@sha256:[0-9a-f]{64} \\(the local trace_open:latest\\)\\n$`) },
    },
    [`${ig}image list`]: { run: ['image', 'list'], env: 'store', check: { stdout: /^trace_open +latest +[0-9a-f]{12} /m } },
    [`${ig}image inspect trace_open --extra-info ebpf.sections`]: { run: ['image', 'inspect', 'trace_open', '--extra-info', 'ebpf.sections'], env: 'store', check: { stdout: /^- \.BTF$/m } },
    [`${ig}run trace_open --help`]: { run: ['run', 'trace_open', '--help'], check: { stdout: /^Fields of datasource open \(tracer\)/m } },
    [`${ig}completion >> ~/.bashrc`]: { run: ['completion'], check: { stdout: /^###-begin-ig-completions-###$/m } },
    [`${ig}list-containers`]: { run: ['list-containers'] },
    [`${ig}run GADGET --iface eth0`]: { testedBy: 'test/kernel/net-attach.test.ts', contains: "'--iface', veth.host" },
    [`${ig}run GADGET --skip-unsupported-programs`]: { testedBy: 'test/kernel/conventions.test.ts', contains: "'--skip-unsupported-programs', '-o', 'json'" },
    [`${ig}daemon -H tcp://0.0.0.0:7000 --tls-cert-file s.crt --tls-key-file s.key --tls-client-ca-file ca.crt`]: { testedBy: 'test/cli/daemon.test.ts', contains: "'--tls-cert-file', f('server.crt'), '--tls-key-file', f('server.key'), '--tls-client-ca-file', f('ca.crt')" },
    [`${ig}run trace_open --remote-address tcp://node1:7000,tcp://node2:7000 --tls-ca-file ca.crt --tls-cert-file c.crt --tls-key-file c.key`]: { testedBy: 'test/cli/daemon.test.ts', contains: "'--tls-ca-file', f('ca.crt'), '--tls-cert-file', f('client.crt'), '--tls-key-file', f('client.key')" },
    [`${ig}run trace_open --detach --name opens --remote-address unix:///var/run/ig/ig.socket`]: { testedBy: 'test/cli/daemon-instances.test.ts', contains: "'--detach', '--name', 'opens'" },
    [`${ig}list; ${ig}attach opens; ${ig}delete opens`]: { testedBy: 'test/cli/daemon-instances.test.ts', contains: "runIg(['delete', 'opens'" },
    [`${ig}run trace_open --k8s -n shop -l app=web`]: { testedBy: 'test/cli/k8s-relay.test.ts', contains: "['run', 'trace_open', '--k8s'" },
    ['npm run build:sea && dist/ig run trace_open']: { testedBy: 'test/cli/single-executable.test.ts', contains: "spawn(ig, ['run', 'trace_open'" },
    ['npm run build:image']: { testedBy: 'test/containers/agent-podman.test.ts', contains: "'scripts', 'build-image.mjs'" },
    [`${ig}deploy --image REGISTRY/ig:0.1.0`]: { testedBy: 'test/cli/deploy-manifests.test.ts', contains: "runIg(['deploy', '--image'" },
  };
}

beforeAll(async () => {
  reg = await startRegistry();
  otlp = await startOtlpReceiver();
  const kp = cosignKeyPair('readme');
  writeFileSync(path.join(work, 'cosign.key'), kp.key);
  writeFileSync(path.join(work, 'cosign.pub'), kp.pub);
}, 60_000);
afterAll(async () => {
  await reg?.stop();
  await otlp?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('README.md', () => {
  it('names no command this test does not run or point to', () => {
    const known = new Set(Object.keys(table()));
    expect(readmeCommands().filter((c) => !known.has(c))).toEqual([]);
    expect(Object.keys(table()).filter((c) => !readmeCommands().includes(c))).toEqual([]);
  });

  it('every command runs as shown (bounded, against what this test started), in README order', async () => {
    const t = table();
    const env = { ...process.env, COSIGN_PASSWORD: 'readme', HOME: work }; // HOME: no user config file
    for (const cmd of readmeCommands()) {
      const how = t[cmd]!;
      if ('testedBy' in how) continue;
      let r: { code: number | null; stdout: string; stderr: string };
      if ('shell' in how) {
        r = await collect(spawn('bash', ['-c', how.shell], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] }), 600_000);
      } else {
        r = await runIg(how.run, { cwd: repoRoot, env: how.env === 'store' ? { ...env, IG_OCI_STORE: store } : env, timeoutMs: 120_000 });
      }
      expect(r.code, `${cmd}\n${r.stdout}\n${r.stderr}`).toBe(how.check?.code ?? 0);
      if (how.check?.stdout) expect(r.stdout, cmd).toMatch(how.check.stdout);
      if (how.check?.stderr) expect(r.stderr, cmd).toMatch(how.check.stderr);
    }
    expect(otlp.metricExports.length).toBeGreaterThan(0);
    expect(JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://127.0.0.1:${reg.port}/trace_open:latest`]).toString()).mediaType)
      .toBe('application/vnd.oci.image.index.v1+json');
  }, 900_000);

  it('the commands left to other tests are run there', () => {
    for (const [cmd, how] of Object.entries(table())) {
      if (!('testedBy' in how)) continue;
      const file = path.join(repoRoot, how.testedBy);
      expect(existsSync(file), `${cmd}: ${how.testedBy}`).toBe(true);
      expect(readFileSync(file, 'utf8'), `${cmd}: ${how.testedBy} runs it`).toContain(how.contains);
    }
  });
});

