/**
 * `ig image inspect` shows the whole image (eBPF sections, programs, maps, variables,
 * datasources, params, layers, who built it), and IG's --extra-info / --show-datasources /
 * --jsonpath spellings print one part of it. Read from the built-in trace_open in the default store.
 */
import { describe, it, expect } from 'vitest';
import YAML from 'yaml';
import { runIg } from '../helpers/ig.js';

const env = process.env;

describe('ig image inspect', () => {
  it('shows the eBPF sections, programs, maps, variables, datasources, params, layers and builder', async () => {
    const r = await runIg(['image', 'inspect', 'trace_open', '-o', 'json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const info = JSON.parse(r.stdout);
    const sections = info.ebpf.sections.map((s: { name: string }) => s.name);
    expect(sections).toEqual(expect.arrayContaining(['tracepoint/syscalls/sys_enter_openat', '.BTF', '.rodata', '.maps', 'license']));
    expect(info.ebpf.sections.find((s: { name: string }) => s.name === '.BTF').size).toBeGreaterThan(0);
    expect(info.ebpf.programs).toContainEqual({ name: 'ig_openat_x', section: 'tracepoint/syscalls/sys_exit_openat' });
    expect(info.ebpf.maps).toContainEqual({ name: 'events', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 262144 });
    expect(info.ebpf.variables).toContainEqual(expect.objectContaining({ name: 'targ_failed', section: '.rodata', size: 1 }));
    expect(info.ebpf.datasources[0].name).toBe('open');
    expect(info.ebpf.datasources[0].fields).toContainEqual({ name: 'fname', type: 'char[256]', description: 'Path passed to open' });
    expect(info.ebpf.params).toContainEqual(expect.objectContaining({ key: 'failed', kind: 'bool', default: 'false' }));
    expect(info.layers).toEqual([{ kind: 'ebpf', mediaType: 'application/vnd.gadget.ebpf.program.v1+binary', digest: expect.stringMatching(/^sha256:/), size: expect.any(Number) }]);
    expect(info.builtBy.thisIg).toMatch(/^v\d+\.\d+\.\d+/);
    expect(info.signatures).toEqual([]);
    expect(info.metadata).toMatch(/^name: trace open$/m);
  });

  it('the YAML form carries the same description, then gadget.yaml as its own document', async () => {
    const r = await runIg(['image', 'inspect', 'trace_open'], { env });
    expect(r.code).toBe(0);
    const [first, second] = r.stdout.split('\n---\n');
    expect(YAML.parse(first!).ebpf.programs[0].section).toMatch(/^tracepoint\//);
    expect(second!.startsWith('# gadget.yaml\nname: trace open\n')).toBe(true);
  });

  it('--extra-info prints one part in IG\'s shape; --jsonpath picks inside it', async () => {
    const maps = await runIg(['image', 'inspect', 'trace_open', '--extra-info', 'ebpf.maps', '-o', 'json'], { env });
    expect(maps.code).toBe(0);
    expect(JSON.parse(maps.stdout)).toContainEqual({ Name: 'events', Type: 'RingBuf' });
    const section = await runIg(['image', 'inspect', 'trace_open', '--extra-info', 'ebpf.programs', '--jsonpath', '[0].Section'], { env });
    expect(section.stdout).toBe('tracepoint/syscalls/sys_enter_open\n');
    const tag = await runIg(['image', 'inspect', 'trace_open', '--extra-info', 'oci.tag'], { env });
    expect(tag.stdout).toBe('latest\n');
    const repo = await runIg(['image', 'inspect', 'trace_open', '--extra-info', 'oci.repository'], { env });
    expect(repo.stdout).toBe('ghcr.io/inspektor-gadget/gadget/trace_open\n');
    const sections = await runIg(['image', 'inspect', 'trace_open', '--extra-info', 'ebpf.sections', '-o', 'json'], { env });
    expect(JSON.parse(sections.stdout)).toContain('.BTF');
  });

  it('--show-datasources with --jsonpath; --jsonpath on the whole description', async () => {
    const ds = await runIg(['image', 'inspect', 'trace_open', '--show-datasources', '--jsonpath', '[0].name'], { env });
    expect(ds.stdout).toBe('open\n');
    const prog = await runIg(['image', 'inspect', 'trace_open', '--jsonpath', '.ebpf.programs[1].section'], { env });
    expect(prog.stdout).toBe('tracepoint/syscalls/sys_enter_openat\n');
  });

  it('says what is wrong: an unknown part, both parts at once, a path that finds nothing', async () => {
    const nope = await runIg(['image', 'inspect', 'trace_open', '--extra-info', 'nope'], { env });
    expect(nope.code).toBe(1);
    expect(nope.stdout).toBe('');
    expect(nope.stderr).toBe('error: extra info "nope" not found\nhint: this image has: ebpf.sections, ebpf.maps, ebpf.programs, ebpf.variables, oci.manifest, oci.metadata, oci.repository, oci.tag, oci.digest, oci.created\n');
    const both = await runIg(['image', 'inspect', 'trace_open', '--extra-info', 'oci.tag', '--show-datasources'], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('error: --extra-info oci.tag and --show-datasources cannot be used together\nhint: ask for one of them\n');
    const missing = await runIg(['image', 'inspect', 'trace_open', '--jsonpath', '.nothing.here'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: path \.nothing\.here not found\n/);
  });

  it('stops quietly when its reader goes away (| head -n 1)', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync('bash', ['-c', `set -o pipefail; node ${process.cwd()}/bin/ig.js image inspect trace_open | head -n 1`], { env, encoding: 'utf8' });
    expect(out).toBe('reference: ghcr.io/inspektor-gadget/gadget/trace_open:latest\n');
  });
});
