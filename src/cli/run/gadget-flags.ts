/**
 * `ig run`'s flags, with a gadget's params among them: the parser both the local and the remote
 * run use, and the --help that lists the gadget's params and its datasources' fields.
 */
import yargs, { type Argv, type Options } from 'yargs';
import { globalOptions } from '../options.js';
import { runOptions } from './flags.js';
import { containerOptions } from '../container-options.js';
import { configFor, loadConfig } from '../config-file.js';
import type { ParamSpec } from '../../gadget/params.js';
import { IgError } from '../../errors.js';
import type { GadgetDescription } from '../../engine/run.js';

/**
 * The strict parse, with the gadget's params as flags. Undefined when help was asked for (and
 * printed): the gadget's params and its datasources' fields.
 */
export async function parseWithParams(argv: string[], image: string, d: GadgetDescription): Promise<{ args: Record<string, unknown>; params: Record<string, string> } | undefined> {
  const paramOpts: Record<string, Options> = {};
  for (const p of d.params) paramOpts[p.key] = paramOption(p);
  let helped = false;
  const args = await base(argv)
    .usage(`Usage: ig run ${image} [flags]\n\nRun ${d.reference}${d.description ? `: ${d.description}` : ''}`)
    .options(paramOpts)
    .group(Object.keys(paramOpts), 'Gadget params:')
    .strictOptions()
    .help()
    .alias('h', 'help')
    .exitProcess(false)
    .fail(usageFailure(image, argv))
    .parseAsync(argv, {}, (_err, _argv, output) => {
      if (output) {
        helped = true;
        // the field table goes after yargs' text, unwrapped: yargs would re-flow its columns
        process.stdout.write(`${output}\n\n${describeFields(d)}\n`);
      }
    });
  if (helped || args.help) return undefined;
  const params: Record<string, string> = {};
  for (const p of d.params) {
    const given = argv.some((a) => a === `--${p.key}` || a.startsWith(`--${p.key}=`) || a === `--no-${p.key}`);
    if (given) params[p.key] = String(args[p.key]);
  }
  return { args: args as Record<string, unknown>, params };
}

export function base(argv: string[]): Argv {
  const defaults = configFor(loadConfig(argv), [...Object.keys(globalOptions), ...Object.keys(runOptions), ...Object.keys(containerOptions)]);
  return yargs(argv).scriptName('ig').options(globalOptions).options(runOptions).options(containerOptions).config(defaults).version(false).wrap(Math.min(120, process.stdout.columns || 100));
}

function paramOption(p: ParamSpec): Options {
  const describe = p.description ?? `sets ${p.variable} in the eBPF program`;
  if (p.kind === 'bool') return { type: 'boolean', describe, default: p.default === 'true' };
  const o: Options = { type: 'string', describe, default: p.default };
  if (p.choices) o.choices = p.choices.map((c) => c.name);
  return o;
}

/**
 * The datasources and their fields, for --help: what --fields and -F can name, which are shown
 * by default, and what each means.
 */
function describeFields(d: Pick<GadgetDescription, 'datasources'>): string {
  const lines: string[] = [];
  for (const ds of d.datasources) {
    if (ds.fields.length === 0) {
      lines.push(`Fields of datasource ${ds.name} (${ds.kind}): learned from the first records`);
      continue;
    }
    lines.push(`Fields of datasource ${ds.name} (${ds.kind}); * = hidden by default (--fields +NAME shows it):`);
    const nameW = Math.max(...ds.fields.map((f) => f.name.length));
    const typeW = Math.max(...ds.fields.map((f) => (f.typeName ?? f.kind).length));
    for (const f of ds.fields) {
      const desc = f.description ? ` ${f.description}` : '';
      lines.push(`  ${f.hidden ? '*' : ' '} ${f.name.padEnd(nameW)} ${(f.typeName ?? f.kind).padEnd(typeW)}${desc}`.trimEnd());
    }
  }
  return lines.join('\n');
}

export function usageFailure(image: string | undefined, argv: string[]) {
  return (msg: string, err: Error | undefined): never => {
    throw err ?? new IgError('usage', friendlyUsage(msg, argv), { hint: `run \`ig run ${image ?? 'IMAGE'} --help\` to see the flags` });
  };
}

/**
 * yargs says "Unknown arguments: bogus-flag, bogusFlag"; say it once, as the user
 * typed it (yargs reads `--no-x` as "x negated", so name `--no-x` when that was typed).
 */
function friendlyUsage(msg: string, argv: string[]): string {
  const m = msg.match(/^Unknown arguments?: (.*)$/);
  if (!m) return msg;
  const typed = (n: string) => argv.some((a) => a === `--${n}` || a.startsWith(`--${n}=`));
  const names = m[1]!.split(', ').filter((n) => !/[A-Z]/.test(n)).map((n) => (!typed(n) && typed(`no-${n}`) ? `no-${n}` : n));
  return `unknown flag${names.length > 1 ? 's' : ''} ${names.map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ')}`;
}
