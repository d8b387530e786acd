/** YAML output: one YAML document per event (`---` separated); a snapshot batch is one document holding a list. */
import { stringify } from 'yaml';
import type { Batch } from '../datasource/batch.js';
import { JsonSink } from './json.js';

/**
 * YAML text any reader takes back as the same strings: written for YAML 1.1, whose readers
 * (PyYAML, go-yaml v2, Ruby) turn unquoted `2026-12-03T11:14:58Z`, `yes`, `0x10` into
 * timestamps, booleans and numbers, so such strings are quoted; 1.2 readers accept it as well.
 */
export function toYaml(v: unknown): string {
  return stringify(v, { version: '1.1', lineWidth: 0 });
}

export class YamlSink extends JsonSink {
  override write(b: Batch): void {
    if (this.overloaded(b)) return;
    // through the JSON text, so bigints and arrays get the same treatment as in json output
    const objs = this.lines(b).map((l) => JSON.parse(l) as unknown);
    let out = '';
    if (b.snapshot) out = '---\n' + toYaml(objs);
    else for (const o of objs) out += '---\n' + toYaml(o);
    if (out !== '') this.target.write(Buffer.from(out));
    this.shown += b.count;
  }
}
