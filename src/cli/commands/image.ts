import type { CommandModule } from 'yargs';
// Placeholder: owned by the helper implementing this command.
export const imageCommand: CommandModule = { command: 'image', describe: 'not implemented yet', handler: () => { throw new Error('not implemented'); } };
export const buildAliasCommand: CommandModule = { command: 'buildAlias', describe: 'not implemented yet', handler: () => { throw new Error('not implemented'); } };
