import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  familyFromEntries,
  histogramFromLog2Slots,
  mergeFamilies,
  parseListenAddress,
  renderPrometheus,
  startMetricsServer,
  type MetricFamily,
} from '../../src/metrics/index.js';

interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small validator for the text format 0.0.4: throws on anything a Prometheus scraper would reject. */
function parseExposition(text: string): { types: Map<string, string>; samples: ParsedSample[] } {
  const types = new Map<string, string>();
  const samples: ParsedSample[] = [];
  const seenSample = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
      expect(m[2]).not.toMatch(/(^|[^\\])\\[^\\n]/);
      continue;
    }
    if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      if (types.has(m[1]!)) throw new Error(`TYPE twice for ${m[1]}`);
      if (seenSample.has(m[1]!)) throw new Error(`TYPE after samples for ${m[1]}`);
      types.set(m[1]!, m[2]!);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[3] !== undefined && m[3] !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      let pos = 0;
      while (pos < m[3].length) {
        re.lastIndex = pos;
        const l = re.exec(m[3]);
        if (!l) throw new Error(`bad labels: ${m[3]}`);
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
        pos = re.lastIndex;
      }
    }
    const v = m[4]!;
    if (!/^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|NaN|[+-]Inf)$/.test(v)) throw new Error(`bad value ${v}`);
    const name = m[1]!;
    const family = name.replace(/_(bucket|sum|count)$/, '');
    const fam = types.has(name) ? name : family;
    if (!types.has(fam)) throw new Error(`sample ${name} without TYPE`);
    seenSample.add(fam);
    samples.push({ name, labels, value: v === '+Inf' ? Infinity : Number(v) });
  }
  // histograms: cumulative buckets, +Inf == _count
  for (const [fam, type] of types) {
    if (type !== 'histogram') continue;
    const groups = new Map<string, ParsedSample[]>();
    for (const s of samples.filter((x) => x.name === fam + '_bucket')) {
      const { le, ...rest } = s.labels;
      expect(le).toBeDefined();
      const k = JSON.stringify(rest);
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    for (const [k, bs] of groups) {
      let prevLe = -Infinity;
      let prev = 0;
      for (const b of bs) {
        const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
        expect(le).toBeGreaterThan(prevLe);
        expect(b.value).toBeGreaterThanOrEqual(prev);
        prevLe = le;
        prev = b.value;
      }
      expect(bs[bs.length - 1]!.labels.le).toBe('+Inf');
      const count = samples.find((x) => x.name === fam + '_count' && JSON.stringify(x.labels) === k);
      expect(count?.value).toBe(prev);
      expect(samples.some((x) => x.name === fam + '_sum' && JSON.stringify(x.labels) === k)).toBe(true);
    }
  }
  return { types, samples };
}

const families: MetricFamily[] = [
  {
    name: 'counter_syscalls',
    help: 'Syscalls by\ncomm \\ pid',
    type: 'counter',
    samples: [
      { labels: { comm: 'cat', 'k8s.podName': 'we"b\\1\n' }, value: 18446744073709551615n },
      { labels: { comm: 'sh', 'k8s.podName': '' }, value: 3 },
    ],
  },
  { name: 'gauge_open_files', type: 'gauge', samples: [{ value: 1.5 }, { labels: { x: 'y' }, value: NaN }] },
  {
    name: 'hist_latency_ns',
    help: 'Latency',
    type: 'histogram',
    samples: [histogramFromLog2Slots([1, 0, 2, 5, 0, 0], { op: 'read' })],
  },
];

