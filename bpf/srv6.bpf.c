// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Entry points: the same code at the XDP hook and at TC (clsact ingress,
 * direct action). Traffic that is neither for a SID nor caught by a policy
 * passes untouched. */
#include "behaviours.h"
#include "encap.h"

INLINE enum verdict srv6_process(void *ctx, const bool xdp)
{
	/* TC: headers may sit in paged data (XDP frames are linear here); the
	 * SID path pulls further once the packet is known to be ours. */
	ctx_pull(ctx, xdp, ETH_LEN + IP6_LEN);

	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return V_PASS;

	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return V_PASS;
		struct srv6_sid_key sk = {.prefixlen = 128};
		__builtin_memcpy(sk.addr, &ip6->daddr, 16);
		struct srv6_sid_entry *e = bpf_map_lookup_elem(&sids, &sk);
		if (e)
			return run_sid(ctx, xdp, e);
		struct srv6_policy6_key pk = {.prefixlen = 128};
		__builtin_memcpy(pk.addr, &ip6->daddr, 16);
		struct srv6_policy_entry *pe = bpf_map_lookup_elem(&policies6, &pk);
		if (pe)
			return encap(ctx, xdp, pe, true);
		return V_PASS;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip4 = (void *)(eth + 1);
		if ((void *)(ip4 + 1) > end)
			return V_PASS;
		struct srv6_policy4_key pk = {.prefixlen = 32};
		__builtin_memcpy(pk.addr, &ip4->daddr, 4);
		struct srv6_policy_entry *pe = bpf_map_lookup_elem(&policies4, &pk);
		if (pe)
			return encap(ctx, xdp, pe, false);
	}
	return V_PASS;
}

SEC("xdp")
int srv6_xdp(struct xdp_md *ctx)
{
	switch (srv6_process(ctx, true)) {
	case V_DROP:
		return XDP_DROP;
	case V_REDIRECT:
		return XDP_REDIRECT;
	default:
		return XDP_PASS;
	}
}

SEC("tc")
int srv6_tc(struct __sk_buff *ctx)
{
	switch (srv6_process(ctx, false)) {
	case V_DROP:
		return TC_ACT_SHOT;
	case V_REDIRECT:
		return TC_ACT_REDIRECT;
	default:
		return TC_ACT_OK;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
