// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Per-packet cost under BPF_PROG_TEST_RUN's repeat loop. The loop runs a
 * program again and again on the same buffer, so a router that rewrites the
 * frame (SL - 1, new DA, pushed headers) would see its own output next time.
 * This program restores the original frame from a template, then tail-calls
 * the program under test; running it once with a do-nothing target gives the
 * cost of the restore itself, to subtract. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TEMPLATE_MAX 1024

struct frame_template {
	__u32 len;
	__u8 data[TEMPLATE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct frame_template);
} template_frame SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

SEC("xdp")
int restore_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct frame_template *t = bpf_map_lookup_elem(&template_frame, &zero);
	if (!t)
		return XDP_ABORTED;
	/* undo pushed headers: the frame goes back to the template's length */
	int grown = (int)(ctx->data_end - ctx->data) - (int)t->len;
	if (grown && bpf_xdp_adjust_head(ctx, grown))
		return XDP_ABORTED;
	__u32 len = t->len;
	if (len < 14 || len > TEMPLATE_MAX)
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, t->data, len))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED;
}

/* The baseline target: does nothing. */
SEC("xdp")
int null_xdp(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
