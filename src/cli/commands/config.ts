import type { CommandModule } from 'yargs';

/** `ig config view`: the defaults the config files set, and which file set each (as IG's `ig config view`). */
export const configCommand: CommandModule = {
  command: 'config <action>',
  describe: 'show the defaults read from config files: ig config view',
  builder: (y) => y.positional('action', { type: 'string', choices: ['view'], demandOption: true }),
  handler: async (a) => {
    const { loadConfig, configPaths } = await import('../config-file.js');
    const { default: YAML } = await import('yaml');
    const cfg = loadConfig(process.argv.slice(2));
    if (cfg.files.length === 0) {
      process.stdout.write(`# no config file (looked for ${a.config ? String(a.config) : configPaths().join(', ')})\n`);
      return;
    }
    for (const file of cfg.files) {
      const mine = Object.fromEntries(Object.entries(cfg.values).filter(([k]) => cfg.from[k] === file));
      process.stdout.write(`# ${file}\n${Object.keys(mine).length ? YAML.stringify(mine) : '# (nothing that is not overridden)\n'}`);
    }
  },
};
