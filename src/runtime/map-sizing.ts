/**
 * IG's map sizing convention: a `const volatile` integer named `<map>_max_entries` (usually a
 * GADGET_PARAM, so a flag) sets that map's max_entries before load. IG's own headers rely on it:
 * `ig_build_id` is declared with 0 entries and sized by `ig_build_id_max_entries`.
 */
import type { BpfObject } from '../../native/index.js';
import type { GadgetSpec } from '../gadget/spec.js';
import { IgError } from '../errors.js';

const SUFFIX = '_max_entries';
const MAX = 0xffffffff;

/** The maps a gadget sizes by variables: map name → variable name. */
function sizingVariables(spec: GadgetSpec): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of spec.maps) {
    if (m.internal) continue;
    const v = spec.btf.findVariable(m.name + SUFFIX);
    if (v && v.offset >= 0) out.set(m.name, m.name + SUFFIX);
  }
  return out;
}

/** Read each sizing variable's value as it will be loaded (params applied) and size its map. */
export function applyMapSizing(obj: BpfObject, spec: GadgetSpec): void {
  for (const [map, variable] of sizingVariables(spec)) {
    const v = spec.btf.findVariable(variable)!;
    const bytes = obj.mapInitialValue(v.section).subarray(v.offset, v.offset + v.size);
    if (bytes.length < v.size || ![1, 2, 4, 8].includes(v.size)) continue;
    const n = v.size === 8 ? Number(bytes.readBigInt64LE(0)) : bytes.readIntLE(0, v.size);
    const param = spec.params.find((p) => p.variable === variable);
    const name = param ? `--${param.key}` : variable;
    if (n < 1 || n > MAX) {
      throw new IgError('usage', `${name} is ${n}: map ${map} needs at least 1 entry (its size comes from ${variable})`, {
        hint: param ? `give ${name} a positive number` : 'the gadget sets a size the kernel cannot create; rebuild it with a positive default',
      });
    }
    obj.setMapMaxEntries(map, n);
  }
}
