import { IgError } from '../errors.js';
import type { ContainerInfo, ContainerSelector, LabelRequirement, NameFilter } from './types.js';
import { splitCommaList } from '../text/comma-list.js';

/** The selection as the flags give it (comma lists, `!` excludes); parseSelector checks and reads it. */
export interface SelectionFlags {
  containername?: string;
  'k8s-namespace'?: string;
  'k8s-podname'?: string;
  'k8s-containername'?: string;
  'k8s-selector'?: string;
  host?: boolean;
}

function flagValue(args: Record<string, unknown>, key: string): string | undefined {
  const v = args[key];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String).join(',');
  if (typeof v === 'boolean') return undefined;
  return String(v);
}


function parseNameList(flag: string, raw: string): NameFilter {
  const f: NameFilter = { include: [], exclude: [] };
  for (const part0 of splitCommaList(raw)) {
    const part = part0.trim();
    const neg = part.startsWith('!');
    const name = neg ? part.slice(1).trim() : part;
    if (name === '') {
      throw new IgError('usage', `--${flag} "${raw}": empty name ${neg ? 'after "!"' : 'in the list'}`, {
        hint: `give a comma list of names, "!" before a name excludes it: --${flag} a,b or --${flag} '!a'`,
      });
    }
    if (/\s/.test(name) || name.includes('!')) {
      throw new IgError('usage', `--${flag} "${raw}": "${part}" is not a valid name`, {
        hint: `names have no spaces; "!" may only start a name (--${flag} '!name' excludes it)`,
      });
    }
    (neg ? f.exclude : f.include).push(name);
  }
  return f;
}

// Kubernetes label syntax: optional DNS-subdomain prefix + "/" + name (63 chars of [A-Za-z0-9-_.], alnum at ends).
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)$/;

function validKey(k: string): boolean {
  const slash = k.indexOf('/');
  if (slash < 0) return LABEL_NAME.test(k);
  return LABEL_PREFIX.test(k.slice(0, slash)) && LABEL_NAME.test(k.slice(slash + 1));
}

function parseLabels(raw: string): LabelRequirement[] {
  const reqs: LabelRequirement[] = [];
  const bad = (part: string, why: string): never => {
    throw new IgError('usage', `--k8s-selector "${raw}": "${part}" ${why}`, {
      hint: "use key=value, key!=value (or '!key=value'), key (has the label) or '!key' (lacks it), comma separated",
    });
  };
  for (const part0 of splitCommaList(raw)) {
    const part = part0.trim();
    if (part === '') bad(part0, 'is empty');
    let neg = false;
    let body = part;
    if (body.startsWith('!')) {
      neg = true;
      body = body.slice(1).trim();
    }
    let key: string;
    let value = '';
    let op: LabelRequirement['op'];
    const m = /^([^=!]*)(!=|==|=)(.*)$/.exec(body);
    if (m) {
      key = m[1]!.trim();
      value = m[3]!.trim();
      const isNe = m[2] === '!=';
      if (neg && isNe) bad(part, 'negates twice');
      op = neg || isNe ? '!=' : '=';
      if (!LABEL_VALUE.test(value)) bad(part, `has an invalid label value "${value}"`);
    } else {
      key = body;
      op = neg ? '!exists' : 'exists';
    }
    if (key === '') bad(part, 'has no key');
    if (!validKey(key)) bad(part, `has an invalid label key "${key}"`);
    reqs.push({ key, op, value });
  }
  return reqs;
}

/** Read the selection flags; null when nothing narrows the selection (everything, host included). */
export function parseSelector(flags: SelectionFlags | Record<string, unknown>): ContainerSelector | null {
  const args = flags as Record<string, unknown>;
  const sel: ContainerSelector = { host: args.host === true || args.host === 'true' };
  let any = false;
  const name = (flag: string, into: 'containerName' | 'k8sNamespace' | 'k8sPodName' | 'k8sContainerName') => {
    const v = flagValue(args, flag);
    if (v === undefined) return;
    sel[into] = parseNameList(flag, v);
    any = true;
  };
  name('containername', 'containerName');
  name('k8s-namespace', 'k8sNamespace');
  name('k8s-podname', 'k8sPodName');
  name('k8s-containername', 'k8sContainerName');
  const l = flagValue(args, 'k8s-selector');
  if (l !== undefined) {
    sel.labels = parseLabels(l);
    any = true;
  }
  // --host=false alone: every container and nothing else (IG's default view)
  if (!any && (args.host === false || args.host === 'false')) return sel;
  return any ? sel : null;
}

function nameOk(f: NameFilter | undefined, ...values: string[]): boolean {
  if (!f) return true;
  const vals = values.filter((v) => v !== '');
  if (f.exclude.some((x) => vals.includes(x))) return false;
  if (f.include.length === 0) return true;
  return f.include.some((x) => vals.includes(x));
}

function labelsOk(reqs: LabelRequirement[] | undefined, labels: Record<string, string>): boolean {
  if (!reqs) return true;
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.op) {
      case '=':
        if (!has || labels[r.key] !== r.value) return false;
        break;
      case '!=':
        if (has && labels[r.key] === r.value) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** Does an event from container `c` (undefined: the host) pass the selection? */
export function matches(c: ContainerInfo | undefined, sel: ContainerSelector): boolean {
  if (!c) return sel.host;
  const k = c.k8s;
  return (
    nameOk(sel.containerName, c.name, k?.containerName ?? '') &&
    nameOk(sel.k8sNamespace, k?.namespace ?? '') &&
    nameOk(sel.k8sPodName, k?.podName ?? '') &&
    nameOk(sel.k8sContainerName, k?.containerName ?? '') &&
    labelsOk(sel.labels, k?.podLabels ?? {})
  );
}
