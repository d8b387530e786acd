import yargs, { type Argv, type CommandModule } from 'yargs';
import { globalOptions } from './options.js';
import { handleError } from './errors.js';
import { mark } from '../timings.js';

/** Build the parser; exported so tests can parse without spawning a process. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function parser(argv: string[], commands: CommandModule<any, any>[]): Argv {
  let y = yargs(argv)
    .scriptName('ig')
    .usage('ig: run eBPF gadgets shipped as OCI images\n\nUsage: $0 <command> [flags]')
    .options(globalOptions)
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
  for (const c of commands) y = y.command(c);
  return y;
}

export async function main(argv: string[]): Promise<void> {
  mark('cli');
  try {
    // `ig run IMAGE` learns its flags from the image, so it parses on its own.
    if (argv[0] === 'run') {
      const { runMain } = await import('./run/run-main.js');
      await runMain(argv);
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
