/**
 * A run's metrics and telemetry, through the OpenTelemetry SDK (telemetry.ts): the gadget's
 * metric maps (gadget-maps.ts) and its `metrics.collect` datasources (collect.ts), served for
 * Prometheus on --metrics-listen / --otel-metrics-listen-address and pushed over OTLP with
 * --otel-metrics-exporter; events sent as OTLP logs with --otel-logs-exporter (event-logs.ts).
 * Everything starts once the maps exist and is flushed (a last push) when the run stops.
 */
import { Priority, type DataOperator, type RunContext } from '../datasource/operator.js';
import type { Batch } from '../datasource/batch.js';
import type { OtlpTarget } from '../model/otlp.js';
import { parseListenAddress } from './server.js';
import { mapMetricsProducer } from './gadget-maps.js';
import { collectPlan, collector } from './collect.js';
import { eventLogger } from './event-logs.js';
import type { Telemetry } from './telemetry.js';

export interface MetricsOptions {
  listen?: string;
  otel?: { metricsExporter?: OtlpTarget; logsExporter?: OtlpTarget };
}

export function metricsOperator(o: MetricsOptions | string | undefined): DataOperator {
  const opts: MetricsOptions = typeof o === 'string' || o === undefined ? { listen: o } : o;
  return {
    name: 'metrics',
    instantiate(ctx: RunContext) {
      const { listen, otel = {} } = opts;
      if (!listen && !otel.metricsExporter && !otel.logsExporter) return undefined;
      if (listen) parseListenAddress(listen); // a bad address fails now
      const plans = ctx.datasources.map((ds) => ({ ds, plan: collectPlan(ctx.spec.metadata, ds) })); // a bad annotation fails now
      if (ctx.mode === 'describe') return undefined;
      let telemetry: Telemetry | undefined;
      // subscribed now (the chain is set before start); they work once telemetry exists
      const metricsWanted = Boolean(listen || otel.metricsExporter);
      for (const { ds, plan } of plans) {
        const fns: (() => ((b: Batch) => void) | undefined)[] = [];
        if (plan && metricsWanted) fns.push(() => collector(ds, plan, telemetry!.meter(ds.name)));
        if (otel.logsExporter) fns.push(() => eventLogger(ds, telemetry!.logger(ctx.spec.metadata?.name ?? 'ig')!));
        if (fns.length === 0) continue;
        let ready: ((b: Batch) => void)[] | undefined;
        ds.subscribe((b) => {
          if (!telemetry) return;
          ready ??= fns.map((f) => f()).filter((f): f is (b: Batch) => void => f !== undefined);
          for (const f of ready) f(b);
        }, Priority.metrics, 'metrics');
      }
      const shutdown = async () => {
        const t = telemetry;
        telemetry = undefined;
        await t?.shutdown();
      };
      return {
        async start() {
          const { startTelemetry } = await import('./telemetry.js');
          const producers = metricsWanted && ctx.spec.metrics.length ? [mapMetricsProducer(ctx.spec, (m) => ctx.kernel.mapFd(m))] : [];
          telemetry = await startTelemetry({ prometheusListen: listen, metricsExporter: otel.metricsExporter, logsExporter: otel.logsExporter, producers, warn: (t) => ctx.notice(t) });
          if (telemetry.prometheusUrl) ctx.notice(`serving metrics on ${telemetry.prometheusUrl}\n`);
          if (otel.metricsExporter) ctx.notice(`sending metrics to ${otel.metricsExporter.url} every ${otel.metricsExporter.intervalMs} ms\n`);
          if (otel.logsExporter) ctx.notice(`sending events as logs to ${otel.logsExporter.url}\n`);
        },
        // before the maps close: the last push reads them
        stop: () => shutdown(),
        close: () => shutdown(),
      };
    },
  };
}
