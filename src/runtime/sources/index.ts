import type { BpfObject } from '../../../native/index.js';
import type { GadgetSpec, DataSourceSpec } from '../../gadget/spec.js';
import { startStream } from './stream.js';
import { startMapFetch } from './map-fetch.js';
import { startIterator } from './iterator.js';

export type { RunningSource, SourceBatch, SourceSink, SourceOptions } from './types.js';
import type { RunningSource, SourceSink, SourceOptions } from './types.js';

export function startSource(obj: BpfObject, spec: GadgetSpec, ds: DataSourceSpec, onBatch: SourceSink, opts: SourceOptions): RunningSource {
  switch (ds.source.type) {
    case 'stream':
      return startStream(obj, ds, ds.source, opts.buffer(ds), onBatch);
    case 'map':
      return startMapFetch(obj, spec, ds, ds.source, onBatch, opts);
    case 'iter-text':
    case 'iter-typed':
      return startIterator(obj, spec, ds, ds.source, onBatch, opts.netnsPaths);
  }
}
