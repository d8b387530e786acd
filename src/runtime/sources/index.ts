import type { BpfObject, RecordBatch } from '../../../native/index.js';
import type { GadgetSpec, DataSourceSpec } from '../../gadget/spec.js';
import type { EventBatch } from '../../gadget/datasource.js';
import type { InstanceOptions } from '../instance.js';
import { startStream } from './stream.js';
import { startMapFetch } from './map-fetch.js';
import { startIterator } from './iterator.js';

/** A datasource producing batches; `done` resolves when it has nothing more to give. */
export interface RunningSource {
  done: Promise<void>;
  stop(): Promise<void>;
}

export type BatchSink = (b: EventBatch) => void;
/** Takes a stream's records undecoded (each one record size at least: short ones come zero-padded), with the events lost since the previous batch. */
export type RawBatchSink = (records: RecordBatch, lost: number) => void;

export function startSource(obj: BpfObject, spec: GadgetSpec, ds: DataSourceSpec, onBatch: BatchSink, opts: InstanceOptions): RunningSource {
  switch (ds.source.type) {
    case 'stream':
      return startStream(obj, ds, ds.source, onBatch, opts.rawRecords?.(ds));
    case 'map':
      return startMapFetch(obj, spec, ds, ds.source, onBatch, opts);
    case 'iter-text':
    case 'iter-typed':
      return startIterator(obj, spec, ds, ds.source, onBatch, opts.netnsPaths);
  }
}
