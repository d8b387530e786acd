/**
 * The eBPF statistics operator, for operator-only gadgets that ask for it (IG's bpfstats:
 * `operator: { ebpf: { emitstats: true } }`): a topper datasource `bpfstats`, one row per eBPF
 * program in the kernel every `--statistics-interval` (default 1000ms, IG's): its id, name and
 * type, the run time and run count it added in the interval (kernel statistics are switched on
 * for the run, BPF_ENABLE_STATS), the CPU share that is, its map count, and the processes
 * holding it (`comms`, `pids`, from /proc/*\/fdinfo).
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { Batch } from '../datasource/batch.js';
import type { RunDataSource } from '../datasource/datasource.js';
import type { DataOperator, RunContext } from '../datasource/operator.js';
import type { FieldDesc } from '../model/field.js';
import { native } from '../runtime/native.js';

const TYPE_NAMES = ['unspec', 'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event', 'cgroup_skb',
  'cgroup_sock', 'lwt_in', 'lwt_out', 'lwt_xmit', 'sock_ops', 'sk_skb', 'cgroup_device', 'sk_msg', 'raw_tracepoint',
  'cgroup_sock_addr', 'lwt_seg6local', 'lirc_mode2', 'sk_reuseport', 'flow_dissector', 'cgroup_sysctl',
  'raw_tracepoint_writable', 'cgroup_sockopt', 'tracing', 'struct_ops', 'ext', 'lsm', 'sk_lookup', 'syscall', 'netfilter'];

const FIELDS: FieldDesc[] = [
  { name: 'progID', kind: 'number' },
  { name: 'progName', kind: 'string' },
  { name: 'progType', kind: 'string' },
  { name: 'runtime', kind: 'number', description: 'ns the program ran during the interval' },
  { name: 'runcount', kind: 'number', description: 'times it ran during the interval' },
  { name: 'cpuUsage', kind: 'number', description: '% of one CPU during the interval' },
  { name: 'mapCount', kind: 'number' },
  { name: 'comms', kind: 'string', description: 'processes holding the program' },
  { name: 'pids', kind: 'string', hidden: true },
];

/** Program id → processes holding it (an fd of the program, or of a link to it). */
function holders(): Map<number, { pid: number; comm: string }[]> {
  const out = new Map<number, { pid: number; comm: string }[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${d}/fd`);
    } catch {
      continue;
    }
    let comm: string | undefined;
    for (const fd of fds) {
      try {
        if (!readlinkSync(`/proc/${d}/fd/${fd}`).startsWith('anon_inode:bpf')) continue;
        const id = Number(readFileSync(`/proc/${d}/fdinfo/${fd}`, 'utf8').match(/^prog_id:\s+(\d+)/m)?.[1]);
        if (!id) continue;
        comm ??= readFileSync(`/proc/${d}/comm`, 'utf8').trim();
        const list = out.get(id) ?? [];
        if (!list.some((h) => h.pid === Number(d))) list.push({ pid: Number(d), comm });
        out.set(id, list);
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

export function bpfstatsOperator(params: Record<string, string>): DataOperator {
  return {
    name: 'bpfstats',
    instantiate(ctx: RunContext) {
      if (!ctx.spec.metadata?.operator?.ebpf?.emitstats) return undefined;
      const ds = ctx.addDataSource('bpfstats', 'topper');
      for (const f of FIELDS) ds.addField(f);
      if (ctx.mode === 'describe') return {};
      const ms = Number(String(params['statistics-interval'] ?? '1000ms').replace(/ms$/, '')) || 1000;
      return new BpfStats(ctx, ds, ms);
    },
  };
}

class BpfStats {
  private timer?: NodeJS.Timeout;
  private statsFd = -1;
  private prev = new Map<number, { t: bigint; n: bigint }>();
  private readonly setters: Map<string, (b: Batch, r: number, v: unknown) => void>;

  constructor(private readonly ctx: RunContext, private readonly ds: RunDataSource, private readonly intervalMs: number) {
    this.setters = new Map(FIELDS.map((f) => [f.name, ds.setter(f.name)]));
  }

  start(): void {
    this.statsFd = native().enableBpfStats();
    this.read();
    this.timer = setInterval(() => this.emit(), this.intervalMs);
  }

  private read(): { id: number; name: string; type: number; dt: number; dn: number; maps: number }[] {
    const rows = native().bpfPrograms().map((p) => {
      const before = this.prev.get(p.id);
      return { id: p.id, name: p.name, type: p.type, maps: p.mapIds.length,
        dt: before ? Number(p.runTimeNs - before.t) : 0, dn: before ? Number(p.runCount - before.n) : 0, t: p.runTimeNs, n: p.runCount };
    });
    this.prev = new Map(rows.map((r) => [r.id, { t: r.t, n: r.n }]));
    return rows;
  }

  private emit(): void {
    const rows = this.read();
    const who = holders();
    const b = Batch.ofRows(rows.length);
    b.snapshot = true;
    rows.forEach((p, r) => {
      const h = who.get(p.id) ?? [];
      const v: Record<string, unknown> = {
        progID: p.id, progName: p.name, progType: TYPE_NAMES[p.type] ?? String(p.type), runtime: p.dt, runcount: p.dn,
        cpuUsage: Math.round((p.dt / (this.intervalMs * 1e6)) * 10000) / 100, mapCount: p.maps,
        comms: [...new Set(h.map((x) => x.comm))].join(','), pids: h.map((x) => x.pid).join(','),
      };
      for (const f of FIELDS) this.setters.get(f.name)!(b, r, v[f.name]);
    });
    this.ctx.emit(this.ds, b);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  close(): void {
    clearInterval(this.timer);
    if (this.statsFd >= 0) native().closeFd(this.statsFd);
    this.statsFd = -1;
  }
}
