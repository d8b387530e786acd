/**
 * Stack formatters, as IG's ebpf operator (kernel stacks) and its ustack operator (user stacks):
 *
 * - a `gadget_kernel_stack` field `x_raw` (a stack id in `ig_kstack`) gets a string sibling `x`
 *   (or the name in its `ebpf.formatter.kstack` annotation): the frames named through
 *   /proc/kallsyms, as IG writes them: `sym; sym; `;
 * - a `struct gadget_user_stack` field `s` gets `s.addresses` (`0x%016x; `), `s.symbols` (the
 *   function of each frame where the binary or library has a symbol table, else the address)
 *   and `s.buildid` (empty: ig does not read build ids), hidden as in IG.
 *
 * Stacks are read from their maps when each batch passes (not when shown), so a stack id reused
 * later by another stack is never misnamed.
 */
import { KernelSymbols } from '../runtime/symbols/kallsyms.js';
import { userSymbols } from '../runtime/symbols/user-symbols.js';
import { native } from '../runtime/native.js';
import { IgError } from '../errors.js';
import type { RunDataSource } from '../datasource/datasource.js';
import type { Batch } from '../datasource/batch.js';
import type { DataOperator, RunContext } from '../datasource/operator.js';

const KSTACK_MAP = 'ig_kstack';
const USTACK_MAP = 'ig_ustack';
const PRIORITY = 100;
const USTACK_PARTS = ['stack_id', 'tgid_level0', 'pid_level0', 'inode', 'base_addr_hash'];

/** The frames of a stack id, from a stack map (0-terminated u64 addresses). */
function frames(fd: number, valueSize: number, id: number): bigint[] | undefined {
  if (id < 0 || id > 0x7fffffff) return undefined;
  const key = Buffer.alloc(4);
  key.writeUInt32LE(id);
  const v = native().mapLookup(fd, key, valueSize);
  if (!v) return undefined;
  const out: bigint[] = [];
  for (let o = 0; o + 8 <= v.length; o += 8) {
    const a = v.readBigUInt64LE(o);
    if (a === 0n) break;
    out.push(a);
  }
  return out;
}

function mapValueSize(ctx: RunContext, map: string, field: string, header: string): number {
  const m = ctx.spec.maps.find((x) => x.name === map);
  if (!m) {
    throw new IgError('invalid-object', `field ${field} is a ${header.replace('.h', '')} stack, but the gadget has no ${map} map`, {
      hint: `include <gadget/${header}> in the gadget`,
    });
  }
  return m.valueSize;
}

function kernelStacks(ctx: RunContext, ds: RunDataSource): ((b: Batch) => void) | undefined {
  const raws = ds.fields.filter((f) => f.typeName === 'gadget_kernel_stack' && f.source.type === 'static');
  if (raws.length === 0) return undefined;
  const size = mapValueSize(ctx, KSTACK_MAP, raws[0]!.name, 'kernel_stack_map.h');
  const parts = raws.map((raw) => {
    const target = ctx.spec.metadata?.datasources?.[ds.name]?.fields?.[raw.name]?.annotations?.['ebpf.formatter.kstack'];
    const name = typeof target === 'string' ? target : raw.name.endsWith('_raw') ? raw.name.slice(0, -4) : `${raw.name}_symbols`;
    if (ds.field(name)) return undefined; // the gadget has its own field of that name
    ds.updateField(raw.name, { hidden: true });
    ds.addField({ name, kind: 'string', typeName: 'gadget_kernel_stack', rawOf: raw.name, description: 'kernel stack, innermost frame first' }, { after: raw.name });
    return { read: ds.reader(raw.name), set: ds.setter(name) };
  }).filter((p) => p !== undefined);
  if (parts.length === 0) return undefined;
  return (b) => {
    const fd = ctx.kernel.mapFd(KSTACK_MAP);
    const syms = KernelSymbols.get();
    for (const p of parts) {
      for (let k = 0; k < b.count; k++) {
        const r = b.rows[k]!;
        const f = frames(fd, size, Number(p.read(b, r)));
        p.set(b, r, f ? f.map((a) => `${syms.lookup(a)}; `).join('') : '');
      }
    }
  };
}

function userStacks(ctx: RunContext, ds: RunDataSource): ((b: Batch) => void) | undefined {
  const prefixes = [...new Set(ds.fields.map((f) => f.name.replace(/\.[^.]+$/, '')))]
    .filter((p) => p !== '' && USTACK_PARTS.every((n) => ds.field(`${p}.${n}`)));
  if (prefixes.length === 0) return undefined;
  const size = mapValueSize(ctx, USTACK_MAP, prefixes[0]!, 'user_stack_map.h');
  const parts = prefixes.map((p) => {
    for (const f of ds.fields) if (f.name.startsWith(`${p}.`)) ds.updateField(f.name, { hidden: true });
    let after = ds.fields.filter((f) => f.name.startsWith(`${p}.`)).pop()!.name;
    for (const n of ['addresses', 'buildid', 'symbols']) {
      ds.addField({ name: `${p}.${n}`, kind: 'string', hidden: true, tags: ['operator:ustack'] }, { after });
      after = `${p}.${n}`;
    }
    return {
      stackId: ds.reader(`${p}.stack_id`), tgid: ds.reader(`${p}.tgid_level0`), inode: ds.reader(`${p}.inode`),
      addresses: ds.setter(`${p}.addresses`), buildid: ds.setter(`${p}.buildid`), symbols: ds.setter(`${p}.symbols`),
    };
  });
  return (b) => {
    const fd = ctx.kernel.mapFd(USTACK_MAP);
    for (const p of parts) {
      for (let k = 0; k < b.count; k++) {
        const r = b.rows[k]!;
        p.buildid(b, r, '');
        // inode 0: user stacks were not collected (--collect-ustack off)
        const f = Number(p.inode(b, r)) === 0 ? undefined : frames(fd, size, Number(p.stackId(b, r)));
        if (!f) {
          p.addresses(b, r, '');
          p.symbols(b, r, '');
          continue;
        }
        const names = userSymbols(Number(p.tgid(b, r)), f);
        p.addresses(b, r, f.map((a) => `0x${a.toString(16).padStart(16, '0')}; `).join(''));
        p.symbols(b, r, f.map((a, i) => `${names[i] ?? `0x${a.toString(16)}`}; `).join(''));
      }
    }
  };
}

export const stacksOperator: DataOperator = {
  name: 'stacks',
  instantiate(ctx: RunContext) {
    const subs: [RunDataSource, (b: Batch) => void][] = [];
    for (const ds of ctx.datasources) {
      for (const fn of [kernelStacks(ctx, ds), userStacks(ctx, ds)]) if (fn) subs.push([ds, fn]);
    }
    if (subs.length === 0 || ctx.mode === 'describe') return subs.length ? {} : undefined;
    const unsubscribe: (() => void)[] = [];
    return {
      preStart() {
        for (const [ds, fn] of subs) unsubscribe.push(ds.subscribe(fn, PRIORITY, 'stacks'));
      },
      close() {
        for (const u of unsubscribe) u();
      },
    };
  },
};
