// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Traffic generator: run with BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES
 * on the generator's veth. Live frames come from a page pool and are recycled,
 * and a veth hands the very same page to its peer: a router that edits the
 * frame in place (SL - 1, new DA, pushed headers) would edit what we send next.
 * So every frame is rewritten from the template before it goes out. XDP_TX
 * under test_run becomes a redirect out of the ingress device, i.e. into the
 * peer's (the device under test's) receive ring.
 *
 * Pacing happens here, inside one long test run, rather than with one short
 * test run per burst: each test run creates and tears down a page pool and
 * fresh pages, which cost the generator's core several times the frames'
 * own cost (measured: ~500 ns a frame with 256-frame runs, ~40 ns in one
 * run). A frame that is not due yet is dropped unsent (it goes straight
 * back to the pool's cache). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TEMPLATE_MAX 512

/* Set by the loader before load (and readable after). */
__u32 tmpl_len;
__u8 tmpl[TEMPLATE_MAX];

/* Pacing, set by the loader before load: a frame is due every interval_ns
 * (0 = as fast as possible). Frames leave in bursts, once `burst` of them are
 * due, as a NIC's interrupt coalescing would hand them over: one frame at a
 * time, every frame would wake the router's NAPI thread (a microsecond of its
 * time each here), and the router would measure its wake-ups. After a stall
 * (the generator's core running the sink) at most credit_ns worth of frames
 * leave back to back, as a NIC's ring would have absorbed them. */
__u64 interval_ns;
__u64 burst;
__u64 credit_ns;
__u64 next_ns; /* when the next frame is due */
__u64 left;    /* frames of the current burst still to send */
/* Frames sent (offered), read by the loader. */
__u64 sent;

SEC("xdp")
int gen_xdp(struct xdp_md *ctx)
{
	__u32 len = tmpl_len;

	if (interval_ns && !left) {
		__u64 now = bpf_ktime_get_ns();

		if (now < next_ns + (burst - 1) * interval_ns)
			return XDP_DROP; /* not due: back to the pool unsent */
		if (next_ns + credit_ns < now)
			next_ns = now - credit_ns;
		left = (now - next_ns) / interval_ns + 1;
	}
	if (len < 14 || len > TEMPLATE_MAX)
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, tmpl, len))
		return XDP_ABORTED;
	if (interval_ns) {
		left--;
		next_ns += interval_ns;
	}
	sent++;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
