/**
 * IG's --otel-metrics-exporter / --otel-logs-exporter name an exporter configured in the config
 * file (`operator.otel-metrics.exporters.NAME` / `operator.otel-logs.exporters.NAME`: exporter,
 * endpoint, insecure, interval); ig also takes an OTLP/HTTP URL directly
 * (`--otel-metrics-exporter http://127.0.0.1:4318`). ig speaks OTLP over HTTP with protobuf.
 */
import { IgError } from '../../errors.js';
import { parseDuration, type OtlpTarget } from '../../engine/config.js';

const DEFAULT_INTERVAL_MS = 5000;

function withPath(url: string, signal: 'metrics' | 'logs'): string {
  const u = new URL(url);
  if (u.pathname === '' || u.pathname === '/') u.pathname = `/v1/${signal}`;
  return u.toString();
}

export function otlpTarget(value: string | undefined, signal: 'metrics' | 'logs', operators: Record<string, Record<string, unknown>>): OtlpTarget | undefined {
  if (value === undefined || value === '') return undefined;
  const flag = `--otel-${signal}-exporter`;
  if (/^https?:\/\//.test(value)) {
    try {
      return { url: withPath(value, signal), intervalMs: DEFAULT_INTERVAL_MS };
    } catch {
      throw new IgError('usage', `${flag}: "${value}" is not a URL`, { hint: 'e.g. http://127.0.0.1:4318' });
    }
  }
  const section = `otel-${signal}`;
  const exporters = (operators[section]?.exporters ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const c = exporters[value];
  if (!c) {
    const known = Object.keys(exporters);
    throw new IgError('usage', `${flag}: no exporter named "${value}"${known.length ? ` (configured: ${known.join(', ')})` : ''}`, {
      hint: `give an OTLP/HTTP URL (${flag} http://127.0.0.1:4318), or configure it in ~/.config/ig/config.yaml under operator.${section}.exporters.${value} (exporter: otlp-http, endpoint: host:4318, insecure: true)`,
    });
  }
  const kind = String(c.exporter ?? 'otlp-http');
  if (kind !== 'otlp-http') {
    throw new IgError('usage', `exporter "${value}" is ${kind}; ig sends OTLP over HTTP`, { hint: `set exporter: otlp-http and the collector's OTLP/HTTP endpoint (usually port 4318) in operator.${section}.exporters.${value}` });
  }
  const endpoint = String(c.endpoint ?? '');
  if (!endpoint) throw new IgError('usage', `exporter "${value}" has no endpoint`, { hint: 'e.g. endpoint: 127.0.0.1:4318' });
  const url = /^https?:\/\//.test(endpoint) ? endpoint : `${c.insecure === true || c.insecure === 'true' ? 'http' : 'https'}://${endpoint}`;
  return { url: withPath(url, signal), intervalMs: c.interval === undefined ? DEFAULT_INTERVAL_MS : parseDuration(`${flag} ${value}: interval`, String(c.interval)) };
}
