/**
 * Finding things as a new user: help with a gadget's params and fields (also through a daemon),
 * shell completion of commands, images, a gadget's params and fields, and defaults from a
 * config file.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runIg, spawnIg, collect } from '../helpers/ig.js';
import { waitFor } from '../helpers/kernel.js';

const work = mkdtempSync(path.join(tmpdir(), 'ig-ux-help-'));
// the built-in gadgets in the default store (scripts/setup.sh --test builds them); no config file of the machine's
const env = { ...process.env, HOME: work, XDG_CONFIG_HOME: path.join(work, '.config') };
afterAll(() => rmSync(work, { recursive: true, force: true }));

const lines = (s: string) => s.split('\n');

describe('help', () => {
  it('ig run -h and --help list the flags of every run (exit 0)', async () => {
    for (const flag of ['-h', '--help']) {
      const r = await runIg(['run', flag], { env });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(lines(r.stdout)[0]).toBe('Usage: ig run IMAGE [flags]');
      expect(r.stdout).toMatch(/^ {2}-o, --output +output format$/m);
    }
  });

  it('ig run trace_open -h lists its params and every field, the hidden ones marked', async () => {
    const short = await runIg(['run', 'trace_open', '-h'], { env });
    const long = await runIg(['run', 'trace_open', '--help'], { env });
    expect(short.code).toBe(0);
    expect(short.stderr).toBe('');
    expect(short.stdout).toBe(long.stdout);
    const out = lines(short.stdout);
    expect(out[0]).toBe('Usage: ig run trace_open [flags]');
    expect(out).toContain('Gadget params:');
    expect(short.stdout).toMatch(/^ {6}--failed +Show only failed opens +\[boolean\] \[default: false\]$/m);
    expect(out).toContain('Fields of datasource open (tracer); * = hidden by default (--fields +NAME shows it):');
    // one line per field: hidden mark, name, type, description, in aligned columns
    expect(short.stdout).toMatch(/^ {4}fname {2,}char\[256\] {2,}Path passed to open$/m);
    expect(short.stdout).toMatch(/^ {2}\* timestamp {2,}gadget_timestamp {2,}Time the open returned$/m);
    expect(short.stdout).toMatch(/^ {2}\* runtime\.containerStartedAt +string +when the container started \(RFC 3339\)$/m);
    const fieldLines = out.slice(out.indexOf('Fields of datasource open (tracer); * = hidden by default (--fields +NAME shows it):') + 1).filter(Boolean);
    const typeColumn = new Set(fieldLines.map((l) => {
      const m = l.match(/^ {2}[* ] (\S+) +(\S+)/)!;
      return l.indexOf(m[2]!, 4 + m[1]!.length);
    }));
    expect(typeColumn.size, fieldLines.join('\n')).toBe(1);
  });

  it('--help with --remote-address asks the daemon for the gadget and prints help, runs nothing', async () => {
    const sock = path.join(work, 'd.sock');
    const d = spawnIg(['daemon', '-H', `unix://${sock}`], { env });
    let err = '';
    d.stderr!.on('data', (b) => (err += b));
    try {
      await waitFor(() => /listening on/.test(err), 15_000, 'the daemon');
      const local = await runIg(['run', 'trace_open', '--help'], { env });
      const r = await runIg(['run', 'trace_open', '--remote-address', `unix://${sock}`, '-h'], { env, timeoutMs: 20_000 });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(`Run ghcr.io/inspektor-gadget/gadget/trace_open:latest on unix://${sock}: trace open files`);
      // the same params and fields as a local --help
      const tail = (s: string) => s.slice(s.indexOf('Fields of datasource'));
      expect(tail(r.stdout)).toBe(tail(local.stdout));
      expect(r.stdout).toMatch(/^ {6}--failed /m);
    } finally {
      d.kill('SIGTERM');
      await collect(d, 10_000);
    }
  });
});

describe('shell completion', () => {
  const complete = (...words: string[]) => runIg(['--get-yargs-completions', 'ig', ...words], { env });

  it('ig completion prints a bash script that calls ig back', async () => {
    const r = await runIg(['completion'], { env: { ...env, SHELL: '/bin/bash' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^###-begin-ig-completions-###$/m);
    expect(r.stdout).toContain('mapfile -t type_list < <(ig --get-yargs-completions "${args[@]}")');
    expect(r.stdout).toMatch(/^complete -o bashdefault -o default -F _ig_yargs_completions ig$/m);
  });

  it('completes commands, then local images after run', async () => {
    const cmds = await complete('');
    expect(cmds.code).toBe(0);
    expect(lines(cmds.stdout)).toEqual(expect.arrayContaining(['run', 'image', 'list-containers', 'completion', 'config']));
    const images = await complete('run', 'trace_op');
    expect(images.stdout).toBe('trace_open\n');
    const inspect = await complete('image', 'inspect', 'top_s');
    expect(inspect.stdout).toBe('top_syscall\n');
  });

  it('completes a gadget\'s own params after its image, and its fields after --fields and -F', async () => {
    const params = await complete('run', 'trace_open', '--f');
    expect(params.code).toBe(0);
    expect(params.stdout).toBe('--fields\n--filter\n--force-perf-buffer\n--failed\n'); // the run's flags, then the gadget's
    const choices = await complete('run', 'trace_open', '-o', 'j');
    expect(choices.stdout).toBe('json\njsonpretty\n');
    const fields = await complete('run', 'trace_open', '--fields', 'pid,+ti');
    expect(fields.stdout).toBe('pid,+timestamp_raw\npid,+timestamp\npid,+tid\n');
    const filter = await complete('run', 'trace_open', '-F', 'fn');
    expect(filter.stdout).toBe('fname\n');
    const top = await complete('run', 'top_syscall', '--', '');
    expect(top.code).toBe(0);
  });
});

describe('config file', () => {
  it('~/.config/ig/config.yaml sets defaults; flags win; ig config view says where each came from', async () => {
    mkdirSync(path.join(work, '.config', 'ig'), { recursive: true });
    const file = path.join(work, '.config', 'ig', 'config.yaml');
    writeFileSync(file, 'output: json\ntimeout: 0.1\noperator:\n  localmanager:\n    runtimes: containerd\n');
    const view = await runIg(['config', 'view'], { env });
    expect(view.code).toBe(0);
    expect(view.stdout).toBe(`# ${file}\noutput: json\ntimeout: 0.1\nruntimes: containerd\n`);
    // output json from the file: a snapshot prints one JSON array
    const r = await runIg(['run', 'snapshot_process', '--host'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimStart().startsWith('[')).toBe(true);
    const flag = await runIg(['run', 'snapshot_process', '--host', '-o', 'columns'], { env });
    expect(lines(flag.stdout)[0]).toMatch(/^[A-Z]/);
    writeFileSync(file, 'output: [json\n');
    const bad = await runIg(['run', 'snapshot_process'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`^error: config file ${file} is not valid YAML: .*\nhint: fix it, or move it away\n$`));
    rmSync(file);
  });
});
