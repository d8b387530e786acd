/**
 * A tiny OTLP/HTTP receiver for tests: POST /v1/metrics and /v1/logs with protobuf bodies,
 * decoded with protobufjs against the part of OpenTelemetry's proto files (opentelemetry-proto:
 * metrics, logs, common) the tests read. Field numbers are the protocol's.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package otlp;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; string version = 2; }
message NumberDataPoint { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; double as_double = 4; sfixed64 as_int = 6; }
message HistogramDataPoint { repeated KeyValue attributes = 9; fixed64 count = 4; double sum = 5; repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; }
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Metric { string name = 1; string description = 2; string unit = 3; Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message LogRecord { fixed64 time_unix_nano = 1; int32 severity_number = 2; string severity_text = 3; AnyValue body = 5; repeated KeyValue attributes = 6; fixed64 observed_time_unix_nano = 11; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const MetricsReq = root.lookupType('otlp.ExportMetricsServiceRequest');
const LogsReq = root.lookupType('otlp.ExportLogsServiceRequest');

type Any = Record<string, unknown>;
const anyValue = (v: Any | undefined): unknown => {
  if (!v) return undefined;
  if ('string_value' in v) return v.string_value;
  if ('int_value' in v) return Number(v.int_value);
  if ('double_value' in v) return v.double_value;
  if ('bool_value' in v) return v.bool_value;
  if ('array_value' in v) return ((v.array_value as Any).values as Any[] ?? []).map(anyValue);
  return undefined;
};
const attrs = (kvs: Any[] | undefined): Record<string, unknown> => Object.fromEntries((kvs ?? []).map((kv) => [kv.key as string, anyValue(kv.value as Any)]));

/** One data point as the tests look at it. */
export interface Point { metric: string; kind: 'sum' | 'gauge' | 'histogram'; monotonic?: boolean; attributes: Record<string, unknown>; value: number; resource: Record<string, unknown> }
interface Log { body: unknown; attributes: Record<string, unknown>; severity: string; scope: string; resource: Record<string, unknown> }

export interface OtlpReceiver {
  /** the base URL (http://127.0.0.1:PORT), for --otel-*-exporter */
  url: string;
  /** every export, in order: its points */
  metricExports: Point[][];
  logs: Log[];
  contentTypes: Set<string>;
  close(): Promise<void>;
}

function points(req: Any): Point[] {
  const out: Point[] = [];
  for (const rm of (req.resource_metrics as Any[]) ?? []) {
    const resource = attrs((rm.resource as Any | undefined)?.attributes as Any[]);
    for (const sm of (rm.scope_metrics as Any[]) ?? []) {
      for (const m of (sm.metrics as Any[]) ?? []) {
        const name = m.name as string;
        const num = (p: Any) => (p.as_int !== undefined ? Number(p.as_int) : Number(p.as_double ?? 0));
        if (m.sum) for (const p of ((m.sum as Any).data_points as Any[]) ?? []) out.push({ metric: name, kind: 'sum', monotonic: Boolean((m.sum as Any).is_monotonic), attributes: attrs(p.attributes as Any[]), value: num(p), resource });
        if (m.gauge) for (const p of ((m.gauge as Any).data_points as Any[]) ?? []) out.push({ metric: name, kind: 'gauge', attributes: attrs(p.attributes as Any[]), value: num(p), resource });
        if (m.histogram) for (const p of ((m.histogram as Any).data_points as Any[]) ?? []) out.push({ metric: name, kind: 'histogram', attributes: attrs(p.attributes as Any[]), value: Number(p.count), resource });
      }
    }
  }
  return out;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const r: Omit<OtlpReceiver, 'url' | 'close'> = { metricExports: [], logs: [], contentTypes: new Set() };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      r.contentTypes.add(String(req.headers['content-type']));
      try {
        if (req.url === '/v1/metrics') r.metricExports.push(points(MetricsReq.toObject(MetricsReq.decode(body), { longs: String, defaults: false }) as Any));
        else if (req.url === '/v1/logs') {
          const lr = LogsReq.toObject(LogsReq.decode(body), { longs: String }) as Any;
          for (const rl of (lr.resource_logs as Any[]) ?? []) {
            const resource = attrs((rl.resource as Any | undefined)?.attributes as Any[]);
            for (const sl of (rl.scope_logs as Any[]) ?? []) {
              for (const l of (sl.log_records as Any[]) ?? []) {
                r.logs.push({ body: anyValue(l.body as Any), attributes: attrs(l.attributes as Any[]), severity: String(l.severity_text ?? ''), scope: String((sl.scope as Any | undefined)?.name ?? ''), resource });
              }
            }
          }
        } else {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    ...r,
    get metricExports() { return r.metricExports; },
    get logs() { return r.logs; },
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
