import type { CommandModule } from 'yargs';
import { runOptions } from '../run/flags.js';

export const runCommand: CommandModule = {
  command: 'run <image>',
  describe: 'run a gadget: pull if needed, load, attach, print events until Ctrl-C or --timeout',
  builder: (y) => y.options(runOptions).strict(false),
  // `ig run` is routed before yargs' own help (see cli/main.ts) so that the image's
  // params can become flags; this handler only runs for `ig --help`-style listings.
  handler: async () => {
    const { runMain } = await import('../run/run-main.js');
    await runMain(process.argv.slice(2));
  },
};
