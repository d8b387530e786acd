/**
 * Inspektor Gadget's gadget-header surface that ig's bpf/include/gadget/ does not provide, and why.
 * A compile error naming one of these becomes a message saying so, instead of leaving the author to
 * guess whether the name is misspelled or missing from ig. Keep in step with spec/ig-header-surface.md.
 */

const IG_HEADERS = [
  'bits.bpf.h', 'buffer.h', 'common.h', 'core_fixes.bpf.h', 'filesystem.h', 'filter.h', 'fnv1a.h',
  'gpu_bridge_maps.h', 'gpu_types.h', 'kernel_stack_map.h', 'macros.h', 'maps.bpf.h', 'mntns.h',
  'mntns_filter.h', 'packetfilter.h', 'sockets-map.h', 'types.h', 'user_stack_map.h',
] as const;

/** Headers of IG's surface ig lacks (none today: every IG header has an ig counterpart). */
const MISSING_HEADERS: Record<string, string> = {};

const FS_INTERNAL = 'gadget/filesystem.h: an internal of IG\'s path walker (from tracee), used by no IG gadget; ig walks paths its own way';
const OTEL = 'gadget/user_stack_map.h: IG\'s OpenTelemetry-profiler plumbing; ig has no such profiler (otel_correlation_id stays 0)';

/** Identifiers of IG's surface ig lacks, with where IG has them and why ig does not. */
const MISSING_NAMES: Record<string, string> = {
  MAX_PERCPU_BUFSIZE: FS_INTERNAL,
  MAX_STR_FILTER_SIZE: FS_INTERNAL,
  MAX_BIN_PATH_SIZE: FS_INTERNAL,
  FILE_MAGIC_HDR_SIZE: FS_INTERNAL,
  FILE_MAGIC_MASK: FS_INTERNAL,
  NET_SEQ_OPS_SIZE: FS_INTERNAL,
  NET_SEQ_OPS_TYPES: FS_INTERNAL,
  MAX_KSYM_NAME_SIZE: FS_INTERNAL,
  UPROBE_MAGIC_NUMBER: FS_INTERNAL,
  ARGS_BUF_SIZE: FS_INTERNAL,
  SEND_META_SIZE: FS_INTERNAL,
  MAX_MEM_DUMP_SIZE: FS_INTERNAL,
  MAX_PATH_COMPONENTS: FS_INTERNAL,
  STRING_BUF_IDX: FS_INTERNAL,
  MAX_BUFFERS: FS_INTERNAL,
  buf_t: FS_INTERNAL,
  bufs: FS_INTERNAL,
  get_buf: FS_INTERNAL,
  real_mount: FS_INTERNAL,
  get_mnt_root_ptr_from_vfsmnt: FS_INTERNAL,
  get_d_parent_ptr_from_dentry: FS_INTERNAL,
  get_d_name_from_dentry: FS_INTERNAL,
  otel_generic_params: OTEL,
  otel_tc_kprobe: OTEL,
  otel_tc_perf: OTEL,
  gadget_fetch_otel_stack_from_kprobe: OTEL,
  gadget_fetch_otel_stack_from_perf_event: OTEL,
  ig_empty_build_id: 'gadget/user_stack_map.h: an internal of IG\'s; ig\'s equivalent is private',
};

export interface SurfaceGap { name: string; message: string }

/**
 * What in clang's errors is a gap of ig's header surface: a gadget/ header that is not found, or an
 * undeclared identifier that IG's headers declare. Each is named once.
 */
export function surfaceGaps(stderr: string): SurfaceGap[] {
  const out = new Map<string, string>();
  for (const m of stderr.matchAll(/fatal error: '(gadget\/[^']+)' file not found/g)) {
    const header = m[1].slice('gadget/'.length);
    if (MISSING_HEADERS[header]) out.set(m[1], `${m[1]} is part of Inspektor Gadget's header surface that ig lacks: ${MISSING_HEADERS[header]}`);
    else if (!(IG_HEADERS as readonly string[]).includes(header)) out.set(m[1], `${m[1]} is neither an ig header nor one of Inspektor Gadget's (they are: ${IG_HEADERS.join(', ')})`);
  }
  for (const m of stderr.matchAll(/(?:undeclared identifier|undeclared function|unknown type name) '([A-Za-z_][A-Za-z0-9_]*)'/g)) {
    const why = MISSING_NAMES[m[1]];
    if (why) out.set(m[1], `${m[1]} is part of Inspektor Gadget's header surface that ig lacks (${why})`);
  }
  return [...out].map(([name, message]) => ({ name, message }));
}
