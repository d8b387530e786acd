import type { CommandModule } from 'yargs';
import { containerOptions } from '../container-options.js';
import { outputOption } from '../options.js';

export const listContainersCommand: CommandModule = {
  command: 'list-containers',
  describe: 'list the containers on this node (containerd/CRI, cri-o, podman, docker)',
  builder: (y) =>
    y
      .options(containerOptions)
      .option('output', outputOption(['columns', 'json', 'jsonpretty'], 'columns'))
      .option('watch', { alias: 'w', type: 'boolean', default: false, describe: 'keep running and print containers as they are added and removed' })
      .option('no-trunc', { type: 'boolean', default: false, describe: 'show full container ids' }),
  handler: async (args) => {
    const { listContainers } = await import('../actions/list-containers.js');
    await listContainers(args as Record<string, unknown>);
  },
};
