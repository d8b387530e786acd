/**
 * The formatters operator (IG's `formatters` and the ebpf operator's enum formatting): every
 * `x_raw` field whose type has a formatter (gadget_errno, gadget_timestamp, gadget_uid, …) or
 * that is an enum gets a string sibling `x` right after it, computed from the raw value when
 * read. The raw field stays, hidden, as in Inspektor Gadget.
 */
import { enumNamer } from '../btf/decoder.js';
import { formatters } from '../format/index.js';
import { fieldAttrs } from '../gadget/metadata.js';
import type { DataOperator, RunContext } from '../datasource/operator.js';

export const formattersOperator: DataOperator = {
  name: 'formatters',
  instantiate(ctx: RunContext) {
    for (const ds of ctx.datasources) {
      for (const raw of [...ds.fields]) {
        const s = raw.source;
        if (s.type !== 'static' || !s.code.format || !raw.name.endsWith('_raw')) continue;
        const name = raw.name.slice(0, -'_raw'.length);
        if (ds.field(name)) continue; // the gadget has its own field of that name
        const f = s.code.format;
        const fn = f.kind === 'typedef' ? formatters[f.name]! : enumNamer(f.values, f.isSet);
        const typeName = f.kind === 'typedef' ? f.name : raw.typeName;
        const isEndpointPart = raw.hidden && ds.fields.some((e) => e.typeName?.startsWith('gadget_l') && raw.name.startsWith(`${e.name}.`));
        ds.addDerived(
          {
            name, kind: 'string', typeName, rawOf: raw.name, tags: raw.tags,
            ...(isEndpointPart ? { hidden: true } : {}),
            ...fieldAttrs(ctx.spec.metadata, ds.name, name),
          },
          raw.name,
          fn as (v: unknown) => unknown,
          { after: raw.name, special: f.kind === 'typedef' && f.name === 'gadget_timestamp' ? 'timestamp' : undefined },
        );
      }
    }
    return {};
  },
};
