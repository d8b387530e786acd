/**
 * Shell completion. yargs writes the bash/zsh/fish script (`ig completion`), which calls back
 * `ig --get-yargs-completions WORDS…`; the answer is made here, from the same command modules
 * yargs parses with (commands, subcommands, their flags and choices), plus what only ig knows:
 * the local images (`ig run <TAB>`, `ig image inspect <TAB>`), a gadget's own params
 * (`ig run trace_open --<TAB>`), its fields after `--fields` and `-F`, and a param's choices.
 * The gadget is read from the local store (never pulled), so completing is offline and quick.
 * (yargs' own answer cannot be used: for a command with a builder it re-parses process.argv.)
 */
import yargs, { type CommandModule, type Options } from 'yargs';
import { IgError } from '../errors.js';
import { globalOptions } from './options.js';
import { runOptions } from './run/flags.js';
import { containerOptions } from './container-options.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Cmd = CommandModule<any, any>;

const nameOf = (c: Cmd): string[] => (Array.isArray(c.command) ? c.command : [c.command ?? '']).map((x) => String(x).split(' ')[0]!);

/** The options (and their choices) a command's builder declares, read from a yargs it builds on. */
function optionsOf(c: Cmd | undefined): { keys: string[]; choices: Record<string, string[]>; subcommands: Cmd[] } {
  if (!c) return { keys: Object.keys(globalOptions), choices: {}, subcommands: [] };
  if (nameOf(c)[0] === 'run') {
    const all: Record<string, Options> = { ...globalOptions, ...runOptions, ...containerOptions };
    const choices: Record<string, string[]> = {};
    for (const [k, o] of Object.entries(all)) {
      if (!o.choices) continue;
      choices[k] = (o.choices as string[]).map(String);
      if (typeof o.alias === 'string') choices[o.alias] = choices[k]!;
    }
    return { keys: Object.keys(all), choices, subcommands: [] };
  }
  const subcommands: Cmd[] = [];
  const y = yargs([]).options(globalOptions);
  const spy = new Proxy(y, {
    get(target, prop, recv) {
      if (prop === 'command') return (sub: Cmd) => (subcommands.push(sub), spy);
      const v = Reflect.get(target, prop, recv) as unknown;
      return typeof v === 'function' ? (...args: unknown[]) => { const r = (v as (...a: unknown[]) => unknown).apply(target, args); return r === target ? spy : r; } : v;
    },
  });
  if (typeof c.builder === 'function') (c.builder as (y: unknown) => unknown)(spy);
  else if (c.builder) y.options(c.builder as Record<string, Options>);
  const o = (y as unknown as { getOptions(): { key: Record<string, unknown>; choices: Record<string, string[]>; alias: Record<string, string[]> } }).getOptions();
  const choices = { ...o.choices };
  for (const [k, aliases] of Object.entries(o.alias)) for (const a of aliases) if (choices[k]) choices[a] = choices[k]!;
  const positional = new Set([...String(Array.isArray(c.command) ? c.command[0] : c.command).matchAll(/[<[]([\w-]+)(\.\.)?[>\]]/g)].map((m) => m[1]!));
  return { keys: Object.keys(o.key).filter((k) => k !== 'help' && k !== 'version' && !positional.has(k) && !/[A-Z]/.test(k)), choices, subcommands };
}

/** Completions for `words` (after `ig`; the last one is being completed), one per line for the shell. */
export async function complete(words: string[], commands: Cmd[], zsh: boolean, storeDir = process.env.IG_OCI_STORE): Promise<string[]> {
  if (words.length === 0) words = [''];
  const current = words[words.length - 1]!;
  const done = words.slice(0, -1);
  const prev = done[done.length - 1];
  const pos = positionals(done);
  const top = commands.find((c) => nameOf(c).includes(pos[0] ?? ''));
  let leaf = top;
  const topOpts = optionsOf(top);
  if (top && topOpts.subcommands.length) leaf = topOpts.subcommands.find((c) => nameOf(c).includes(pos[1] ?? '')) ?? undefined;
  const opts = leaf === top ? topOpts : optionsOf(leaf);
  const starts = (xs: string[]) => [...new Set(xs)].filter((x) => x.startsWith(current));
  // the value of a flag with choices
  const prevKey = prev?.replace(/^--?/, '');
  if (prev?.startsWith('-') && prevKey && opts.choices[prevKey]) return starts(opts.choices[prevKey]!);
  const ours = await gadgetCompletions({ words, zsh }, storeDir);
  if (ours.replace) return ours.replace;
  if (current.startsWith('-')) return [...starts(opts.keys.map((k) => (k.length === 1 ? `-${k}` : `--${k}`))), ...ours.add];
  if (prev?.startsWith('-') && VALUE_FLAGS.test(prev)) return [];
  if (!top) return starts(commands.flatMap((c) => nameOf(c)[0] ?? []).filter(Boolean));
  if (topOpts.subcommands.length && pos.length === 1) return starts(topOpts.subcommands.map((c) => nameOf(c)[0]!));
  return ours.add;
}

