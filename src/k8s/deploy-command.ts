/** What `ig deploy` and `ig undeploy` do with their flags (the yargs modules are in src/cli/commands/). */
import { stringify } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';
import { IgError } from '../errors.js';
import { packageVersion } from '../paths.js';
import { splitCommaList } from '../text/comma-list.js';
import { loadKubeConfig } from './kubeconfig.js';
import { agentManifests, manifestList, DEFAULT_NAMESPACE, type AgentManifestOptions } from './manifests.js';
import { applyManifests, deleteAgent, waitForAgents, type Progress } from './deploy.js';

export interface DeployArgs {
  image?: string;
  'gadget-namespace': string;
  'image-pull-policy': 'Always' | 'IfNotPresent' | 'Never';
  'node-selector'?: string;
  capabilities?: string;
  'seccomp-profile': string;
  'print-only': boolean;
  output?: 'yaml' | 'json';
  wait: boolean;
  timeout: number;
  kubeconfig?: string;
  context?: string;
}

const stderrProgress: Progress = { line: (t) => process.stderr.write(`${t}\n`) };

function parseNodeSelector(v: string | undefined): Record<string, string> | undefined {
  if (!v) return undefined;
  const out: Record<string, string> = {};
  for (const part of splitCommaList(v).map((p) => p.trim()).filter((p) => p !== '')) {
    const i = part.indexOf('=');
    if (i <= 0) throw new IgError('usage', `--node-selector "${part}" is not key=value`, { hint: 'e.g. --node-selector kubernetes.io/arch=amd64,pool=tracing' });
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

/** YAML documents separated by ---, as kubectl apply -f takes them; or one JSON v1 List. */
function printManifests(objs: KubernetesObject[], format: 'yaml' | 'json'): string {
  if (format === 'json') return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }, null, 2)}\n`;
  return objs.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

function manifestOptions(a: DeployArgs): AgentManifestOptions {
  if (!a.image) {
    throw new IgError('usage', 'ig deploy needs --image: the agent image the nodes will pull', {
      hint: 'build it with `npm run build:image`, push it (skopeo copy oci:dist/image:ig:VERSION docker://REGISTRY/ig:VERSION) and pass --image REGISTRY/ig:VERSION',
    });
  }
  return {
    image: a.image,
    namespace: a['gadget-namespace'],
    imagePullPolicy: a['image-pull-policy'],
    nodeSelector: parseNodeSelector(a['node-selector']),
    capabilities: a.capabilities === undefined ? undefined : splitCommaList(a.capabilities).map((c) => c.trim().toUpperCase()).filter((c) => c !== ''),
    seccompProfile: a['seccomp-profile'],
    version: packageVersion(),
  };
}

export async function runDeploy(a: DeployArgs): Promise<void> {
  const m = agentManifests(manifestOptions(a));
  if (a['print-only'] || a.output) {
    process.stdout.write(printManifests(manifestList(m), a.output ?? 'yaml'));
    return;
  }
  const kc = await loadKubeConfig({ kubeconfig: a.kubeconfig, context: a.context });
  stderrProgress.line(`deploying the ig agent (${a.image}) to ${kc.getCurrentCluster()!.server}, namespace ${a['gadget-namespace']}`);
  await applyManifests(kc, m, stderrProgress);
  if (a.wait) await waitForAgents(kc, a['gadget-namespace'] ?? DEFAULT_NAMESPACE, a.timeout, stderrProgress);
}

export async function runUndeploy(a: Pick<DeployArgs, 'gadget-namespace' | 'wait' | 'timeout' | 'kubeconfig' | 'context'>): Promise<void> {
  const kc = await loadKubeConfig({ kubeconfig: a.kubeconfig, context: a.context });
  await deleteAgent(kc, a['gadget-namespace'], { wait: a.wait, timeoutSec: a.timeout }, stderrProgress);
}
