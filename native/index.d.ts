/**
 * Typed surface of the native addon (native/src/*.cc), a thin layer over a
 * vendored, statically linked libbpf. Validation, policy and formatting live in
 * TypeScript (src/runtime, src/btf); this layer only moves bytes and handles.
 *
 * Errors thrown here are plain Error objects with `errno` (positive number, when
 * the kernel or libbpf gave one), `op` (what was attempted) and, for load
 * failures, `log` (libbpf + verifier output captured during load). Attach failures also carry
 * `log` (whatever libbpf printed) and a message naming the ELF section, e.g.
 * "attaching kprobe/do_sys_openat2 (kp_open): No such file or directory" with errno 2.
 * libbpf prints nothing to stderr unless the environment variable IG_LIBBPF_DEBUG is set
 * (non-empty, not "0") when the addon is loaded.
 *
 * Build: `make -C native` (fetches and builds the vendored libbpf on first use).
 */

/** One BTF type, as plain data. `id` 0 is void and never listed. */
export interface BtfMember { name: string; type: number; bitsOffset: number; bitfieldSize: number }
export interface BtfEnumValue { name: string; value: number | bigint }
export interface BtfParam { name: string; type: number }
export interface BtfVarSecinfo { type: number; offset: number; size: number }
export type BtfKind =
  | 'int' | 'ptr' | 'array' | 'struct' | 'union' | 'enum' | 'fwd' | 'typedef' | 'volatile' | 'const'
  | 'restrict' | 'func' | 'func_proto' | 'var' | 'datasec' | 'float' | 'decl_tag' | 'type_tag' | 'enum64';
export interface BtfType {
  id: number;
  kind: BtfKind;
  name: string;
  /** byte size: int, struct, union, enum, enum64, float, datasec */
  size?: number;
  /** referenced type: ptr, typedef, volatile, const, restrict, func, var, decl_tag, type_tag, func_proto (return) */
  type?: number;
  /** int */
  intEncoding?: { signed: boolean; char: boolean; bool: boolean; bitsOffset: number; bits: number };
  /** array */
  array?: { type: number; indexType: number; nelems: number };
  /** struct, union */
  members?: BtfMember[];
  /** enum, enum64 */
  signed?: boolean;
  values?: BtfEnumValue[];
  /** fwd: true for union, false for struct */
  fwdUnion?: boolean;
  /** func: 0 static, 1 global, 2 extern; var: 0 static, 1 global, 2 extern */
  linkage?: number;
  /** func_proto */
  params?: BtfParam[];
  /** datasec */
  vars?: BtfVarSecinfo[];
  /** decl_tag: -1 for the whole type, else member/param index */
  componentIdx?: number;
}

export interface MapInfo {
  /**
   * libbpf's map name. Internal maps are reported by their section name (".rodata",
   * ".bss", ".data.custom"), not the kernel's "<obj>.rodata" — that is the name the
   * other methods accept.
   */
  name: string;
  /** BPF_MAP_TYPE_* number; see src/runtime/kernel-constants.ts */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BTF type ids of key and value (0 when absent) */
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** internal maps (.rodata, .bss, .data, .kconfig) */
  internal: boolean;
  /** where libbpf pins it (`__uint(pinning, LIBBPF_PIN_BY_NAME)`: /sys/fs/bpf/<name>) */
  pinPath?: string;
}

export interface ProgramInfo {
  name: string;
  /** ELF section, e.g. "tracepoint/syscalls/sys_enter_openat", "iter/task", "kprobe/do_sys_open" */
  section: string;
  /** BPF_PROG_TYPE_* number */
  type: number;
  /** BPF_* expected attach type number */
  expectedAttachType: number;
}

/**
 * An eBPF ELF object opened by libbpf (bpf_object__open_mem): parsed, not yet in the kernel.
 * The ELF bytes are copied. Methods throw `op: 'closed'` after close(), `op: 'loaded'` /
 * `'not-loaded'` when called in the wrong phase. A GC finalizer releases everything if
 * close() was never called.
 */
