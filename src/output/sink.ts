/**
 * What every output sink is: the last subscriber of a datasource. It takes batches past the
 * operator chain, reads fields through the datasource's generated code, and writes to a target.
 * When the target is full (a slow reader on an asynchronous stream) a whole batch is dropped
 * and counted as lost instead of letting memory grow without bound.
 */
import type { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import type { RunField } from '../datasource/field.js';
import { LostCounter } from '../datasource/lost.js';
import { selectFields } from '../operators/fields.js';
import type { OutputTarget } from './target.js';

export interface SinkOptions {
  target: OutputTarget;
  lost?: LostCounter;
  /** --fields: `a,b,c` or `+x,-y`; undefined = the format's default */
  fields?: string;
}

export abstract class Sink {
  protected readonly target: OutputTarget;
  readonly lost: LostCounter;
  /** records written */
  shown = 0;
  /** records dropped because the target was full */
  dropped = 0;
  private version = -1;
  private chosen: RunField[] = [];

  constructor(protected readonly ds: RunDataSource, protected readonly opts: SinkOptions) {
    this.target = opts.target;
    this.lost = opts.lost ?? new LostCounter();
  }

  /** Whether this format shows every field by default (json, yaml), or only the visible ones (columns). */
  protected abstract readonly allByDefault: boolean;

  /** The fields to write, in order; recomputed when the datasource's fields change. */
  get fields(): readonly RunField[] {
    if (this.version !== this.ds.version) {
      this.version = this.ds.version;
      const spec = this.opts.fields;
      this.chosen = (spec === undefined && this.allByDefault ? this.ds.fields.filter((f) => !f.jsonSkip) : selectFields(this.ds.fields, spec)) as RunField[];
      this.fieldsChanged();
    }
    return this.chosen;
  }

  /** The field list changed (compile writers again). */
  protected fieldsChanged(): void {}

  /** Before the first batch (tracers: right after attaching). */
  begin(): void {}

  abstract write(b: Batch): void;

  /** Flush and wait until everything written has been handed on (stdout stays open). */
  async end(): Promise<void> {
    await this.target.flush();
  }

  /** True (and the batch's records counted as lost) when the target is too full to take it. */
  protected overloaded(b: Batch): boolean {
    if (!this.target.full) return false;
    this.dropped += b.count;
    this.lost.add(b.count);
    return true;
  }
}
