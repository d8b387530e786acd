/**
 * `ig run IMAGE [flags]`: the CLI's edge of the run engine. Parsed twice: first to learn the
 * image (and how to get it), then, with the image's params turned into flags, strictly — so
 * that `ig run IMAGE --help` lists the gadget's own flags and fields, and a mistyped flag is an
 * error. The result is one typed RunConfig for the engine; output goes to stdout.
 */
import { joinDashValues } from './flags.js';
import { IgError } from '../../errors.js';
import { prepareGadget, describeGadget, runPrepared } from '../../engine/run.js';
import { releaseStartupMemory } from '../../runtime/resident-memory.js';
import { outputOperator } from '../../output/operator.js';
import { stdoutTarget, watchWrites } from '../../output/target.js';
import { mark } from '../../timings.js';
import { runConfigFromFlags } from './config-from-flags.js';
import { fastParams, fastRunFlags, type FastRun } from './fast-flags.js';
import type { PreparedGadget } from '../../engine/run.js';

export async function runMain(rawArgv: string[]): Promise<void> {
  // Ctrl-C must stop cleanly at any moment, also while the image is read or the gadget loads.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runFromArgv(joinDashValues(rawArgv), stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function runFromArgv(argv: string[], stop: AbortSignal): Promise<void> {
  // the plain command lines of most runs, without yargs; anything else goes to yargs below
  const fast = fastRunFlags(argv);
  if (fast) return runHere(fast.image, argv, fast.args, {}, stop, fast);
  // yargs (and the YAML reader of the config files) load only for the command lines that need them
  const { base, usageFailure } = await import('./gadget-flags.js');
  const { loadConfig } = await import('../config-file.js');
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  const first = await base(argv).help(false).strict(false).exitProcess(false).fail(usageFailure(undefined, argv)).parseAsync();
  const image = first._[1] === undefined ? undefined : String(first._[1]);
  if (!image) {
    if (wantsHelp) {
      process.stdout.write((await base(argv).usage('Usage: ig run IMAGE [flags]\n\nRun a gadget: pull if needed, load, attach, print events until Ctrl-C or --timeout').getHelp()) + '\n');
      return;
    }
    throw new IgError('usage', 'ig run needs a gadget image', { hint: 'e.g. `ig run trace_open`; `ig image list` shows the images you have' });
  }

  if ((first.name !== undefined || first.tags !== undefined) && !first.detach) {
    throw new IgError('usage', `--${first.name !== undefined ? 'name' : 'tags'} names a headless instance: use it with --detach`);
  }
  const clusterOnly = ['node', 'all-namespaces', 'gadget-namespace', 'kubeconfig', 'context'].find((k) => first[k] !== undefined);
  if (clusterOnly && !first.k8s) throw new IgError('usage', `--${clusterOnly} is for cluster runs: add --k8s`);
  if (first.k8s) {
    releaseStartupMemory('starting');
    const { runOnCluster } = await import('./k8s.js');
    await runOnCluster(image, argv, first as Record<string, unknown>, stop);
    return;
  }
  if (first.detach && !first['remote-address']) {
    throw new IgError('usage', '--detach creates a headless instance in an ig daemon: name it with --remote-address', { hint: 'e.g. ig run trace_open --detach --name opens --remote-address unix:///var/run/ig/ig.socket' });
  }
  if (first['remote-address']) {
    releaseStartupMemory('starting');
    const { runRemoteFromArgv } = await import('./remote.js');
    await runRemoteFromArgv(image, argv, first as Record<string, unknown>, stop);
    return;
  }
  const operators = loadConfig(argv).operators; // the config file's named OTel exporters
  await runHere(image, argv, first as Record<string, unknown>, operators, stop);
}

/** Run the gadget on this machine: `first` holds the flags as read before the image's params are known. */
async function runHere(image: string, argv: string[], first: Record<string, unknown>, operators: Record<string, Record<string, unknown>>, stop: AbortSignal, fast?: FastRun): Promise<void> {
  // Node's copy of the snapshot is given back once the image is read (runtime/resident-memory.ts),
  // except for a snapshotter's (iterators): its run ends ~30 ms later, nothing to give back
  const prepared = await prepareGadget(runConfigFromFlags(image, first, {}, operators), stop, (img) => {
    if (!img.ebpf?.includes('iter/')) releaseStartupMemory('image read');
  });
  try {
    const fastParsed = fast && fastParams(fast, prepared.spec.params);
    const parsed = fastParsed ? { args: fast.args, params: fastParsed } : await strictParse(image, argv, first, operators, prepared);
    if (!parsed) return; // --help printed
    if (stop.aborted) return;
    const cfg = runConfigFromFlags(image, parsed.args, parsed.params, operators);
    // Start-up's pages are given back once the first events are out, not as soon as the gadget is
    // attached: the first batch would fault back the code it runs (~10 ms to the first line, and
    // the CPU to refault it; bench/README.md "Start-up, round four"). A quiet gadget: a second on.
    // A snapshot is read and printed as soon as it is attached and the run ends: nothing to give back.
    const snapshot = isSnapshot(prepared);
    let attachedYet = false;
    let released = false;
    let quiet: NodeJS.Timeout | undefined;
    const release = () => {
      if (released || snapshot) return;
      released = true;
      clearTimeout(quiet);
      releaseStartupMemory('attached');
    };
    const target = watchWrites(stdoutTarget(), () => {
      if (!attachedYet) return false; // a table's header
      mark('first events written');
      setImmediate(release);
      return true;
    });
    const output = outputOperator({ format: cfg.output, fields: cfg.fields, target });
    const attached = () => {
      attachedYet = true;
      if (!snapshot) quiet = setTimeout(release, 1000).unref();
    };
    await runPrepared(prepared, cfg, { output, notice: (t) => process.stderr.write(t), attached }, stop);
  } finally {
    await prepared.close();
  }
}

/** A gadget whose every datasource is a snapshot: its run ends once each was read. */
function isSnapshot(prepared: PreparedGadget): boolean {
  return prepared.spec.datasources.length > 0 && prepared.spec.datasources.every((d) => d.kind === 'snapshotter');
}

/** yargs' strict parse with the gadget's params as flags (and --help with its fields). */
async function strictParse(image: string, argv: string[], first: Record<string, unknown>, operators: Record<string, Record<string, unknown>>, prepared: PreparedGadget) {
  const { parseWithParams } = await import('./gadget-flags.js');
  const description = describeGadget(prepared, runConfigFromFlags(image, { ...first, fields: undefined, filter: [], sort: undefined }, {}, operators));
  return parseWithParams(argv, image, description);
}