export class BpfObject {
  /**
   * `btfCustomPath`: a raw BTF file to resolve CO-RE relocations against instead of this kernel's;
   * `btfCustom`: the same as bytes (kept in a memfd until the object is closed).
   * `attachBtfIds`: iterator sections' attach BTF ids in this kernel's BTF (coreBtfMinimal's
   * `iterators`), so that load() need not read the kernel's whole BTF to find them.
   */
  constructor(elf: Buffer, name: string, opts?: { btfCustomPath?: string; btfCustom?: Buffer; attachBtfIds?: Record<string, number> });
  maps(): MapInfo[];
  programs(): ProgramInfo[];
  /**
   * The whole object BTF (`reachableOnly`: only the types that global variables, data sections and functions lead to,
   * each with its id, so the array has gaps); throws (op "btf") when the object has none.
   */
  btf(reachableOnly?: boolean): BtfType[];

  // ---- before load ----
  /** Bytes of an internal map's initial value (e.g. ".rodata"), a copy. */
  mapInitialValue(map: string): Buffer;
  /** Overwrite part of an internal map's initial value (used for `const volatile` params). */
  setMapInitialValue(map: string, offset: number, bytes: Buffer): void;
  setMapType(map: string, type: number): void;
  setMapValueSize(map: string, size: number): void;
  setMapKeySize(map: string, size: number): void;
  setMapMaxEntries(map: string, n: number): void;
  setProgramAutoload(prog: string, autoload: boolean): void;
  /** Set a program's BPF_PROG_TYPE_* (and expected attach type) where libbpf does not know its section. */
  setProgramType(prog: string, type: number, expectedAttachType?: number): void;
  /** Use an existing map (its fd, dup'ed) instead of creating this one at load: two objects share it. */
  reuseMapFd(map: string, fd: number): void;
  /** A program's instructions as libbpf holds them (8 bytes each; before load: as in the ELF). */
  programInsns(prog: string): Buffer;
  /**
   * Splice eBPF instructions (8 bytes each) in front of the body of `func` (a subprogram such as
   * IG's gadget_pf_, found by its BTF FUNC) in this classifier when it is loaded ("classifier/"
   * sections only). A program that does not call `func` loads unchanged.
   */
  setPacketFilter(prog: string, func: string, insns: Buffer): void;
  /**
   * Load everything into the kernel. On failure throws with `.log` (verifier output). Returns
   * true when the attachBtfIds given were used (libbpf did not read the kernel's whole BTF).
   */
  load(): boolean;

  // ---- after load ----
  mapFd(map: string): number;
  programFd(prog: string): number;
  /** Kernel ids, so tests and users can match bpftool output. */
  programId(prog: string): number;
  /** the loaded program (after the verifier's dead-code removal) has no helper call and no store */
  programDoesNothing(prog: string): boolean;
  mapId(map: string): number;
  /**
   * Attach one program. Auto-attachable sections (tracepoint, raw_tp, tp_btf, kprobe,
   * uprobe with a full spec, fentry...) need no options; returns a link handle index.
   */
  attach(prog: string, opts?: AttachOptions): number;
  /**
   * Attach a perf_event program to a sampling event on every CPU (default: the
   * software cpu-clock at 49 Hz). Returns one link handle per CPU.
   */
  attachPerfEvent(prog: string, opts?: { type?: number; config?: number; frequency?: number }): number[];
  /** Release one link made by attach(). */
  detach(link: number): void;
  /** Create an iterator from an iter/ program, read it to the end, release it. */
  /**
   * With `netnsPath` (e.g. /proc/PID/ns/net), socket iterators (tcp, udp) walk that
   * network namespace instead of the caller's.
   */
  readIter(prog: string, opts?: { mapFd?: number; netnsPath?: string }): Buffer;
  /** Release every link, map and program. Idempotent. */
  close(): void;
}

export interface AttachOptions {
  /** uprobe/uretprobe: binary path, symbol name (or offset), pid (-1 = all) */
  binaryPath?: string;
  funcName?: string;
  offset?: number;
  pid?: number;
  retprobe?: boolean;
  /** USDT semaphore: file offset of the reference counter the kernel increments while attached */
  refCtrOffset?: number;
  /** socket filter: attach to a new AF_PACKET raw socket bound to this interface ('' = all) */
  socketIfname?: string;
}

