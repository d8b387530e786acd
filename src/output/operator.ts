/**
 * The output operator: last in every datasource's chain, one sink per datasource. Which sink
 * and where its bytes go is the edge's choice (the CLI: stdout in the -o format; the daemon: the
 * client's stream); the engine only puts it at the end.
 */
import { Priority, type DataOperator, type OperatorInstance, type RunContext } from '../datasource/operator.js';
import type { RunDataSource } from '../datasource/datasource.js';
import { selectFields } from '../operators/fields.js';
import { createSink, type Sink } from './index.js';
import { loadYamlWriter } from './yaml.js';
import type { OutputTarget } from './target.js';

export interface OutputOptions {
  format: string;
  /** --fields */
  fields?: string;
  /** where a datasource's output goes (one target for all, or one each) */
  target: OutputTarget | ((ds: RunDataSource) => OutputTarget);
  /** columns: terminal width and TTY overrides */
  width?: number;
  tty?: boolean;
  /** a datasource's sink was made (the daemon announces the datasource to its client) */
  onSink?: (ds: RunDataSource, sink: Sink) => void;
}

export function outputOperator(o: OutputOptions): DataOperator {
  return {
    name: 'output',
    instantiate(ctx: RunContext): OperatorInstance {
      const sinks: Sink[] = [];
      for (const ds of ctx.datasources) {
        if (!ds.referenced) continue; // consumed by an operator that shows its own (IG's Unreference)
        // a mistyped --fields fails now, before anything is loaded (text iterators learn their fields later)
        if (o.fields !== undefined && ds.fields.length > 0) selectFields(ds.fields, o.fields);
        if (ctx.mode === 'describe') continue;
        const target = typeof o.target === 'function' ? o.target(ds) : o.target;
        const sink = createSink(o.format, ds, { target, lost: ctx.lost, fields: o.fields, width: o.width, tty: o.tty });
        sinks.push(sink);
        ds.subscribe((b) => {
          const before = sink.shown;
          sink.write(b);
          ctx.stats.shown += sink.shown - before;
        }, Priority.output, 'output');
        o.onSink?.(ds, sink);
      }
      return {
        preStart: () => (o.format === 'yaml' ? loadYamlWriter() : undefined),
        start: () => sinks.forEach((s) => s.begin()),
        stop: async () => {
          for (const s of sinks) await s.end();
        },
      };
    },
  };
}
