import type { FieldDesc } from '../../gadget/datasource.js';
import type { LostCounter } from '../../operators/lost.js';
import { selectFields } from '../../operators/fields.js';
import { createSink, type Sink } from '../../output/index.js';

/**
 * Columns show the default set (fields not hidden); JSON and YAML carry every
 * field, raw ones included, unless --fields narrows them — as users of IG expect.
 */
export function outputFields(format: string, allFields: readonly FieldDesc[], fieldsSpec: string | undefined): FieldDesc[] {
  const all = format === 'json' || format === 'jsonpretty' || format === 'yaml';
  return fieldsSpec === undefined && all ? [...allFields] : selectFields(allFields, fieldsSpec);
}

export function sinkFor(format: string, allFields: readonly FieldDesc[], lost: LostCounter, fieldsSpec: string | undefined): Sink {
  return createSink(format, { fields: outputFields(format, allFields, fieldsSpec), lost });
}
