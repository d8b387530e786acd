import { handleError } from './errors.js';
import { mark } from '../timings.js';
import { forgetLauncherTunables, keepYoungGenerationSmall } from '../runtime/resident-memory.js';

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
      // memory a long run does not need: see runtime/resident-memory.ts
      forgetLauncherTunables();
      keepYoungGenerationSmall();
      const { runMain } = await import('./run/run-main.js');
      await runMain(argv);
      exitNow();
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
    // a node agent streams as many events as a local run: see runtime/resident-memory.ts
    if (argv[0] === 'daemon') keepYoungGenerationSmall();
    // Command modules (and what they pull in: registry client, gRPC, tar) load only now, so
    // `ig run` above starts without them.
    const { commands } = await import('./commands/index.js');
    const { parser } = await import('./parser.js');
    await parser(argv, commands).parseAsync();
  } catch (err) {
    process.exitCode = handleError(err);
  }
}

/**
 * `ig run` is over: its gadget closed, its output written. Exiting here skips node's teardown of its
 * environment and of the V8 heap, which a process about to end does not need: ~5-10 ms, most of a
 * snapshotter's time after its table (bench/README.md "Start-up, round ten"). Not while stdout or
 * stderr still hold data for a slow reader; then node ends as it always does, once they are written.
 */
function exitNow(): void {
  if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) return;
  process.exit();
}
