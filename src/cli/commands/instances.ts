import type { CommandModule, Options } from 'yargs';
import { outputOption } from '../options.js';

/** How to reach the daemons; the default is the local daemon's socket, as in IG. */
const remoteOptions = {
  'remote-address': { type: 'string', default: 'unix:///var/run/ig/ig.socket', describe: 'ig daemons: comma list of unix:///path or tcp://HOST:PORT' },
  'tls-cert-file': { type: 'string', describe: 'client certificate (PEM)' },
  'tls-key-file': { type: 'string', describe: 'client key (PEM)' },
  'tls-ca-file': { type: 'string', describe: 'CA that signed the daemon\'s certificate (PEM); turns TLS on' },
} satisfies Record<string, Options>;

export const listCommand: CommandModule = {
  command: 'list',
  aliases: ['l', 'ls', 'ps'], // as IG's gadgetctl
  describe: 'list the headless gadget instances (ig run --detach) of ig daemons',
  builder: (y) => y.options(remoteOptions).option('output', outputOption(['columns', 'json'], 'columns')).strict(),
  handler: async (args) => (await import('../actions/instances.js')).listAction(args as Record<string, unknown>),
};

export const attachCommand: CommandModule = {
  command: 'attach <instance>',
  describe: 'show a headless gadget instance\'s events (its buffered ones first, then live) until Ctrl-C; the instance goes on',
  builder: (y) =>
    y
      .positional('instance', { type: 'string', describe: 'name, id or id prefix' })
      .options(remoteOptions)
      .option('output', outputOption(['columns', 'json', 'jsonpretty', 'yaml'], 'columns'))
      .option('fields', { type: 'string', describe: 'fields to show: "a,b,c" or "+x,-y"' })
      .option('replay', { type: 'boolean', default: true, describe: 'first show the events the daemon buffered (--no-replay: only new ones)' })
      .strict(),
  handler: async (args) => (await import('../actions/instances.js')).attachAction(args as Record<string, unknown>),
};

export const deleteCommand: CommandModule = {
  command: 'delete <instance..>',
  aliases: ['d', 'del', 'rm'], // d, del as IG's gadgetctl
  describe: 'stop and remove headless gadget instances (by name, id or id prefix)',
  builder: (y) => y.positional('instance', { type: 'string', array: true, describe: 'names, ids or id prefixes' }).options(remoteOptions).strict(),
  handler: async (args) => (await import('../actions/instances.js')).deleteAction(args as Record<string, unknown>),
};