/** Commands whose next word is a local image. */
const IMAGE_ARG = new Set(['run', 'image inspect', 'image push', 'image rm', 'image remove', 'image tag', 'image sign', 'image verify', 'image export', 'image types']);

/** `ig run` flags that take a value (so the word after them is not the image). */
const VALUE_FLAGS = /^-(o|t|F|r|c|n|p|l|H)$|^--(output|timeout|fields|filter|sort|max-entries|map-fetch-interval|map-fetch-count|pull|public-key|allowed-gadgets|remote-address|tls-[a-z-]+|metrics-listen|otel-[a-z-]+|runtimes|[a-z]+-socketpath|containerd-namespace|containername|k8s-[a-z]+|oci-store|authfile|insecure-registries|config|namespace|podname|selector|node|remote-address)$/;

interface CompletionContext {
  /** the words after `ig`, the last one being completed (may be '') */
  words: string[];
  zsh: boolean;
}

/** The local image names, short where the name is the official one (`trace_open`, `trace_open:v1`). */
async function localImages(storeDir?: string): Promise<string[]> {
  const { Store, parseReference, shortName, isSignatureReference } = await import('../oci/index.js');
  const store = await Store.open(storeDir);
  const out = new Set<string>();
  for (const t of await store.listTags()) {
    if (isSignatureReference(t.reference)) continue;
    try {
      const r = parseReference(t.reference);
      const name = shortName(r.name);
      out.add(r.tag && r.tag !== 'latest' ? `${name}:${r.tag}` : name);
    } catch {
      /* an odd tag: not offered */
    }
  }
  return [...out].sort();
}

/** Positional words (not flags, not flag values) after the command words. */
function positionals(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.startsWith('-')) {
      if (VALUE_FLAGS.test(w) && !w.includes('=')) i++;
      continue;
    }
    out.push(w);
  }
  return out;
}

/**
 * What ig adds for these words: `replace` when only these make sense (a flag's value),
 * otherwise `add` to yargs' own commands and flags.
 */
async function gadgetCompletions(ctx: CompletionContext, storeDir?: string): Promise<{ add: string[]; replace?: string[] }> {
  const done = ctx.words.slice(0, -1);
  const current = ctx.words[ctx.words.length - 1] ?? '';
  const prev = done[done.length - 1];
  const pos = positionals(done);
  const command = pos[0] === 'image' ? `image ${pos[1] ?? ''}` : (pos[0] ?? '');
  const imageAt = command.startsWith('image ') ? 2 : 1;
  if (!IMAGE_ARG.has(command)) return { add: [] };
  const image = pos[imageAt];
  // the image itself
  if (image === undefined) {
    if (current.startsWith('-') || (prev !== undefined && VALUE_FLAGS.test(prev))) return { add: [] };
    return { add: [], replace: (await localImages(storeDir)).filter((n) => n.startsWith(current)) };
  }
  if (command !== 'run') return { add: [] };
  const d = await describeLocal(image, storeDir);
  if (!d) return { add: [] };
  const fields = d.datasources.flatMap((ds) => ds.fields.map((f) => f.name));
  if (prev === '--fields' || prev === '-F' || prev === '--filter') {
    // complete the last item of a comma list, keeping what comes before it
    const cut = current.lastIndexOf(',') + 1;
    const head = current.slice(0, cut);
    const item = current.slice(cut);
    const sign = prev === '--fields' && /^[+-]/.test(item) ? item[0]! : '';
    return { add: [], replace: [...new Set(fields)].filter((f) => f.startsWith(item.slice(sign.length))).map((f) => `${head}${sign}${f}`) };
  }
  const param = d.params.find((p) => prev === `--${p.key}`);
  // a param's choices; a boolean param takes no value (the next word is anything)
  if (param?.choices) return { add: [], replace: param.choices.map((c) => c.name).filter((c) => c.startsWith(current)) };
  if (!current.startsWith('-')) return { add: [] };
  const esc = (s: string) => (ctx.zsh ? s.replace(/:/g, '\\:') : s);
  return {
    add: d.params
      .filter((p) => `--${p.key}`.startsWith(current))
      .map((p) => (ctx.zsh ? `${esc(`--${p.key}`)}:${p.description ?? ''}` : `--${p.key}`)),
  };
}

async function describeLocal(image: string, storeDir?: string) {
  const { runConfig } = await import('../engine/config.js');
  const { prepareGadget, describeGadget } = await import('../engine/run.js');
  const cfg = runConfig({ image, pull: 'never', oci: { store: storeDir } });
  try {
    const p = await prepareGadget(cfg);
    try {
      return describeGadget(p, cfg);
    } finally {
      await p.close();
    }
  } catch (e) {
    if (e instanceof IgError) return undefined; // not a local image (yet): nothing to add
    throw e;
  }
}
