/**
 * The full CLI's parser (yargs) for every command but `ig run`, which parses on its own
 * (cli/run/): loaded only when such a command runs, so `ig run` starts without yargs.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { globalOptions } from './options.js';
import { runtimeOptions } from './container-options.js';
import { configFor, loadConfig } from './config-file.js';

/** Build the parser; exported so tests can parse without spawning a process. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function parser(argv: string[], commands: CommandModule<any, any>[]): Argv {
  // Only flags every command that has them reads the same way come from the config file here;
  // `ig run`'s own (output, fields, host, …) are applied by its parser (cli/run/gadget-flags.ts).
  const defaults = configFor(loadConfig(argv), [...Object.keys(globalOptions), ...Object.keys(runtimeOptions)]);
  let y = yargs(argv)
    .scriptName('ig')
    .usage('ig: run eBPF gadgets shipped as OCI images\n\nUsage: $0 <command> [flags]')
    .options(globalOptions)
    .config(defaults)
    .strictCommands()
    .demandCommand(1, 'name a command, e.g. `ig run trace_open`')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(120, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new (class UsageError extends Error {})(msg);
    });
  for (const c of commands) {
    if (c.command === 'completion') continue; // yargs' own, below
    y = y.command(c);
  }
  // `ig completion` prints yargs' script; its `--get-yargs-completions` calls are answered in main()
  const completion = commands.find((c) => c.command === 'completion');
  if (completion) y = y.completion('completion', String(completion.describe));
  return y;
}