export interface AttachmentOptions {
  /**
   * xdp: link on `ifname`; tcx: link on `ifname` at `direction`; tc: clsact qdisc (kept) plus a
   * direct-action bpf filter (deleted on detach); socket: an AF_PACKET socket (all interfaces
   * unless `ifname`) with the program as SO_ATTACH_BPF; cgroup: link on `cgroupPath` with `attachType`.
   */
  kind: 'xdp' | 'tcx' | 'tc' | 'socket' | 'cgroup';
  /** the program (the attachment takes its own reference; the caller may close its fd) */
  progFd: number;
  ifname?: string;
  direction?: 'ingress' | 'egress';
  /** make the attachment inside this network namespace (e.g. /proc/PID/ns/net) */
  netnsPath?: string;
  cgroupPath?: string;
  attachType?: number;
}

/**
 * A program attached from its fd. Links and sockets go away with their fd, also when the process
 * is killed; a legacy tc filter lives until detach() (or its interface goes away). A GC finalizer
 * releases it if detach() was never called. Throws (op "attach", errno) naming the kind, the
 * interface and the namespace.
 */
export class Attachment {
  constructor(opts: AttachmentOptions);
  /** ifindex of the interface, in its namespace (0 for sockets on all interfaces and cgroups) */
  readonly ifindex: number;
  /** tc: the filter's handle and priority, as the kernel chose them */
  readonly tcHandle: number;
  readonly tcPriority: number;
  detach(): void;
}

/** Delete one legacy tc filter (in the network namespace at netnsPath, or here); a gone interface is not an error. */
export function tcDetach(netnsPath: string | undefined, ifindex: number, direction: 'ingress' | 'egress', handle: number, priority: number): void;
/** bpf_prog_load of raw instructions; returns the fd (close with closeFd). Throws with `.log` (verifier). */
export function progLoad(type: number, insns: Buffer, opts?: { name?: string; expectedAttachType?: number; license?: string }): number;
/** bpf_map_create; returns the fd (close with closeFd). Names are cut to the kernel's 15 characters of [A-Za-z0-9_.]. */
export function mapCreate(type: number, keySize: number, valueSize: number, maxEntries: number, name?: string): number;
/**
 * This kernel's BTF plus one struct (unsigned ints and char arrays, offsets in bytes), written
 * to outPath (atomically) as raw BTF: a CO-RE target for BpfObject's btfCustomPath.
 */
export function writeVmlinuxBtfWith(outPath: string, struct: {
  name: string; size: number; members: { name: string; offset: number; size: number; nelems?: number }[];
}): void;
/**
 * The minimal CO-RE BTF of an object (src/runtime/core-btf-cache.ts): every CO-RE relocation
 * computed against this kernel's BTF, the small BTF holding just the types and members they read,
 * and every relocation computed again against it, kept only when all agree. `results`: the
 * relocations' results, packed (40 bytes each), to compare with coreBtfResults. `reason`: why
 * the object cannot use one (no relocations, a program that needs the whole BTF anyway, a type
 * with no or several candidates, …). `targetPath`: a raw BTF file to relocate against instead of
 * this kernel's (what the object would get as btfCustomPath). `iterators`: each iterator section's
 * attach BTF id in this kernel's own BTF (refused with a targetPath, or when one is a module's).
 */
export function coreBtfMinimal(elf: Buffer, targetPath?: string):
  { btf: Buffer; results: Buffer; iterators: Record<string, number>; reason?: undefined } | { btf?: undefined; results?: undefined; iterators?: undefined; reason: string };
/** Every CO-RE relocation of the object computed against these BTF bytes (each needs exactly one candidate). */
export function coreBtfResults(elf: Buffer, btf: Buffer): { results: Buffer; reason?: undefined } | { results?: undefined; reason: string };

