// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Entry points: the same code at the XDP hook and at TC (clsact ingress,
 * direct action). Traffic that is neither for a SID nor caught by a policy
 * passes untouched. */
#include "behaviours.h"
#include "encap.h"
#include "fib_watch.h"
#include "input.h"
#include "ports_watch.h"

/* The kernel's input checks for an IPv6 packet that is ours: 0 to go on,
 * else a drop reason or SRV6_PASS_KERNEL_INPUT (leave it to the kernel). */
INLINE int ipv6_input(void *ctx, const bool xdp, struct ipv6hdr *ip6)
{
	int r = ipv6_rcv_check(ip6);
	if (!r && ip6->nexthdr == IPPROTO_HOPOPTS) /* a call saved for the rest */
		r = xdp ? hbh_check_xdp(ctx) : hbh_check_tc(ctx);
	if (r == SRV6_PASS_KERNEL_INPUT)
		count_reason(r);
	return r;
}

INLINE enum verdict srv6_process(void *ctx, const bool xdp)
{
	/* A device bound to a table (a tenant's) has its traffic matched
	 * against that table's policies only: SIDs are the core's, in main,
	 * and never reachable from a tenant. (First: it may move the data.) */
	struct input in = input_of(ctx, xdp);
	__u32 table = in.table;
	bool tenant = table != SRV6_TABLE_MAIN;

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
		if (e && (e->flags & SRV6_LOCAL))
			return V_PASS; /* one of the router's own addresses: the kernel's */
		if (tenant)
			e = NULL;
		/* multicast (ND among it) is the local table's (ff00::/8) before
		 * any policy's, ::/0 included */
		if (ip6->daddr.in6_u.u6_addr8[0] == 0xff && !e)
			return V_PASS;
		struct srv6_policy6_key pk = {.prefixlen = SRV6_POLICY_TABLE_BITS + 128, .table = table};
		__builtin_memcpy(pk.addr, &ip6->daddr, 16);
		struct srv6_policy_entry *pe = e ? NULL : bpf_map_lookup_elem(&policies6, &pk);
		if (!e && !pe)
			return V_PASS;
		ctx_pull(ctx, xdp, MAX_HDR_OFF);
		ip6 = ipv6_header(ctx, xdp);
		int r = ip6 ? ipv6_input(ctx, xdp, ip6) : SRV6_DROP_TRUNCATED;
		if (r == SRV6_PASS_KERNEL_INPUT)
			return V_PASS;
		if (e)
			return r ? sid_drop(e, r) : run_sid(ctx, xdp, e, in.direct);
		return r ? policy_drop(pe, r) : encap(ctx, xdp, pe, true, in.direct);
	}
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip4 = (void *)(eth + 1);
		if ((void *)(ip4 + 1) > end)
			return V_PASS;
		/* multicast goes to ip_route_input_mc, never to a policy's route */
		if ((((__u8 *)&ip4->daddr)[0] & 0xf0) == 0xe0)
			return V_PASS;
		struct srv6_policy4_key pk = {.prefixlen = SRV6_POLICY_TABLE_BITS + 32,
					      .table = SRV6_TABLE_MAIN};
		__builtin_memcpy(pk.addr, &ip4->daddr, 4);
		struct srv6_policy_entry *pe = NULL;
		if (tenant) {
			/* the router's own addresses (main's local entries) first */
			pe = bpf_map_lookup_elem(&policies4, &pk);
			if (pe && (pe->flags & SRV6_LOCAL))
				return V_PASS;
			pk.table = table;
		}
		pe = bpf_map_lookup_elem(&policies4, &pk);
		if (!pe || (pe->flags & SRV6_LOCAL))
			return V_PASS;
		ctx_pull(ctx, xdp, ETH_LEN + 60); /* options included */
		data = ctx_data(ctx, xdp);
		end = ctx_data_end(ctx, xdp);
		ip4 = data + ETH_LEN;
		if ((void *)(ip4 + 1) > end)
			return policy_drop(pe, SRV6_DROP_TRUNCATED);
		int r = ipv4_rcv_check(ctx, xdp, ip4);
		return r ? policy_drop(pe, r) : encap(ctx, xdp, pe, false, in.direct);
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

/* TC's slow path: ICMP errors of our own (pmtud.h). */
SEC("tc")
int srv6_pmtud(struct __sk_buff *ctx)
{
	__u32 mtu = ctx->cb[0], v6 = ctx->cb[1] & 1, kind = ctx->cb[1] >> 1, table = ctx->cb[2];
	return pmtud_tc(ctx, mtu, v6, table, kind) == V_REDIRECT ? TC_ACT_REDIRECT : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
