import type { CommandModule } from 'yargs';
// Placeholder: owned by the helper implementing this command.
export const loginCommand: CommandModule = { command: 'login', describe: 'not implemented yet', handler: () => { throw new Error('not implemented'); } };
export const logoutCommand: CommandModule = { command: 'logout', describe: 'not implemented yet', handler: () => { throw new Error('not implemented'); } };
