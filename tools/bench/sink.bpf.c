// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Sink: counts every frame and drops it. Attached natively to the sink's veth;
 * besides counting, it is what lets the device under test XDP_REDIRECT into
 * that veth at all (a veth peer without XDP or GRO drops redirected frames
 * silently). The runner reads the count by asking the device for its program. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

SEC("xdp")
int sink_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&sink_count, &zero);
	if (n)
		(*n)++; /* per-CPU: no atomic needed */
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
