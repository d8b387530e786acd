import type { CommandModule } from 'yargs';
import { readFileSync } from 'node:fs';

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'print the version of ig and of the libbpf it embeds',
  handler: async () => {
    const { packageRoot } = await import('../../paths.js');
    const pkg = JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as { version: string };
    let libbpf = 'not built';
    try {
      const { native } = await import('../../runtime/native.js');
      libbpf = native().libbpfVersion();
    } catch {
      /* the addon is optional for `version` */
    }
    process.stdout.write(`ig v${pkg.version} (libbpf ${libbpf}, node ${process.version})\n`);
  },
};