/** Result of one wakeup: many records in one Buffer. */
export interface RecordBatch {
  /**
   * all record bytes, back to back. From a RecordConsumer: a view of one of its reused buffers,
   * valid only while onBatch runs (copy what you keep).
   */
  data: Buffer;
  /** record i is data[offsets[i] .. offsets[i]+sizes[i]) */
  offsets: Uint32Array;
  sizes: Uint32Array;
  /** perf buffer: records the kernel reported lost since the last batch */
  lost: number;
}

/**
 * Consumes a RINGBUF or PERF_EVENT_ARRAY map on a native thread and hands JS whole
 * batches through one thread-safe function. One call per wakeup, never per record.
 *
 * - The thread polls with `pollTimeoutMs` (default 10) and drains the ring after every
 *   poll, woken or not, so records submitted with BPF_RB_NO_WAKEUP arrive within one timeout.
 * - A batch is cut at `maxBatchBytes` (default 256 KiB). `data` views one of 32 buffers the consumer
 *   reuses: it is valid only while onBatch runs (no allocation or copy per batch).
 * - Back pressure: when all 32 buffers wait for JS, the native thread waits for one to come back,
 *   the kernel ring fills and the eBPF side sees failed reserves / lost samples. Memory stays bounded.
 * - perf: `sizes[i]` is the raw sample size, which the kernel pads so that size + 4 is a
 *   multiple of 8 (a 36-byte struct arrives as 36, a 16-byte one as 20). `lost` sums the
 *   kernel's lost-sample reports. `perfPagesPerCpu` (default 64) must be a power of 2.
 * - The consumer dups the map fd, so it keeps working after the BpfObject is closed.
 * - While running it keeps the event loop alive (and itself from GC); after stop() it does not.
 * - An exception thrown by `onBatch` surfaces as an uncaught exception; catch inside it.
 */
export class RecordConsumer {
  constructor(
    mapFd: number,
    kind: 'ringbuf' | 'perf',
    onBatch: (batch: RecordBatch) => void,
    opts?: { perfPagesPerCpu?: number; pollTimeoutMs?: number; maxBatchBytes?: number },
  );
  /**
   * Stop the thread and free the ring; pending records are delivered first. Resolves when
   * done (thread joined, last batch delivered). Safe to call any number of times.
   */
  stop(): Promise<void>;
  /**
   * pause(true): stop reading the ring (it fills, and the eBPF side counts what it cannot
   * reserve as lost) until pause(false). A daemon's client that reads slower than the gadget
   * produces costs no CPU for records that would be dropped anyway.
   */
  pause(on: boolean): void;
}

// ---- map operations on any fd ----
/** null when the key is absent. For per-CPU maps pass valueSize = roundUp8(size) * numPossibleCpus(). */
export function mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null;
/** flags: 0 BPF_ANY, 1 BPF_NOEXIST, 2 BPF_EXIST */
export function mapUpdate(fd: number, key: Buffer, value: Buffer, flags?: number): void;
/** false when the key was absent. */
export function mapDelete(fd: number, key: Buffer): boolean;
/** Next key after `key` (null = first); null when there are no more. */
export function mapNextKey(fd: number, key: Buffer | null, keySize: number): Buffer | null;
/**
 * All entries at once: keys and values back to back (count entries). With `andDelete`
 * uses lookup_and_delete batch where the map type allows it, else lookup + delete.
 * Per-CPU maps return valueSize * nCpus (rounded to 8) bytes per entry.
 * Falls back to get_next_key + lookup where the kernel has no batch op. Maps that cannot
 * delete (arrays) report their entries and keep them when `andDelete` is set.
 */
export function mapDump(fd: number, keySize: number, valueSize: number, opts?: { andDelete?: boolean; perCpu?: boolean }):
  { keys: Buffer; values: Buffer; count: number };
export function numPossibleCpus(): number;
/** Close a file descriptor returned by the addon (map fds from mapFd are owned by the object; do not close those). */
export function closeFd(fd: number): void;
/** CLOCK_REALTIME − CLOCK_BOOTTIME in ns, read natively (eBPF boot-time stamps + this = wall-clock ns). */
export function bootToWallOffsetNs(): bigint;
/** The peer of a connected unix socket (SO_PEERCRED): its pid, uid and gid at connect time. */
export function peerCredentials(fd: number): { pid: number; uid: number; gid: number };
/**
 * Every eBPF program in the kernel, with its run time and count (kept while stats are on), and
 * what it is attached to by BTF (tracing programs: a type id of the BTF object attachBtfObjId).
 */
