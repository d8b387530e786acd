/**
 * What a user is told when a container selection matches nothing yet: which runtimes were
 * asked and what each answered (reached, or why not), that ig keeps waiting for the container,
 * and — for --k8s-* — whether this machine has Kubernetes at all. Also, without a selection,
 * when runtimes named with -r cannot be reached. Plain text for stderr; nothing is ever silent.
 */
import type { RuntimeProbe } from '../containers/types.js';
import type { SelectionFlags } from '../containers/selector.js';

const K8S_FLAGS = ['k8s-namespace', 'k8s-podname', 'k8s-containername', 'k8s-selector'] as const;
const FLAG_NAMES: Record<string, string> = { containername: '-c', 'k8s-namespace': '--k8s-namespace', 'k8s-podname': '--k8s-podname', 'k8s-containername': '--k8s-containername', 'k8s-selector': '--k8s-selector' };

export interface NoticeFacts {
  selection: SelectionFlags;
  probes: RuntimeProbe[];
  /** containers each reached runtime has now */
  containers: Map<string, number>;
  /** containers passing the selection now */
  matching: number;
  /** some container belongs to a pod (CRI labels) */
  pods: boolean;
  /** a kubeconfig or an in-cluster account exists */
  kubeconfig: boolean;
  runtimesNamed: boolean;
}

function what(sel: SelectionFlags): string {
  return Object.entries(FLAG_NAMES)
    .filter(([k]) => sel[k as keyof SelectionFlags] !== undefined && sel[k as keyof SelectionFlags] !== '')
    .map(([k, f]) => `${f} ${String(sel[k as keyof SelectionFlags])}`)
    .join(' ');
}

function probeLines(f: NoticeFacts): string {
  if (f.probes.length === 0) return '  (no container runtime was asked: --runtimes names none)\n';
  const w = Math.max(...f.probes.map((p) => `${p.runtime} ${p.socket}`.length));
  return f.probes
    .map((p) => `  ${`${p.runtime} ${p.socket}`.padEnd(w)}  ${p.reached ? `reached, ${f.containers.get(p.runtime) ?? 0} container${f.containers.get(p.runtime) === 1 ? '' : 's'}` : `not reachable: ${p.why}`}\n`)
    .join('');
}

export function selectionNotice(f: NoticeFacts): string | undefined {
  const selected = what(f.selection);
  const k8s = K8S_FLAGS.filter((k) => f.selection[k] !== undefined && f.selection[k] !== '');
  if (selected && f.matching === 0) {
    let text = `warning: no container matches ${selected} yet; ig is waiting for it (Ctrl-C to stop). Container runtimes asked:\n${probeLines(f)}`;
    if (!f.probes.some((p) => p.reached) && f.probes.length) text += `hint: start a container runtime, or name where its socket is (${f.probes.map((p) => p.flag).join(', ')})\n`;
    if (k8s.length && !f.pods && !f.kubeconfig) {
      text += `warning: this machine shows no Kubernetes: no container belongs to a pod and no kubeconfig (KUBECONFIG, ~/.kube/config) or in-cluster account exists, so ${k8s.map((k) => FLAG_NAMES[k]).join(', ')} can match nothing here\n`;
    }
    return text;
  }
  if (!selected && f.selection.host === false && f.matching === 0) {
    return `warning: --host=false shows containers only, and none runs yet; ig is waiting for one (Ctrl-C to stop). Container runtimes asked:\n${probeLines(f)}`;
  }
  if (!selected && f.runtimesNamed && f.probes.some((p) => !p.reached)) {
    return `warning: not every runtime named with -r can be reached; events of their containers will show without container fields:\n${probeLines(f)}`;
  }
  return undefined;
}
