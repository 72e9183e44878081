// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reference points for the throughput benchmark, on the device under test's
 * receiving veth:
 *  ceiling_xdp: the least an XDP router must do - parse Ethernet and IPv6
 *               (or IPv4),
 *               rewrite the MACs, redirect to a fixed egress (no lookup, no
 *               SRv6 work). Our datapath's target is a share of this.
 *  bare_xdp:    XDP_REDIRECT to the egress touching nothing: the cost of the
 *               receive and transmit path alone.
 * The egress and the MACs are set by the loader before load. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 egress_ifindex;
const volatile __u8 dmac[ETH_ALEN];
const volatile __u8 smac[ETH_ALEN];

SEC("xdp")
int ceiling_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			return XDP_PASS;
	} else if (eth->h_proto == bpf_htons(ETH_P_IP)) { /* IPv4 rows (H.Encaps v4) */
		struct iphdr *ip4 = (void *)(eth + 1);
		if ((void *)(ip4 + 1) > end || ip4->version != 4)
			return XDP_PASS;
	} else {
		return XDP_PASS;
	}
	__builtin_memcpy(eth->h_dest, (const void *)dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, (const void *)smac, ETH_ALEN);
	return bpf_redirect(egress_ifindex, 0);
}

SEC("xdp")
int bare_xdp(struct xdp_md *ctx)
{
	return bpf_redirect(egress_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