export function bpfPrograms(): { id: number; name: string; type: number; attachBtfId: number; attachBtfObjId: number; runTimeNs: bigint; runCount: bigint; mapIds: number[] }[];
/** Turn BPF run-time statistics on while the returned fd is open (close it with closeFd). */
export function enableBpfStats(): number;
/** The runtime's socket enricher (native/bpf/socket_enricher.bpf.c), an eBPF ELF object. */
export function socketEnricherObject(): Buffer;
/** libbpf's own version string, e.g. "v1.5". */
export function libbpfVersion(): string;
/** libbpf's kernel feature probes so far, one byte per feature: 0 not probed, 1 supported, 2 missing. */
export function kernelFeatures(): Buffer;
/** Mark as supported the features these bytes (as kernelFeatures() gives them) say are, where libbpf has not probed yet. */
export function presetKernelFeatures(features: Buffer): void;

// ---- for the host side of IG's wasm gadget API (src/wasm/) ----
/** An fd of the map with this kernel id (a map of maps' value); the caller owns it. */
export function mapFdById(id: number): number;
/** What the kernel says about a map fd. */
export function mapInfo(fd: number): { type: number; id: number; keySize: number; valueSize: number; maxEntries: number; name: string };
/**
 * A perf reader over a PERF_EVENT_ARRAY map read synchronously (IG's wasm perfReader*): one
 * BPF_OUTPUT perf event per online CPU, its ring mmapped, its fd put into the map at the CPU's
 * index. Overwritable readers (write_backward) are read while paused, newest record first.
 */
export class PerfReader {
  constructor(mapFd: number, perCpuBytes: number, overwritable: boolean);
  pause(): void;
  resume(): void;
  /** The next sample's raw bytes, or null when none came within timeoutMs (overwritable: none left). Throws op 'not-paused' for an overwritable reader not paused. */
  read(timeoutMs?: number): Buffer | null;
  /** Unmap, close, remove the fds from the map. Idempotent. */
  close(): void;
}

/**
 * Compiles a pcap filter expression (tcpdump's syntax) with libpcap's pcap_compile for a link
 * type (1 = Ethernet) and snap length: classic BPF, 8 bytes per instruction (u16 code, u8 jt,
 * u8 jf, u32 k; host order). libpcap is loaded on first use. A bad expression throws libpcap's
 * message (code "EPCAPSYNTAX"); a missing libpcap throws code "ENOLIBPCAP".
 */
export function pcapCompile(expr: string, snaplen: number, linktype: number): Buffer;

/**
 * Unmaps from this process the resident pages of its private, read-only file mappings that are
 * still the file's own (node's binary, shared libraries): RSS drops, the page cache keeps them,
 * a page used again comes back by a minor fault. Returns the bytes unmapped.
 */
export function dropCleanFilePages(): number;
/**
 * Replaces the process's copy of the start-up snapshot's V8 data by a private mapping of `pagesFile` (the same
 * bytes laid out page for page, written beside the blob), where every page is equal; returns the bytes mapped (0: no copy matched).
 * A copy that starts elsewhere in its page than the page image assumes (malloc put it in its heap) is found by its first
 * bytes and shared through an image of that layout kept in the folder `offsetImages` (written there from `pagesFile` the
 * first time, at most 8 layouts per blob); without that folder such a copy stays as it is.
 */
export function shareSnapshotCopy(pagesFile: string, offsetImages?: string): number;
/**
 * shareSnapshotCopy(pagesFile, offsetImages) when given, dropCleanFilePages() unless `dropFilePages` is false and, unless `trim` is
 * false, malloc_trim(0), on a native thread of their own (returns at once).
 */
export function releaseUnusedMemory(trim?: boolean, pagesFile?: string, dropFilePages?: boolean, offsetImages?: string): void;
