import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../options.js';
import { login, logout } from '../actions/login.js';

type A = GlobalArgs & Record<string, unknown>;

export const loginCommand: CommandModule<GlobalArgs, A> = {
  command: 'login <registry>',
  describe: 'Log in to a registry (credentials go to the --authfile, REGISTRY_AUTH_FILE or IG\'s config.json)',
  builder: (y) =>
    y
      .positional('registry', { type: 'string', demandOption: true })
      .option('username', { alias: 'u', type: 'string', describe: 'user name' })
      .option('password', { alias: 'p', type: 'string', describe: 'password (prefer --password-stdin)' })
      .option('password-stdin', { type: 'boolean', default: false, describe: 'read the password from standard input' }) as never,
  handler: (a) => login(a),
};

export const logoutCommand: CommandModule<GlobalArgs, A> = {
  command: 'logout <registry>',
  describe: 'Remove the stored credentials of a registry',
  builder: (y) => y.positional('registry', { type: 'string', demandOption: true }) as never,
  handler: (a) => logout(a),
};
