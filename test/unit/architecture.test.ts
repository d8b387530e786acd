import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/ig.js';

// The layers of src/, lowest first: a module may import its own layer and those below, never above.
// (cli/ and service/ on top; the engine under them; operators and outputs under it; the runtime,
// BTF, OCI and gadget code below; shared plain types at the ground.)
const LAYERS: string[][] = [
  ['errors.ts', 'paths.ts', 'timings.ts', 'model', 'text', 'format'],
  ['btf'],
  ['gadget'],
  ['oci', 'k8s'],
  ['runtime'],
  ['k8s'],
  ['containers'],
  ['datasource'],
  ['operators', 'wasm'],
  ['output', 'metrics'],
  ['engine'],
  ['service'],
  ['cli'],
  ['index.ts', 'sea', 'snapshot'],
];

const src = path.join(repoRoot, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : n.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a module, static and dynamic, as absolute .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs
    .map((s) => path.resolve(path.dirname(file), s).replace(/\.js$/, '.ts'))
    .filter((p) => p.startsWith(src));
}

function layerOf(file: string): number {
  const top = path.relative(src, file).split(path.sep)[0]!;
  const i = LAYERS.findIndex((l) => l.includes(top));
  if (i < 0) throw new Error(`${top} is in no layer of this test: add it`);
  return i;
}

describe('architecture', () => {
  const graph = new Map(files(src).map((f) => [f, importsOf(f)]));

  it('has no import going up a layer (cli/ and service/ on top; nothing below imports them)', () => {
    const up: string[] = [];
    for (const [f, deps] of graph) {
      for (const d of deps) if (layerOf(d) > layerOf(f)) up.push(`${path.relative(src, f)} → ${path.relative(src, d)}`);
    }
    expect(up).toEqual([]);
  });

  it('has no import cycle', () => {
    // Tarjan's strongly connected components: any component of more than one module is a cycle
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const on = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string) => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      on.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          on.delete(w);
          comp.push(path.relative(src, w));
        } while (w !== v);
        if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.sort());
      }
    };
    for (const v of graph.keys()) if (!idx.has(v)) visit(v);
    expect(cycles).toEqual([]);
  });

  it('imports every module it names (no import of a file that does not exist)', () => {
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d) && !d.endsWith('.json')).map((d) => `${path.relative(src, f)} → ${path.relative(src, d)}`));
    expect(missing).toEqual([]);
  });
});
