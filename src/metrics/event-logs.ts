/**
 * Events as OpenTelemetry log records (--otel-logs-exporter): one record per event that passes
 * the filters, its fields as attributes (dotted names, as in JSON output re-flattened), the
 * event's JSON text as the body, the datasource in `gadget.datasource`.
 */
import type { Logger } from '@opentelemetry/api-logs';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';

const value = (v: unknown): string | number | boolean | (string | number)[] => {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' ? x : String(x)));
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
};

export function eventLogger(ds: RunDataSource, logger: Logger): (b: Batch) => void {
  return (b) => {
    for (const e of ds.events(b)) {
      const attributes: Record<string, ReturnType<typeof value>> = { 'gadget.datasource': ds.name };
      for (const [k, v] of Object.entries(e)) attributes[k] = value(v);
      logger.emit({
        severityNumber: SeverityNumber.INFO,
        severityText: 'INFO',
        body: JSON.stringify(e, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)),
        attributes,
      });
    }
  };
}
