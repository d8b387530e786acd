import type { CommandModule } from 'yargs';
import { clusterOptions } from './deploy.js';

interface UndeployArgs { 'gadget-namespace': string; wait: boolean; timeout: number; kubeconfig?: string; context?: string }

export const undeployCommand: CommandModule<object, UndeployArgs> = {
  command: 'undeploy',
  describe: 'remove what ig deploy created (the DaemonSet first: each agent releases its kernel objects on SIGTERM)',
  builder: (y) => y.options(clusterOptions),
  handler: async (a) => {
    const { runUndeploy } = await import('../../k8s/deploy-command.js');
    await runUndeploy(a);
  },
};
