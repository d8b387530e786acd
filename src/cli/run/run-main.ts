import yargs from 'yargs';
import type { Options } from 'yargs';
import { globalOptions } from '../options.js';
import { runOptions, joinDashValues } from '../commands/run.js';
import { containerOptions } from '../container-options.js';
import { ociOptionsFrom } from '../oci-args.js';
import type { PullPolicy } from '../../oci/image.js';
import { GadgetInstance } from '../../runtime/instance.js';
import type { ParamSpec } from '../../gadget/params.js';
import { IgError } from '../../errors.js';
import { runGadgetSession, type SessionIO } from './session.js';
import { admitImage } from './admission.js';

/**
 * `ig run IMAGE [flags]`. Parsed twice: first to learn the image (and how to get
 * it), then, with the image's params turned into flags, strictly — so that
 * `ig run IMAGE --help` lists the gadget's own flags and a mistyped one is an error.
 */
export async function runMain(rawArgv: string[]): Promise<void> {
  // Ctrl-C must stop cleanly at any moment, also while the image is read or the gadget loads.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runWithArgs(joinDashValues(rawArgv), stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * `ig run` from parsed-out argv, with its output going to `io` (the terminal by
 * default; the daemon passes a gRPC stream). Exported for the daemon.
 */
export async function runWithArgs(argv: string[], stopSignal: AbortSignal, io: SessionIO = {}): Promise<void> {
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  const first = await base(argv).help(false).strict(false).exitProcess(false).fail(usageFailure(undefined, argv)).parseAsync();
  const image = first._[1] === undefined ? undefined : String(first._[1]);
  if (!image) {
    if (wantsHelp) {
      await base(argv).usage('Usage: ig run IMAGE [flags]\n\nRun a gadget: pull if needed, load, attach, print events until Ctrl-C or --timeout').help().parseAsync();
      return;
    }
    throw new IgError('usage', 'ig run needs a gadget image', { hint: 'e.g. `ig run trace_open`; `ig image list` shows the images you have' });
  }

  if (first['remote-address']) {
    // The image, its params and the kernel are the nodes' business: hand the flags over as typed.
    const { runRemote, nodeArgs } = await import('../../service/client.js');
    const after = argv.slice(argv.indexOf(image) + 1);
    await runRemote({
      addresses: String(first['remote-address']).split(',').map((s) => s.trim()).filter(Boolean),
      image, args: nodeArgs(after), output: String(first.output), fields: first.fields as string | undefined,
      tls: { cert: first['tls-cert-file'] as string | undefined, key: first['tls-key-file'] as string | undefined, ca: first['tls-ca-file'] as string | undefined },
      stop: stopSignal,
    });
    return;
  }
  const oci = { ...ociOptionsFrom(first), signal: stopSignal };
  const img = await admitImage(image, first as unknown as Record<string, unknown>, oci, first.pull as PullPolicy);
  const inst = GadgetInstance.open(img.ebpf, img.metadata, img.reference);
  try {
    const paramOpts: Record<string, Options> = {};
    for (const p of inst.spec.params) paramOpts[p.key] = paramOption(p, inst.paramDefault(p));
    let helped = false;
    const args = await base(argv)
      .usage(`Usage: ig run ${image} [flags]\n\nRun ${img.reference}${describeImage(inst)}`)
      .options(paramOpts)
      .group(Object.keys(paramOpts), 'Gadget params:')
      .strictOptions()
      .help()
      .exitProcess(false)
      .fail(usageFailure(image, argv))
      .parseAsync(argv, {}, (_err, _argv, output) => {
        if (output) {
          helped = true;
          process.stdout.write(output + '\n');
        }
      });
    if (helped || args.help) return;

    const params: Record<string, string> = {};
    for (const p of inst.spec.params) {
      const given = argv.some((a) => a === `--${p.key}` || a.startsWith(`--${p.key}=`) || a === `--no-${p.key}`);
      if (given) params[p.key] = String(args[p.key]);
    }
    if (stopSignal.aborted) return;
    await runGadgetSession(inst, args as unknown as Record<string, unknown>, params, stopSignal, io);
  } finally {
    await inst.close();
  }
}

function base(argv: string[]) {
  return yargs(argv).scriptName('ig').options(globalOptions).options(runOptions).options(containerOptions).version(false).wrap(Math.min(120, process.stdout.columns || 100));
}

function paramOption(p: ParamSpec, dflt: string): Options {
  const describe = p.description ?? `sets ${p.variable} in the eBPF program`;
  if (p.kind === 'bool') return { type: 'boolean', describe, default: dflt === 'true' };
  const o: Options = { type: 'string', describe, default: dflt };
  if (p.choices) o.choices = p.choices.map((c) => c.name);
  return o;
}

function describeImage(inst: GadgetInstance): string {
  const d = inst.spec.metadata?.description;
  const kinds = inst.spec.datasources.map((ds) => `${ds.name} (${ds.kind})`).join(', ');
  return `${d ? `: ${d}` : ''}\nDatasources: ${kinds || 'none'}`;
}

function usageFailure(image: string | undefined, argv: string[]) {
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
  const names = m[1].split(', ').filter((n) => !/[A-Z]/.test(n)).map((n) => (!typed(n) && typed(`no-${n}`) ? `no-${n}` : n));
  return `unknown flag${names.length > 1 ? 's' : ''} ${names.map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ')}`;
}
