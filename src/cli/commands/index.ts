import type { CommandModule } from 'yargs';
import { runCommand } from './run.js';
import { imageCommand, buildAliasCommand } from './image.js';
import { loginCommand, logoutCommand } from './login.js';
import { listContainersCommand } from './list-containers.js';
import { versionCommand } from './version.js';
import { daemonCommand } from './daemon.js';
import { listCommand, attachCommand, deleteCommand } from './instances.js';
import { deployCommand } from './deploy.js';
import { undeployCommand } from './undeploy.js';
import { configCommand } from './config.js';
import { completionCommand } from './completion.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  runCommand,
  imageCommand,
  buildAliasCommand,
  loginCommand,
  logoutCommand,
  listContainersCommand,
  versionCommand,
  daemonCommand,
  listCommand,
  attachCommand,
  deleteCommand,
  deployCommand,
  undeployCommand,
  configCommand,
  completionCommand,
];