describe('renderPrometheus', () => {
  it('renders help, types, escaped labels and values exactly', () => {
    expect(renderPrometheus(families)).toBe(
      [
        '# HELP counter_syscalls Syscalls by\\ncomm \\\\ pid',
        '# TYPE counter_syscalls counter',
        'counter_syscalls{comm="cat",k8s_podName="we\\"b\\\\1\\n"} 18446744073709551615',
        'counter_syscalls{comm="sh",k8s_podName=""} 3',
        '# TYPE gauge_open_files gauge',
        'gauge_open_files 1.5',
        'gauge_open_files{x="y"} NaN',
        '# HELP hist_latency_ns Latency',
        '# TYPE hist_latency_ns histogram',
        'hist_latency_ns_bucket{op="read",le="1"} 1',
        'hist_latency_ns_bucket{op="read",le="3"} 1',
        'hist_latency_ns_bucket{op="read",le="7"} 3',
        'hist_latency_ns_bucket{op="read",le="15"} 8',
        'hist_latency_ns_bucket{op="read",le="+Inf"} 8',
        // estimate: 1×1 + 2×5.5 + 5×11.5
        'hist_latency_ns_sum{op="read"} 69.5',
        'hist_latency_ns_count{op="read"} 8',
        '',
      ].join('\n'),
    );
  });
  it('passes the validator, label values round-trip', () => {
    const { types, samples } = parseExposition(renderPrometheus(families));
    expect(types.get('hist_latency_ns')).toBe('histogram');
    expect(samples[0]!.labels['k8s_podName']).toBe('we"b\\1\n');
  });
  it('uses a known sum and count overflow, and sanitizes names', () => {
    const h = histogramFromLog2Slots([0n, 4n], undefined, 10n);
    const text = renderPrometheus([{ name: 'my.hist', type: 'histogram', samples: [{ ...h, count: 6n }] }]);
    expect(text).toBe(
      '# TYPE my_hist histogram\nmy_hist_bucket{le="1"} 0\nmy_hist_bucket{le="3"} 4\nmy_hist_bucket{le="+Inf"} 6\nmy_hist_sum 10\nmy_hist_count 6\n',
    );
    parseExposition(text);
  });
});

describe('families from map entries', () => {
  it('builds counters and histograms and merges by name', () => {
    const c1 = familyFromEntries('counter_opens', 'counter', [{ labels: { comm: 'cat' }, value: 2n }], 'Opens');
    const c2 = familyFromEntries('counter_opens', 'counter', [{ labels: { comm: 'ls' }, value: 1 }]);
    const h = familyFromEntries('hist_lat', 'histogram', [{ labels: { 'proc.comm': 'x' }, value: [0, 1] }]);
    const text = renderPrometheus(mergeFamilies([c1, h, c2]));
    expect(text).toBe(
      [
        '# HELP counter_opens Opens',
        '# TYPE counter_opens counter',
        'counter_opens{comm="cat"} 2',
        'counter_opens{comm="ls"} 1',
        '# TYPE hist_lat histogram',
        'hist_lat_bucket{proc_comm="x",le="1"} 0',
        'hist_lat_bucket{proc_comm="x",le="3"} 1',
        'hist_lat_bucket{proc_comm="x",le="+Inf"} 1',
        'hist_lat_sum{proc_comm="x"} 2.5',
        'hist_lat_count{proc_comm="x"} 1',
        '',
      ].join('\n'),
    );
    parseExposition(text);
    expect(() => mergeFamilies([c1, { ...h, name: 'counter_opens' }])).toThrow('metric counter_opens is both a counter and a histogram');
  });
});

function get(url: string, method = 'GET'): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics server', () => {
  it('parses listen addresses', () => {
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:9090')).toEqual({ host: '::1', port: 9090 });
    expect(parseListenAddress(':2224')).toEqual({ host: undefined, port: 2224 });
    expect(() => parseListenAddress('localhost')).toThrow('metrics: invalid listen address "localhost"');
  });

  it('serves /metrics on a free port and closes', async () => {
    let n = 0;
    const srv = await startMetricsServer('127.0.0.1:0', async () => {
      n++;
      return [{ name: 'counter_scrapes', type: 'counter', samples: [{ value: n }] }];
    });
    try {
      expect(srv.port).toBeGreaterThan(0);
      expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/metrics`);
      const r1 = await get(srv.url);
      expect(r1.status).toBe(200);
      expect(r1.type).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(r1.body).toBe('# TYPE counter_scrapes counter\ncounter_scrapes 1\n');
      parseExposition(r1.body);
      expect((await get(srv.url)).body).toContain('counter_scrapes 2');
      expect((await get(`http://127.0.0.1:${srv.port}/`)).status).toBe(404);
      expect((await get(srv.url, 'POST')).status).toBe(405);
    } finally {
      await srv.close();
    }
    await expect(get(srv.url)).rejects.toThrow();
  });

  it('answers 500 when collecting fails, and reports a busy port', async () => {
    const srv = await startMetricsServer('127.0.0.1:0', async () => {
      throw new Error('map gone');
    });
    try {
      const r = await get(srv.url);
      expect(r.status).toBe(500);
      expect(r.body).toBe('collecting metrics failed: map gone\n');
      await expect(startMetricsServer(`127.0.0.1:${srv.port}`, async () => [])).rejects.toThrow(
        `metrics: cannot listen on 127.0.0.1:${srv.port}: EADDRINUSE`,
      );
    } finally {
      await srv.close();
    }
  });
});
