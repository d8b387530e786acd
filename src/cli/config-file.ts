/**
 * Defaults from configuration files, under the flags: `/etc/ig/config.yaml` (the machine's),
 * then Inspektor Gadget's `~/.ig/config.yaml`, then `~/.config/ig/config.yaml` (the user's),
 * each overriding the one before; `--config FILE` (or IG_CONFIG) reads that file alone. Keys
 * are flag names (`output: json`, `host: false`, `runtimes: containerd`); IG's nesting under
 * `operator.<name>.<flag>` is read too, so an IG config file works as it is.
 * Precedence, as in IG: flags > environment > config file > built-in defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { IgError } from '../errors.js';

export interface LoadedConfig {
  /** flag name → value */
  values: Record<string, unknown>;
  /** where each key came from */
  from: Record<string, string>;
  files: string[];
  /** IG's `operator.<name>:` sections as written (e.g. otel-metrics.exporters), later files winning per key */
  operators: Record<string, Record<string, unknown>>;
}

export function configPaths(): string[] {
  const home = process.env.HOME || os.homedir();
  return ['/etc/ig/config.yaml', path.join(home, '.ig', 'config.yaml'), path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), 'ig', 'config.yaml')];
}

/** `--config FILE` / `--config=FILE` as typed (read before any parser exists). */
function configFlag(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--config') return argv[i + 1];
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return process.env.IG_CONFIG || undefined;
}

export function loadConfig(argv: readonly string[] = []): LoadedConfig {
  const explicit = configFlag(argv);
  const files = explicit ? [explicit] : configPaths().filter((p) => existsSync(p));
  if (explicit && !existsSync(explicit)) {
    throw new IgError('usage', `config file ${explicit} does not exist`, { hint: 'name an existing YAML file with --config, or leave it out to use ~/.config/ig/config.yaml' });
  }
  const values: Record<string, unknown> = {};
  const from: Record<string, string> = {};
  const operators: Record<string, Record<string, unknown>> = {};
  for (const file of files) {
    const doc = readConfig(file);
    for (const [k, v] of Object.entries(flatten(doc, file))) {
      values[k] = v;
      from[k] = file;
    }
    const ops = doc.operator;
    if (ops && typeof ops === 'object' && !Array.isArray(ops)) {
      for (const [name, section] of Object.entries(ops as Record<string, unknown>)) {
        if (section && typeof section === 'object' && !Array.isArray(section)) operators[name] = { ...operators[name], ...(section as Record<string, unknown>) };
      }
    }
  }
  return { values, from, files, operators };
}

function readConfig(file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new IgError('usage', `config file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { hint: 'fix it, or move it away' });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new IgError('usage', `config file ${file} must be a mapping of flag names to values (e.g. "output: json")`, { hint: 'fix it, or move it away' });
  }
  return doc as Record<string, unknown>;
}

const REPEATED = new Set(['public-key', 'filter', 'F']);

/** `operator: {localmanager: {runtimes: x}}` → `runtimes: x` (IG's layout); other keys as they are. */
function flatten(doc: Record<string, unknown>, file: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if ((k === 'operator' || k === 'runtime') && v && typeof v === 'object' && !Array.isArray(v)) {
      for (const section of Object.values(v as Record<string, unknown>)) {
        if (!section || typeof section !== 'object' || Array.isArray(section)) continue;
        // plain values are flags; mappings (otel exporters) are read by name where they are used
        for (const [fk, fv] of Object.entries(section as Record<string, unknown>)) if (fv === null || typeof fv !== 'object' || Array.isArray(fv)) out[fk] = fv;
      }
      continue;
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      throw new IgError('usage', `config file ${file}: "${k}" is a mapping; keys are flag names with plain values`, { hint: `e.g. "output: json"; see ig config view` });
    }
    // a list is a comma list, except for flags given many times
    out[k] = Array.isArray(v) && !REPEATED.has(k) ? v.map(String).join(',') : v;
  }
  return out;
}

/** The part of a config that names options a parser knows (others belong to other commands). */
export function configFor(cfg: LoadedConfig, known: Iterable<string>): Record<string, unknown> {
  const keys = new Set(known);
  return Object.fromEntries(Object.entries(cfg.values).filter(([k]) => keys.has(k)));
}
