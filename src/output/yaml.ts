/** YAML output: one YAML document per event (`---` separated); a snapshot batch is one document holding a list. */
import { stringify } from 'yaml';
import type { EventBatch, FieldDesc } from '../gadget/datasource.js';
import { compileSerializer, type Serializer } from './json.js';
import { BaseSink, type BaseSinkOptions } from './sink.js';

export interface YamlSinkOptions extends BaseSinkOptions {
  fields: readonly FieldDesc[];
}

export class YamlSink extends BaseSink {
  private readonly serialize: Serializer;

  constructor(opts: YamlSinkOptions) {
    super(opts);
    this.serialize = compileSerializer(opts.fields.map((f) => f.name));
  }

  write(batch: EventBatch): void {
    if (this.overloaded(batch)) return;
    // go through the JSON text so bigints and typed arrays get the same treatment as in json output
    const objs = batch.events.map((e) => JSON.parse(this.serialize(e)) as unknown);
    let out = '';
    if (batch.snapshot) out = '---\n' + stringify(objs);
    else for (const o of objs) out += '---\n' + stringify(o);
    if (out !== '') this.stream.write(out);
  }
}
