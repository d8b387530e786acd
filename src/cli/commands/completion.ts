import type { CommandModule } from 'yargs';

/**
 * `ig completion`: the script is yargs' (bash by default; zsh or fish when $SHELL is one), which
 * calls back `ig --get-yargs-completions …`; see cli/completion.ts for what ig adds to yargs' own.
 * Declared here for --help; cli/main.ts registers it with yargs' .completion().
 */
export const completionCommand: CommandModule = {
  command: 'completion',
  describe: 'print the shell completion script (bash; zsh or fish by $SHELL): ig completion >> ~/.bashrc',
  handler: () => {},
};
