import { describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { ValueType } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type MetricProducer } from '@opentelemetry/sdk-metrics';
import { emptyResource } from '@opentelemetry/resources';
import { histogramPoints, metricName } from '../../src/metrics/gadget-maps.js';
import { parseListenAddress } from '../../src/metrics/server.js';
import { startTelemetry } from '../../src/metrics/telemetry.js';

function get(url: string): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics from maps', () => {
  it('turns bucket rows (le or log2 slot) into one cumulative histogram point per label set', () => {
    const pts = histogramPoints([
      { labels: { comm: 'a', slot: 0 }, value: 2 },
      { labels: { comm: 'a', slot: 2 }, value: 1 },
      { labels: { comm: 'b', le: 10 }, value: 4 },
    ]);
    expect(pts).toEqual([
      { labels: { comm: 'a' }, boundaries: [1, 7], counts: [2, 1, 0], sum: 2 * 0.5 + 1 * 4, count: 3 },
      { labels: { comm: 'b' }, boundaries: [10], counts: [4, 0], sum: 20, count: 4 },
    ]);
    expect(metricName('ig', 'getcwd-calls')).toBe('ig_getcwd_calls');
  });
});

describe('telemetry (OpenTelemetry SDK)', () => {
  it('serves a producer\'s points in Prometheus\' text through the SDK\'s exporter, on the address asked', async () => {
    let n = 0;
    const producer: MetricProducer = {
      collect: async () => ({
        errors: [],
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: [{ scope: { name: 't' }, metrics: [{
            descriptor: { name: 'ig_scrapes', description: 'scrapes', unit: '', valueType: ValueType.INT },
            aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true,
            dataPoints: [{ startTime: [0, 0], endTime: [1, 0], attributes: { comm: 'cat' }, value: ++n }],
          }] }],
        },
      }),
    };
    const t = await startTelemetry({ prometheusListen: '127.0.0.1:0', producers: [producer] });
    try {
      expect(t.prometheusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const r = await get(t.prometheusUrl!);
      expect(r.status).toBe(200);
      expect(r.body).toBe('# HELP ig_scrapes_total scrapes\n# TYPE ig_scrapes_total counter\nig_scrapes_total{comm="cat"} 1\n');
      expect((await get(t.prometheusUrl!)).body).toContain('ig_scrapes_total{comm="cat"} 2');
      expect((await get(t.prometheusUrl!.replace('/metrics', '/'))).status).toBe(404);
      // a meter's instruments appear beside the producer's
      t.meter('ds').createCounter('opens').add(3, { comm: 'ls' });
      expect((await get(t.prometheusUrl!)).body).toContain('opens_total{comm="ls"} 3');
      await expect(startTelemetry({ prometheusListen: t.prometheusUrl!.replace(/^http:\/\/|\/metrics$/g, ''), producers: [] })).rejects.toThrow(/metrics: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
    } finally {
      await t.shutdown();
    }
    await expect(get(t.prometheusUrl!)).rejects.toThrow();
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:9090')).toEqual({ host: '::1', port: 9090 });
    expect(parseListenAddress(':2224')).toEqual({ host: undefined, port: 2224 });
    expect(() => parseListenAddress('localhost')).toThrow('metrics: invalid listen address "localhost"');
  });
});
