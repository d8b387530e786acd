import yargs, { type Argv, type CommandModule } from 'yargs';
import { globalOptions } from './options.js';
import { handleError } from './errors.js';
import { mark } from '../timings.js';
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

export async function main(argv: string[]): Promise<void> {
  mark('cli');
  // `ig image inspect X | head`: the reader went away, which is not an error of ig's
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  try {
    // `ig run IMAGE` learns its flags from the image, so it parses on its own.
    if (argv[0] === 'run') {
      const { runMain } = await import('./run/run-main.js');
      await runMain(argv);
      return;
    }
    if (argv[0] === '--get-yargs-completions') {
      // what the completion script asks: words after `ig`, the last one being completed
      const words = argv.slice(2);
      const { commands } = await import('./commands/index.js');
      const { complete } = await import('./completion.js');
      const list = await complete(words, commands, /zsh/.test(process.env.SHELL ?? ''));
      process.stdout.write(list.map((w) => `${w}\n`).join(''));
      return;
    }
    // Command modules (and what they pull in: registry client, gRPC, tar) load only now, so
    // `ig run` above starts without them.
    const { commands } = await import('./commands/index.js');
    await parser(argv, commands).parseAsync();
  } catch (err) {
    process.exitCode = handleError(err);
  }
}
