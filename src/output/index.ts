/** Output sinks by `-o/--output` name, and the operator that puts them at the end of each datasource's chain. */
import { IgError } from '../errors.js';
import type { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import { ColumnsSink } from './columns.js';
import { JsonSink } from './json.js';
import { Sink, type SinkOptions } from './sink.js';
import { YamlSink } from './yaml.js';
import { PcapNgSink } from './pcapng.js';

export { Sink } from './sink.js';
export { lostLine } from './json.js';

export const OUTPUT_FORMATS = ['columns', 'json', 'jsonpretty', 'yaml', 'pcap-ng', 'none'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `-o none`: prints nothing (events still count, lost events are still reported by the LostCounter). */
class NoneSink extends Sink {
  protected readonly allByDefault = true;
  write(b: Batch): void {
    this.shown += b.count;
  }
}

export interface CreateSinkOptions extends SinkOptions {
  /** columns only: terminal width override, TTY override */
  width?: number;
  tty?: boolean;
}

export function createSink(format: string, ds: RunDataSource, opts: CreateSinkOptions): Sink {
  switch (format) {
    case 'columns':
      return new ColumnsSink(ds, opts);
    case 'json':
      return new JsonSink(ds, opts);
    case 'jsonpretty':
      return new JsonSink(ds, { ...opts, pretty: true });
    case 'yaml':
      return new YamlSink(ds, opts);
    case 'pcap-ng':
      return new PcapNgSink(ds, opts);
    case 'none':
      return new NoneSink(ds, opts);
    default:
      throw new IgError('usage', `unknown output format "${format}"`, {
        hint: `use -o ${OUTPUT_FORMATS.join('|')}`,
      });
  }
}
