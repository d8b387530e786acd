import type { CommandModule } from 'yargs';
import type { DeployArgs } from '../../k8s/deploy-command.js';

/** Flags both deploy and undeploy take: which cluster, which namespace, how long to wait. */
export const clusterOptions = {
  'gadget-namespace': { type: 'string', default: 'ig', describe: 'namespace of the agent' },
  wait: { type: 'boolean', default: true, describe: 'wait until every node\'s agent is ready (deploy) or gone (undeploy); --no-wait to return at once' },
  timeout: { type: 'number', default: 120, describe: 'seconds to wait' },
  kubeconfig: { type: 'string', describe: 'kubeconfig file (default $KUBECONFIG, ~/.kube/config, or the in-cluster ServiceAccount)' },
  context: { type: 'string', describe: 'kubeconfig context (default the current one)' },
} as const;

export const deployCommand: CommandModule<object, DeployArgs> = {
  command: 'deploy',
  describe: 'run ig as the node agent on every node of a Kubernetes cluster (namespace, RBAC, DaemonSet)',
  builder: (y) =>
    y
      .option('image', { type: 'string', describe: 'agent image the nodes pull (npm run build:image, pushed to your registry)' })
      .option('image-pull-policy', { type: 'string', choices: ['Always', 'IfNotPresent', 'Never'] as const, default: 'Always' as const, describe: 'pull policy of the agent image' })
      .option('node-selector', { type: 'string', describe: 'only nodes with these labels: key=value[,key=value]' })
      .option('capabilities', { type: 'string', describe: 'capabilities of the agent (default BPF,PERFMON,SYS_PTRACE,SYS_ADMIN)' })
      .option('seccomp-profile', { type: 'string', default: 'Unconfined', describe: 'Unconfined, RuntimeDefault or Localhost/PATH' })
      .option('print-only', { type: 'boolean', default: false, describe: 'print the manifests (YAML) instead of applying them, e.g. for GitOps' })
      .option('output', { alias: 'o', type: 'string', choices: ['yaml', 'json'] as const, describe: 'print the manifests in this format (implies --print-only)' })
      .options(clusterOptions)
      .example('ig deploy --image registry.example.com/ig:0.1.0', 'deploy and wait for every node')
      .example('ig deploy --image registry.example.com/ig:0.1.0 --print-only > ig.yaml', 'manifests for GitOps'),
  handler: async (a) => {
    const { runDeploy } = await import('../../k8s/deploy-command.js');
    await runDeploy(a);
  },
};
