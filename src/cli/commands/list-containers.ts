import type { CommandModule } from 'yargs';
// Placeholder: owned by the helper implementing this command.
export const listContainersCommand: CommandModule = { command: 'listContainers', describe: 'not implemented yet', handler: () => { throw new Error('not implemented'); } };
