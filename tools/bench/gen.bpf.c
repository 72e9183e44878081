// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Traffic generator: run with BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES
 * on the generator's veth. Live frames come from a page pool and are recycled,
 * and a veth hands the very same page to its peer: a router that edits the
 * frame in place (SL - 1, new DA, pushed headers) would edit what we send next.
 * So every frame is rewritten from the template before it goes out. XDP_TX
 * under test_run becomes a redirect out of the ingress device, i.e. into the
 * peer's (the device under test's) receive ring. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TEMPLATE_MAX 512

/* Set by the loader before load (and readable after). */
__u32 tmpl_len;
__u8 tmpl[TEMPLATE_MAX];

SEC("xdp")
int gen_xdp(struct xdp_md *ctx)
{
	__u32 len = tmpl_len;
	if (len < 14 || len > TEMPLATE_MAX)
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, tmpl, len))
		return XDP_ABORTED;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
