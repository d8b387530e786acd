// shared by the engine and output unit tests (not a test file itself): datasources and runs without a kernel
import type { Leaf } from '../../src/btf/layout.js';
import { compileLayout } from '../../src/btf/decoder.js';
import { BtfSpec } from '../../src/btf/spec.js';
import type { GadgetSpec } from '../../src/gadget/spec.js';
import { Batch } from '../../src/datasource/batch.js';
import { RunDataSource } from '../../src/datasource/datasource.js';
import type { DataOperator } from '../../src/datasource/operator.js';
import { RunHost } from '../../src/engine/run.js';
import type { GadgetKind } from '../../src/model/field.js';

export const leaf = (l: Partial<Leaf> & Pick<Leaf, 'name' | 'offset' | 'kind' | 'size'>): Leaf => ({ signed: false, typedefs: [], cType: 'x', ...l });

/** A datasource whose records have this layout (as a gadget's BTF would give it). */
export function layoutDataSource(name: string, leaves: Leaf[], recordSize: number, kind: GadgetKind = 'tracer'): RunDataSource {
  const layout = compileLayout(leaves);
  return new RunDataSource({ name, kind, layout, recordSize, fields: layout.fields });
}

/** A gadget spec with nothing in it but metadata: what operators read of the spec when there is no object. */
function emptySpec(metadata: GadgetSpec['metadata'] = null): GadgetSpec {
  return { datasources: [], params: [], programs: [], maps: [], metrics: [], btf: new BtfSpec([]), metadata, kind: 'tracer' };
}

/** A run of these operators over these datasources, without a kernel; notices are collected. */
export function hostOf(datasources: RunDataSource[], ops: DataOperator[], spec = emptySpec()): { host: RunHost; notices: string[] } {
  const notices: string[] = [];
  const host = new RunHost('run', spec, { notice: (t) => notices.push(t), output: { name: 'none', instantiate: () => undefined } }, datasources);
  host.instantiate(ops);
  return { host, notices };
}

/** `n` records of `size` bytes, back to back, as a native batch hands them over. */
export function recordBatch(data: Buffer, size: number, n = data.length / size): Batch {
  const offsets = new Uint32Array(n);
  for (let i = 0; i < n; i++) offsets[i] = i * size;
  return new Batch(data, offsets, n);
}
