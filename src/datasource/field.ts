/**
 * A field of a running datasource: its description (name, kind, how it shows) and where its
 * value comes from. Three places, as in Inspektor Gadget's datasources:
 *  - `static`: in the record bytes, at an offset the BTF layout gives (read by generated code);
 *  - `column`: a JS value per record that an operator stored beside the bytes (`Batch.cols`);
 *  - `derived`: computed from another field's value by a function (a formatter: `error` from
 *    `error_raw`; a container's name from the container the record belongs to). Computed when
 *    read, never stored, so nothing is paid for a derived field nobody shows.
 */
import type { FieldCode } from '../btf/decoder.js';
import type { FieldDesc } from '../model/field.js';

export type FieldSource =
  | { type: 'static'; code: FieldCode }
  | { type: 'column'; slot: number }
  | {
      type: 'derived';
      /** the field whose value `fn` turns into this one, or a value slot (`Batch.cols`) no field shows */
      from: string | { slot: number };
      /** index of `fn` in the datasource's function table */
      fn: number;
      /** `timestamp`: a gadget_timestamp formatter, written from the raw value by the fast JSON path */
      special?: 'timestamp';
    };

export interface RunField extends FieldDesc {
  readonly source: FieldSource;
}
