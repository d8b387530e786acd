/**
 * The process operator, for operator-only gadgets (IG's top_process: gadget.yaml alone, with
 * `operator: { process: { emitstats: true, interval: 3s, first-interval: 250ms } }`): a topper
 * datasource `processes`, one row per process read from /proc, every interval (the first after
 * `first-interval`), `count` tables at most (0 = until stopped). CPU usage is the share of one
 * CPU a process used since the previous table (cpuUsageRelative: of all CPUs), as IG's.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import type { DataOperator, RunContext } from '../datasource/operator.js';
import type { FieldDesc } from '../model/field.js';
import { IgError } from '../errors.js';

const CLK_TCK = 100;

interface Proc {
  pid: number; ppid: number; comm: string; state: string; priority: number; nice: number; threadCount: number;
  cpuTicks: number; startTicks: number; vsize: number; rssPages: number; sharedPages: number; uid: number; mntns_id: number;
}

const FIELDS: FieldDesc[] = [
  { name: 'pid', kind: 'number', typeName: 'gadget_pid', template: 'pid' },
  { name: 'ppid', kind: 'number', typeName: 'gadget_ppid', template: 'pid' },
  { name: 'comm', kind: 'string', typeName: 'gadget_comm' },
  { name: 'uid', kind: 'number', typeName: 'gadget_uid', hidden: true },
  { name: 'priority', kind: 'number' },
  { name: 'nice', kind: 'number' },
  { name: 'threadCount', kind: 'number' },
  { name: 'state', kind: 'string' },
  { name: 'cpuTime', kind: 'number', hidden: true, description: 'CPU time used, ns' },
  { name: 'cpuTimeStr', kind: 'string' },
  { name: 'cpuUsage', kind: 'number', description: '% of one CPU since the previous table' },
  { name: 'cpuUsageRelative', kind: 'number', hidden: true, description: '% of all CPUs since the previous table' },
  { name: 'memoryRSS', kind: 'number', description: 'resident memory, bytes' },
  { name: 'memoryVirtual', kind: 'number', description: 'virtual memory, bytes' },
  { name: 'memoryShared', kind: 'number', description: 'shared memory, bytes' },
  { name: 'memoryRelative', kind: 'number', description: '% of the machine\'s memory' },
  { name: 'startTime', kind: 'number', hidden: true, description: 'start, ns since boot' },
  { name: 'startTimeStr', kind: 'string', hidden: true },
  { name: 'mntns_id', kind: 'number', typeName: 'gadget_mntns_id', hidden: true },
];

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const open = stat.indexOf('('), close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state)
    const statm = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      pid, comm: stat.slice(open + 1, close), state: f[0]!, ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]),
      priority: Number(f[15]), nice: Number(f[16]), threadCount: Number(f[17]), startTicks: Number(f[19]), vsize: Number(f[20]),
      rssPages: Number(f[21]), sharedPages: Number(statm[2]),
      uid: Number(status.match(/^Uid:\s+(\d+)/m)?.[1] ?? 0),
      mntns_id: statSync(`/proc/${pid}/ns/mnt`).ino,
    };
  } catch {
    return undefined; // gone meanwhile
  }
}

function cpuTimeStr(ns: number): string {
  const cs = Math.floor(ns / 1e7);
  const m = Math.floor(cs / 6000), s = Math.floor((cs % 6000) / 100);
  return `${m}:${String(s).padStart(2, '0')}.${String(cs % 100).padStart(2, '0')}`;
}

let pageSize: number | undefined;
function page(): number {
  if (pageSize) return pageSize;
  const rssKb = Number(readFileSync('/proc/self/status', 'utf8').match(/^VmRSS:\s+(\d+)/m)?.[1]);
  const rssPages = Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]);
  pageSize = rssKb && rssPages ? Math.round((rssKb * 1024) / rssPages / 4096) * 4096 || 4096 : 4096;
  return pageSize;
}

export function processOperator(params: Record<string, string>): DataOperator {
  return {
    name: 'process',
    instantiate(ctx: RunContext) {
      const cfg = ctx.spec.metadata?.operator?.process;
      if (!cfg) return undefined;
      const ds = ctx.addDataSource('processes', 'topper');
      for (const f of FIELDS) ds.addField({ ...f, ...attrs(ctx, f.name) });
      if (ctx.mode === 'describe') return {};
      const interval = durationMs('interval', params.interval ?? String(cfg.interval ?? '3s'));
      const first = durationMs('first-interval', String(cfg['first-interval'] ?? '250ms'));
      const count = Number(params.count ?? cfg.count ?? 0) || 0;
      return new ProcessTables(ctx, ds, interval, first, count);
    },
  };
}

/** gadget.yaml field annotations (IG's top_process names its columns there: `columns.alias`). */
function attrs(ctx: RunContext, name: string): Partial<FieldDesc> {
  const a = ctx.spec.metadata?.datasources?.processes?.fields?.[name]?.annotations ?? {};
  const out: Partial<FieldDesc> = {};
  if (typeof a['columns.alias'] === 'string') out.alias = a['columns.alias'];
  if (a['columns.hidden'] !== undefined) out.hidden = a['columns.hidden'] === true || a['columns.hidden'] === 'true';
  return out;
}

