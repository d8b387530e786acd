/**
 * pcap filters for classifiers, as IG's ebpf operator offers them: a gadget declares a hook with
 * GADGET_PF(name) (gadget/packetfilter.h), the runtime adds a `--pf` param (`--pf-<name>` for a
 * named hook), compiles the expression with libpcap (tcpdump's syntax, for Ethernet frames) to
 * classic BPF, translates that to eBPF (cbpf-to-ebpf.ts) and has the addon splice it into the
 * hook's function in each classifier when the object is loaded. The filter runs in the kernel:
 * packets it rejects never reach the ring buffer.
 */
import { IgError } from '../../errors.js';
import type { ParamSpec } from '../../gadget/params.js';
import type { BpfObject, BtfType } from '../../../native/index.js';
import { native } from '../native.js';
import { cbpfToEbpf, parseCbpf } from './cbpf-to-ebpf.js';

const FUNC_PREFIX = 'gadget_pf_';
const LINKTYPE_ETHERNET = 1;
/** libpcap's default snap length: only what `ret #k` returns depends on it, and any k > 0 matches */
const COMPILE_SNAPLEN = 262144;

/** The hook names (`''` for GADGET_PF()) the object's BTF has functions for. */
function packetFilterHooks(btf: readonly BtfType[]): string[] {
  return btf.filter((t) => t.kind === 'func' && t.name.startsWith(FUNC_PREFIX)).map((t) => t.name.slice(FUNC_PREFIX.length));
}

function packetFilterParamKey(hook: string): string {
  return hook === '' ? 'pf' : `pf-${hook}`;
}

/** `--pf` (and `--pf-<name>`) for a gadget whose classifiers have GADGET_PF hooks. */
export function packetFilterParams(btf: readonly BtfType[]): ParamSpec[] {
  return packetFilterHooks(btf).map((hook) => ({
    key: packetFilterParamKey(hook), variable: '', section: '', offset: -1, size: 0, kind: 'string', default: '', runtime: true,
    description: `packet filter${hook ? ` ${hook}` : ''} in pcap-filter syntax (as tcpdump's), applied in the kernel`,
  }));
}

/** The eBPF instructions of a pcap filter expression; a bad expression fails with libpcap's message. */
function compilePacketFilter(expr: string, key = 'pf'): Buffer {
  let cbpf: Buffer;
  try {
    cbpf = native().pcapCompile(expr, COMPILE_SNAPLEN, LINKTYPE_ETHERNET);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'ENOLIBPCAP') {
      throw new IgError('unsupported', `--${key} needs libpcap, which could not be loaded (${e.message})`, {
        hint: 'install libpcap (Debian: apt-get install libpcap0.8)',
      });
    }
    throw new IgError('usage', `bad packet filter --${key} "${expr}": ${e.message}`, {
      hint: 'write it in pcap-filter syntax, as for tcpdump (man 7 pcap-filter), e.g. --pf "udp port 53"',
    });
  }
  return cbpfToEbpf(parseCbpf(cbpf));
}

/** Have every classifier's hooks run the filters given (programs without a hook load unchanged). */
export function applyPacketFilters(obj: BpfObject, classifiers: readonly string[], btf: readonly BtfType[], value: (key: string) => string | undefined): void {
  for (const hook of packetFilterHooks(btf)) {
    const key = packetFilterParamKey(hook);
    const expr = value(key)?.trim();
    if (!expr) continue;
    const code = compilePacketFilter(expr, key);
    for (const prog of classifiers) obj.setPacketFilter(prog, FUNC_PREFIX + hook, code);
  }
}
