/**
 * `ig run IMAGE [flags]` parsed without yargs, for the plain command lines nearly every run has:
 * yargs and the YAML config reader take about a third of ig's start-up. Its tables are the ones
 * yargs reads (flags.ts, options.ts, container-options.ts), so both know the same flags.
 *
 * It only ever says "these are the flags" when yargs would say the same; for anything it is not
 * sure of (help, a config file, remote and cluster runs, short-flag bundles, a flag given twice,
 * a value yargs would read otherwise, an unknown flag or a bad choice) it answers undefined and
 * the full parser decides — with its errors, which stay the reference.
 * test/unit/run-fast-flags.test.ts checks it against yargs on many command lines.
 */
import { existsSync } from 'node:fs';
import { globalOptions } from '../options.js';
import { runOptions } from './flags.js';
import { containerOptions } from '../container-options.js';
import { configFlag, configPaths } from '../config-paths.js';
import type { ParamSpec } from '../../gadget/params.js';

interface FlagDef {
  name: string;
  type: 'string' | 'boolean';
  array: boolean;
  choices?: readonly string[];
  default?: unknown;
}

/** Flags that change where or whether the gadget runs here: the full parser handles them. */
const TO_FULL_PARSER = new Set([
  'help', 'config', 'remote-address', 'k8s', 'node', 'all-namespaces', 'gadget-namespace', 'kubeconfig', 'context',
  'detach', 'name', 'tags', 'tls-cert-file', 'tls-key-file', 'tls-ca-file',
]);

type OptionTable = Record<string, { type?: string; alias?: string | readonly string[]; array?: boolean; choices?: readonly string[]; default?: unknown }>;

type FlagTable = { long: Map<string, FlagDef>; short: Map<string, FlagDef>; all: FlagDef[] };
// made once, by the snapshot's warm-up (src/snapshot/warm-up.ts), so a start finds it in the heap; read only
let table: FlagTable | undefined;

function flagTable(): FlagTable {
  return (table ??= makeFlagTable());
}

function makeFlagTable(): FlagTable {
  const long = new Map<string, FlagDef>();
  const short = new Map<string, FlagDef>();
  const all: FlagDef[] = [];
  for (const [name, o] of Object.entries({ ...globalOptions, ...runOptions, ...containerOptions } as OptionTable)) {
    const def: FlagDef = { name, type: o.type === 'boolean' ? 'boolean' : 'string', array: o.array === true, choices: o.choices, default: o.default };
    all.push(def);
    long.set(name, def);
    const aliases = o.alias === undefined ? [] : typeof o.alias === 'string' ? [o.alias] : o.alias;
    for (const a of aliases) (a.length === 1 ? short : long).set(a, def);
  }
  return { long, short, all };
}

/** A flag the tables do not know: maybe one of the gadget's params, known once the image is read. */
interface OtherFlag {
  name: string;
  /** `--name=value` */
  inline?: string;
  /** the word after `--name` (yargs takes it as the value of a flag it does not know) */
  next?: string;
}

export interface FastRun {
  image: string;
  /** the flags as yargs would have them (canonical names, defaults filled in) */
  args: Record<string, unknown>;
  others: OtherFlag[];
}

/** yargs reads a number-looking positional as a number: leave those to it. */
const NUMERIC = /^[-+]?(0x[0-9a-f]+|\d*\.?\d+(e[-+]?\d+)?)$/i;
const PLAIN_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** `argv` as run-main has it (`run`, the image, flags; dash values already joined). */
export function fastRunFlags(argv: readonly string[]): FastRun | undefined {
  if (argv[0] !== 'run') return undefined;
  const image = argv[1];
  if (image === undefined || image.startsWith('-') || NUMERIC.test(image)) return undefined;
  if (configFlag(argv) !== undefined || configPaths().some((p) => existsSync(p))) return undefined;
  const { long, short, all } = flagTable();
  const args: Record<string, unknown> = {};
  const others: OtherFlag[] = [];
  for (let i = 2; i < argv.length; i++) {
    const word = argv[i]!;
    const next = argv[i + 1];
    let name: string;
    let inline: string | undefined;
    let def: FlagDef | undefined;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      name = eq < 0 ? word.slice(2) : word.slice(2, eq);
      inline = eq < 0 ? undefined : word.slice(eq + 1);
      if (!PLAIN_NAME.test(name) || TO_FULL_PARSER.has(name)) return undefined;
      def = long.get(name);
      if (!def && name.startsWith('no-') && inline === undefined) {
        const negated = long.get(name.slice(3));
        if (negated) {
          if (negated.type !== 'boolean' || TO_FULL_PARSER.has(negated.name) || negated.name in args) return undefined;
          args[negated.name] = false;
          continue;
        }
      }
    } else if (/^-[a-zA-Z](=|$)/.test(word)) {
      name = word[1]!;
      inline = word.length > 2 ? word.slice(3) : undefined;
      def = short.get(name);
      if (!def) return undefined; // -h, bundles, unknown short flags
    } else {
      return undefined; // a positional after the image, `--`, `-`
    }
    if (!def) {
      if (others.some((o) => o.name === name)) return undefined;
      const o: OtherFlag = { name, inline };
      if (inline === undefined && next !== undefined && !next.startsWith('-')) {
        o.next = next;
        i++;
      }
      others.push(o);
      continue;
    }
    if (TO_FULL_PARSER.has(def.name)) return undefined;
    if (def.name in args && !def.array) return undefined; // given twice: yargs makes a list
    if (def.type === 'boolean') {
      if (inline === undefined) {
        if (next === 'true' || next === 'false') return undefined; // yargs takes it as the value
        args[def.name] = true;
      } else if (inline === 'true' || inline === 'false') {
        args[def.name] = inline === 'true';
      } else {
        return undefined;
      }
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (next === undefined || next.startsWith('-')) return undefined;
      value = next;
      i++;
    }
    if (def.choices && !def.choices.includes(value)) return undefined; // yargs says what the choices are
    if (def.array) {
      // yargs keeps reading words into a list flag until the next flag
      if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) return undefined;
      ((args[def.name] as string[] | undefined) ?? (args[def.name] = [])).push(value);
    } else {
      args[def.name] = value;
    }
  }
  for (const def of all) if (!(def.name in args) && def.default !== undefined) args[def.name] = def.default;
  return { image, args, others };
}

/**
 * The gadget's params among the flags the tables did not know, as the strict parse would give
 * them (only those typed); undefined when any flag is not a param or its value needs yargs' word.
 */
export function fastParams(run: FastRun, params: readonly ParamSpec[]): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const o of run.others) {
    let p = params.find((x) => x.key === o.name);
    let negated = false;
    if (!p && o.name.startsWith('no-')) {
      p = params.find((x) => x.key === o.name.slice(3) && x.kind === 'bool');
      negated = p !== undefined;
    }
    if (!p || p.key in out) return undefined;
    if (p.kind === 'bool') {
      if (o.next !== undefined) return undefined;
      if (negated) {
        if (o.inline !== undefined) return undefined;
        out[p.key] = 'false';
      } else if (o.inline === undefined || o.inline === 'true' || o.inline === 'false') {
        out[p.key] = o.inline ?? 'true';
      } else {
        return undefined;
      }
      continue;
    }
    const value = o.inline ?? o.next;
    if (value === undefined || negated) return undefined;
    if (p.choices && !p.choices.some((c) => c.name === value)) return undefined;
    out[p.key] = value;
  }
  return out;
}