class ProcessTables {
  private timer?: NodeJS.Timeout;
  private prev = new Map<number, number>();
  private prevAt = 0;
  private emitted = 0;
  private readonly setters: Map<string, (b: Batch, r: number, v: unknown) => void>;
  private readonly memTotal = os.totalmem();
  private readonly cpus = os.cpus().length || 1;
  private readonly bootWallNs = BigInt(Date.now()) * 1_000_000n - BigInt(Math.round(os.uptime() * 1e9));

  constructor(
    private readonly ctx: RunContext, private readonly ds: RunDataSource,
    private readonly interval: number, private readonly first: number, private readonly count: number,
  ) {
    this.setters = new Map(FIELDS.map((f) => [f.name, ds.setter(f.name)]));
  }

  start(): void {
    this.sample(); // the base for the first table's CPU usage
    this.timer = setTimeout(() => this.tick(), this.first);
  }

  /** Every process, with its CPU usage since the previous sample. */
  private sample(): [Proc, number][] {
    const procs: Proc[] = [];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const p = readProc(Number(d));
      if (p) procs.push(p);
    }
    const now = Date.now();
    const elapsed = this.prevAt ? (now - this.prevAt) / 1000 : 0;
    const rows = procs.map((p): [Proc, number] => {
      const before = this.prev.get(p.pid) ?? p.cpuTicks;
      return [p, elapsed > 0 ? ((p.cpuTicks - before) / CLK_TCK / elapsed) * 100 : 0];
    });
    this.prev = new Map(procs.map((p) => [p.pid, p.cpuTicks]));
    this.prevAt = now;
    return rows;
  }

  private tick(): void {
    const rows = this.sample();
    const b = Batch.ofRows(rows.length);
    b.snapshot = true;
    const set = (name: string, r: number, v: unknown) => this.setters.get(name)!(b, r, v);
    const pg = page();
    rows.forEach(([p, cpu], r) => {
      const cpuNs = (p.cpuTicks / CLK_TCK) * 1e9;
      const startNs = (p.startTicks / CLK_TCK) * 1e9;
      const values: Record<string, unknown> = {
        pid: p.pid, ppid: p.ppid, comm: p.comm, uid: p.uid, priority: p.priority, nice: p.nice, threadCount: p.threadCount,
        state: p.state, cpuTime: cpuNs, cpuTimeStr: cpuTimeStr(cpuNs), cpuUsage: round2(cpu), cpuUsageRelative: round2(cpu / this.cpus),
        memoryRSS: p.rssPages * pg, memoryVirtual: p.vsize, memoryShared: p.sharedPages * pg,
        memoryRelative: round2(((p.rssPages * pg) / this.memTotal) * 100), startTime: startNs,
        startTimeStr: new Date(Number((this.bootWallNs + BigInt(Math.round(startNs))) / 1_000_000n)).toISOString(), mntns_id: p.mntns_id,
      };
      for (const f of FIELDS) set(f.name, r, values[f.name]);
    });
    this.ctx.emit(this.ds, b);
    this.emitted++;
    if (this.count > 0 && this.emitted >= this.count) return;
    this.timer = setTimeout(() => this.tick(), this.interval);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  close(): void {
    clearTimeout(this.timer);
  }
}

/** IG's durations in gadget.yaml and params: 250ms, 3s, 1m (a bare number is seconds). */
function durationMs(what: string, text: string): number {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)(ms|s|m|h)?$/);
  const n = m ? Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000) : NaN;
  if (!(n > 0)) throw new IgError('usage', `--${what}: "${text}" is not a duration`, { hint: 'e.g. 500ms, 3s, 1m' });
  return n;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
