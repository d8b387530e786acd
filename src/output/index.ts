/** Output sinks by `-o/--output` name. */
import { IgError } from '../errors.js';
import type { EventBatch, FieldDesc } from '../gadget/datasource.js';
import { ColumnsSink } from './columns.js';
import { JsonSink } from './json.js';
import { BaseSink, type BaseSinkOptions, type Sink } from './sink.js';
import { YamlSink } from './yaml.js';

export * from './sink.js';
export { ColumnsSink, columnFor, fitColumns, renderHeader, renderRow, cut, cellText, TEMPLATES } from './columns.js';
export type { Column, ColumnsSinkOptions, ColumnTemplate } from './columns.js';
export { JsonSink, compileSerializer, encodeValue, nestEvent } from './json.js';
export type { JsonSinkOptions, Serializer } from './json.js';
export { YamlSink } from './yaml.js';

export const OUTPUT_FORMATS = ['columns', 'json', 'jsonpretty', 'yaml', 'none'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `-o none`: prints nothing (events still count, lost events are still reported by the LostCounter). */
export class NoneSink extends BaseSink {
  events = 0;
  write(batch: EventBatch): void {
    this.events += batch.events.length;
  }
}

export interface CreateSinkOptions extends BaseSinkOptions {
  /** the selected fields, in order (see operators/fields.ts selectFields) */
  fields: readonly FieldDesc[];
  /** columns only: terminal width override, TTY override */
  width?: number;
  tty?: boolean;
}

export function createSink(format: string, opts: CreateSinkOptions): Sink {
  switch (format) {
    case 'columns':
      return new ColumnsSink(opts);
    case 'json':
      return new JsonSink(opts);
    case 'jsonpretty':
      return new JsonSink({ ...opts, pretty: true });
    case 'yaml':
      return new YamlSink(opts);
    case 'none':
      return new NoneSink(opts);
    default:
      throw new IgError('usage', `unknown output format "${format}"`, {
        hint: `use -o ${OUTPUT_FORMATS.join('|')}`,
      });
  }
}
