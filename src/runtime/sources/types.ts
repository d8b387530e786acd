/** What every source of a running gadget is and hands on (shared by the sources and their starter). */
import type { RecordBatch } from '../../../native/index.js';
import type { DataSourceSpec } from '../../gadget/spec.js';
import type { TextRecords } from '../text-records.js';

/** A datasource producing batches; `done` resolves when it has nothing more to give. */
export interface RunningSource {
  done: Promise<void>;
  stop(): Promise<void>;
  /** tracers: stop reading the kernel's buffer until pause(false) (it fills; the kernel counts what it drops) */
  pause?(on: boolean): void;
}

/**
 * What a source hands on: record bytes as the kernel wrote them (every record at least the
 * layout's size: short ones come zero-padded), or a snapshotter's text records, or only a count
 * of lost events. Decoding is the caller's business.
 */
export interface SourceBatch {
  datasource: string;
  records?: RecordBatch;
  text?: TextRecords;
  /** events lost since the previous batch */
  lost: number;
  /** a whole table (toppers, snapshotters), not a stream chunk */
  snapshot: boolean;
  warnings?: string[];
}

export type SourceSink = (b: SourceBatch) => void;

export interface SourceOptions {
  /** tracers: the buffer the instance made of the stream map */
  buffer: (ds: DataSourceSpec) => { kind: 'ringbuf' | 'perf'; perfPagesPerCpu: number };
  /** toppers: milliseconds between fetches, and how many (0 = until stopped) */
  mapFetchIntervalMs: number;
  mapFetchCount: number;
  /** snapshotters: network namespaces (e.g. /proc/PID/ns/net) whose sockets tcp/udp iterators read; default: ours */
  netnsPaths?: () => string[];
  /** a problem that does not stop the run (a failed map read) */
  warn: (text: string) => void;
}

