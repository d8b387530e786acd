/**
 * Kernel addresses → function names, from /proc/kallsyms (as IG's kallsyms package and bcc's
 * ksyms__map_addr: the nearest symbol at or below the address). Read once per process, on
 * first use. Addresses are above 2^53, so they are kept as bigints.
 */
import { readFileSync } from 'node:fs';
import { IgError } from '../../errors.js';

export class KernelSymbols {
  private constructor(private readonly addrs: BigUint64Array, private readonly names: string[]) {}

  private static loaded?: KernelSymbols;

  static get(): KernelSymbols {
    return (KernelSymbols.loaded ??= KernelSymbols.parse(readFileSync('/proc/kallsyms', 'utf8')));
  }

  static parse(text: string): KernelSymbols {
    const rows: [bigint, string][] = [];
    for (const line of text.split('\n')) {
      const sp1 = line.indexOf(' ');
      if (sp1 < 0) continue;
      const type = line[sp1 + 1];
      // text symbols only (t/T, w/W weak): data symbols never hold an instruction pointer
      if (type !== 't' && type !== 'T' && type !== 'w' && type !== 'W') continue;
      const addr = BigInt('0x' + line.slice(0, sp1));
      if (addr === 0n) continue;
      const rest = line.slice(sp1 + 3);
      const tab = rest.indexOf('\t');
      rows.push([addr, tab < 0 ? rest : rest.slice(0, tab)]);
    }
    if (rows.length === 0) {
      throw new IgError('kernel', '/proc/kallsyms lists no addresses: kernel stacks cannot be named', {
        hint: 'run as root (kernel.kptr_restrict hides addresses from others)',
      });
    }
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new KernelSymbols(BigUint64Array.from(rows.map((r) => r[0])), rows.map((r) => r[1]));
  }

  /** The function an instruction pointer is in, or "[unknown]" (IG's word). */
  lookup(ip: bigint): string {
    let lo = 0, hi = this.addrs.length - 1;
    if (hi < 0 || ip < this.addrs[0]!) return '[unknown]';
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.addrs[mid]! <= ip) lo = mid;
      else hi = mid - 1;
    }
    return this.names[lo]!;
  }
}
