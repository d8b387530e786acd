// SPDX-License-Identifier: Apache-2.0
/*
 * Text snapshotter edge cases (ebpf-conventions.md text form). A task
 * iterator that, on its first element only, writes exactly:
 *   [event]\n name=line1\nline2 \0 value=a=b=c \0 num=42 \0
 *   [event]\n name=plain \0 value=x \0 num=7 \0 noequals \0
 *   [event]\n name=trunc \0 value=cut            (no final NUL: truncated)
 * Expected: two full records {name:"line1\nline2", value:"a=b=c", num:42},
 * {name:"plain", value:"x", num:7} (+ however the runtime reports the pair
 * without '=', e.g. dropped or an empty-valued "noequals"), and a truncated
 * third record that is dropped or flagged, never a crash.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

static const char nul = '\0';

SEC("iter/task")
int iter_text(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;

	if (!ctx->task || ctx->meta->seq_num != 0)
		return 0;

	BPF_SEQ_PRINTF(seq, "[event]\nname=line1\nline2");
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "value=a=b=c");
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "num=%d", 42);
	bpf_seq_write(seq, &nul, 1);

	BPF_SEQ_PRINTF(seq, "[event]\nname=plain");
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "value=x");
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "num=%d", 7);
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "noequals");
	bpf_seq_write(seq, &nul, 1);

	BPF_SEQ_PRINTF(seq, "[event]\nname=trunc");
	bpf_seq_write(seq, &nul, 1);
	BPF_SEQ_PRINTF(seq, "value=cut");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
