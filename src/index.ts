/**
 * ig as a library: run a gadget from TypeScript and iterate over its events.
 *
 *   for await (const batch of runGadget('trace_open', { params: { failed: 'true' }, timeoutMs: 5000 })) {
 *     for (const e of batch.events) console.log(e.pid, e.comm, e.fname);
 *   }
 *
 * Breaking out of the loop (or the timeout, or an AbortSignal) stops the gadget and
 * releases every kernel object it created. Needs root, like the CLI.
 */
import { getGadgetImage, type OciOptions, type PullPolicy } from './oci/image.js';
import { GadgetInstance } from './runtime/instance.js';
import type { EventBatch } from './gadget/datasource.js';

export type { Event, EventBatch, FieldDesc, DataSourceDesc, GadgetKind } from './gadget/datasource.js';
export { GadgetInstance } from './runtime/instance.js';
export { IgError } from './errors.js';

export interface RunGadgetOptions extends OciOptions {
  /** gadget params by key, as on the command line (`{ pid: '42', failed: 'true' }`) */
  params?: Record<string, string>;
  pull?: PullPolicy;
  /** stop after this long (default: until the loop ends, the signal aborts, or a snapshotter is done) */
  timeoutMs?: number;
  signal?: AbortSignal;
  forcePerfBuffer?: boolean;
  /** toppers: time between map reads and how many (0 = until stopped) */
  mapFetchIntervalMs?: number;
  mapFetchCount?: number;
}

/**
 * Pull (if needed), load and attach a gadget, and yield its batches as they come:
 * one batch per native wakeup for tracers, one per read for toppers, one table for
 * snapshotters. Fields of each datasource: `inst.spec.datasources` via `describe`.
 */
export async function* runGadget(ref: string, opts: RunGadgetOptions = {}): AsyncGenerator<EventBatch, void, undefined> {
  const img = await getGadgetImage(ref, opts.pull ?? 'missing', opts);
  const inst = GadgetInstance.open(img.ebpf, img.metadata, img.reference);
  const queue: EventBatch[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const finish = () => {
    finished = true;
    wake?.();
  };
  const timer = opts.timeoutMs ? setTimeout(finish, opts.timeoutMs) : undefined;
  opts.signal?.addEventListener('abort', finish, { once: true });
  try {
    inst.configure({ params: opts.params, forcePerfBuffer: opts.forcePerfBuffer });
    inst.load();
    inst.attach();
    const done = inst.start(
      (b) => {
        queue.push(b);
        wake?.();
      },
      { mapFetchIntervalMs: opts.mapFetchIntervalMs, mapFetchCount: opts.mapFetchCount },
    );
    if (done.length) void Promise.all(done).then(finish, finish);
    for (;;) {
      while (queue.length) yield queue.shift()!;
      if (finished || opts.signal?.aborted) break;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    await inst.stop();
    while (queue.length) yield queue.shift()!;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', finish);
    await inst.close();
  }
}
