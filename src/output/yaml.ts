/** YAML output: one YAML document per event (`---` separated); a snapshot batch is one document holding a list. */
import { stringify } from 'yaml';
import type { Batch } from '../datasource/batch.js';
import { JsonSink } from './json.js';

export class YamlSink extends JsonSink {
  override write(b: Batch): void {
    if (this.overloaded(b)) return;
    // through the JSON text, so bigints and arrays get the same treatment as in json output
    const objs = this.lines(b).map((l) => JSON.parse(l) as unknown);
    let out = '';
    if (b.snapshot) out = '---\n' + stringify(objs);
    else for (const o of objs) out += '---\n' + stringify(o);
    if (out !== '') this.target.write(Buffer.from(out));
    this.shown += b.count;
  }
}
