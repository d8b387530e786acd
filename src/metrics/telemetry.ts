/**
 * One run's OpenTelemetry (the OTel SDK for JS): a MeterProvider whose readers are the
 * Prometheus exporter (served on --metrics-listen / --otel-metrics-listen-address by our HTTP
 * server) and a periodic OTLP/HTTP exporter (--otel-metrics-exporter); a LoggerProvider sending
 * events as OTLP logs (--otel-logs-exporter). Gadget maps come in as a MetricProducer (their
 * values are aggregated in the kernel already); datasources marked `metrics.collect` record
 * into the SDK's instruments.
 */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { Meter } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import { MeterProvider, PeriodicExportingMetricReader, type MetricProducer, type IMetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { packageVersion } from '../paths.js';
import type { OtlpTarget } from '../model/otlp.js';
import { listenHttp } from './server.js';

/** How long one OTLP export may take, the last one at Ctrl-C included. */
const EXPORT_TIMEOUT_MS = 2000;

export interface TelemetryOptions {
  /** Prometheus scrape address (host:port) */
  prometheusListen?: string;
  metricsExporter?: OtlpTarget;
  logsExporter?: OtlpTarget;
  producers: MetricProducer[];
  /** a failed export, said once per distinct reason (a collector that does not answer) */
  warn?: (text: string) => void;
}

export interface Telemetry {
  meter(name: string): Meter;
  logger(name: string): Logger | undefined;
  /** where Prometheus scrapes, when served */
  prometheusUrl?: string;
  /** export what is pending (a last OTLP push) and stop */
  shutdown(): Promise<void>;
}

export async function startTelemetry(o: TelemetryOptions): Promise<Telemetry> {
  if (o.warn) {
    // the SDK reports failed exports to its global error handler (silent by default)
    const warn = o.warn;
    const said = new Set<string>();
    setGlobalErrorHandler((e) => {
      const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
      if (said.has(why) || said.size > 20) return;
      said.add(why);
      warn(`warning: OpenTelemetry export failed: ${why}\n`);
    });
  }
  const resource = resourceFromAttributes({ 'service.name': 'ig', 'service.version': packageVersion() });
  const readers: IMetricReader[] = [];
  let server: Server | undefined;
  let prometheusUrl: string | undefined;
  if (o.prometheusListen) {
    // the exporter renders; our server listens (the address the user gave, port 0 included)
    const prom = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true, metricProducers: o.producers });
    readers.push(prom);
    server = createServer((req, res) => {
      if ((req.url ?? '/').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: use /metrics\n');
        return;
      }
      prom.getMetricsRequestHandler(req, res);
    });
    const a = await listenHttp(server, o.prometheusListen, 'metrics');
    prometheusUrl = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics`;
  }
  if (o.metricsExporter) {
    readers.push(new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: o.metricsExporter.url, timeoutMillis: EXPORT_TIMEOUT_MS }),
      exportIntervalMillis: o.metricsExporter.intervalMs,
      exportTimeoutMillis: Math.min(o.metricsExporter.intervalMs, EXPORT_TIMEOUT_MS),
      metricProducers: o.producers,
    }));
  }
  const meters = new MeterProvider({ resource, readers });
  const logs = o.logsExporter
    ? new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: o.logsExporter.url, timeoutMillis: EXPORT_TIMEOUT_MS }), scheduledDelayMillis: 500 })] })
    : undefined;
  return {
    meter: (name) => meters.getMeter(name, packageVersion()),
    logger: (name) => logs?.getLogger(name, packageVersion()),
    prometheusUrl,
    async shutdown() {
      // the last push, but Ctrl-C is not held up by a collector that does not answer
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([meters.shutdown(), logs?.shutdown()]),
        new Promise((resolve) => (timer = setTimeout(resolve, EXPORT_TIMEOUT_MS + 500))),
      ]);
      clearTimeout(timer);
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
    },
  };
}
