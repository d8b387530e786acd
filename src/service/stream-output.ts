/**
 * The daemon's output operator: each datasource's records written by the one JSON writer (as
 * `ig run -o json` writes them) and sent to the client as batch messages, after a message
 * naming the datasource's fields (again whenever they change). A client that reads too slowly
 * makes whole batches drop, counted as lost, instead of growing the daemon's memory; the count
 * goes to the client in the first batch message sent once it has caught up (or at the end), so
 * it writes the `{"lost":N,"lostTotal":T}` line a local run writes where the batches went missing.
 * Once a batch was dropped the gadget's buffers are not read until the client has caught up
 * (`drained`): the kernel then drops and counts what does not fit, as for a local run whose
 * reader is slow, and the daemon spends no CPU reading records it would drop.
 */
import { Priority, type DataOperator, type RunContext } from '../datasource/operator.js';
import { selectFields } from '../operators/fields.js';
import { JsonSink } from '../output/json.js';
import { callbackTarget } from '../output/target.js';

export interface StreamMessages {
  datasource(m: { name: string; kind: string; fields_json: string }): void;
  /** `json` is the JSON writer's reused buffer: readable during the call only (copy what is kept) */
  batch(m: { datasource: string; json: Buffer; lost: number; snapshot: boolean }): void;
  /** the client is behind: stop sending until it catches up */
  full(): boolean;
  /** calls `fn` once, when a client that was behind has caught up (absent: batches are only dropped) */
  drained?(fn: () => void): void;
}

export function streamOutput(send: StreamMessages, o: { fields?: string; allFields: boolean }): DataOperator {
  return {
    name: 'stream',
    instantiate(ctx: RunContext) {
      const sinks: JsonSink[] = [];
      const tellers: (() => void)[] = [];
      let paused = false;
      const holdUntilDrained = () => {
        if (paused || !send.drained || !ctx.pauseStreams) return;
        paused = true;
        ctx.pauseStreams(true);
        send.drained(() => {
          paused = false;
          ctx.pauseStreams?.(false);
        });
      };
      for (const ds of ctx.datasources) {
        if (!ds.referenced) continue; // consumed by an operator that shows its own (IG's Unreference)
        if (o.fields !== undefined && ds.fields.length > 0) selectFields(ds.fields, o.fields);
        let pending: { lost: number; snapshot: boolean; sent: boolean } = { lost: 0, snapshot: false, sent: false };
        const target = callbackTarget((json) => {
          send.batch({ datasource: ds.name, json, lost: pending.lost, snapshot: pending.snapshot });
          pending.lost = 0;
          pending.sent = true;
        }, send.full);
        const sink = new JsonSink(ds, { target, lost: ctx.lost, fields: o.fields, allFields: o.allFields, lostRecords: false });
        sinks.push(sink);
        let announced = -1;
        /** events of batches dropped while the client was behind, not yet told */
        let untold = 0;
        /** a batch message of no records carrying a lost count: the client prints its lost line */
        const sendLost = (lost: number) => send.batch({ datasource: ds.name, json: Buffer.alloc(0), lost, snapshot: false });
        const tellLost = () => {
          if (untold > 0) sendLost(untold);
          untold = 0;
        };
        tellers.push(tellLost);
        ds.subscribe((b) => {
          if (announced !== ds.version) {
            const fields = sink.fields; // computes the selection for this version
            announced = ds.version;
            send.datasource({ name: ds.name, kind: ds.kind, fields_json: JSON.stringify(fields.map(({ source: _s, ...desc }) => desc)) });
          }
          if (untold > 0 && !send.full()) tellLost();
          pending = { lost: b.lost, snapshot: b.snapshot, sent: false };
          const before = sink.shown;
          const dropped = sink.dropped;
          sink.write(b);
          ctx.stats.shown += sink.shown - before;
          if (sink.dropped > dropped) {
            untold += sink.dropped - dropped + pending.lost;
            holdUntilDrained();
          } else if (!pending.sent && pending.lost) sendLost(pending.lost);
        }, Priority.output, 'stream');
      }
      return {
        stop: async () => {
          for (const s of sinks) await s.end();
          for (const tell of tellers) tell();
        },
      };
    },
  };
}
