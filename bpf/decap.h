/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The steps shared by the decapsulating behaviours (End.DX4, End.DX6,
 * End.DT4, End.DT6, End.DT46): find the inner packet as the kernel does
 * (inner.h), check its family against the behaviour's row, route it (each
 * behaviour's file sets the route), then strip the outer headers and
 * forward it as a plain routed packet of its family: hop limit or TTL, MTU,
 * ICMP errors by the kernel, neighbour resolution, local delivery.
 * Counters count the outer packet, as seg6local's. */
#ifndef SRV6_DECAP_H
#define SRV6_DECAP_H

#include "csum.h"
#include "gso.h"
#include "inner.h"
#include "pmtud.h"
#include "route.h"

/* bpf_skb_adjust_room's decap flags (kernel 6.3+; the uapi headers here
 * are older): skb->protocol becomes the inner packet's. */
#define ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)


/* The behaviour table's decap route step (behaviours.h). */
INLINE void decap_route(const struct srv6_sid_entry *e, struct bpf_fib_lookup *fib,
			struct route *r, bool v6);

INLINE enum verdict sid_drop(const struct srv6_sid_entry *e, __u32 reason);
INLINE __u32 sid_l3_len(void *ctx, const bool xdp);

/* One of the router's own addresses (the loader keeps them in the tries):
 * asked only of a route in main, where the kernel's local table decides. */
INLINE bool inner_is_local(const struct bpf_fib_lookup *fib, bool v6)
{
	if (v6)
		return sid_kind_of(fib->ipv6_dst) == SID_LOCAL;
	struct srv6_policy4_key pk = {.prefixlen = SRV6_POLICY_TABLE_BITS + 32,
				      .table = SRV6_TABLE_MAIN};
	__builtin_memcpy(pk.addr, &fib->ipv4_dst, 4);
	struct srv6_policy_entry *pe = bpf_map_lookup_elem(&policies4, &pk);
	return pe && (pe->flags & SRV6_LOCAL);
}

/* A decapsulated packet for one of our SIDs or policies is processed again
 * at once (a tail call, so at most 33 times in a row: then chain_limit),
 * where the kernel's lwtunnel would run that route next: in main, a SID
 * or a main policy; in a tenant's table, that table's policies. */
INLINE bool inner_is_ours(const struct bpf_fib_lookup *fib, bool v6, __u32 table)
{
	if (table != SRV6_TABLE_MAIN && inner_is_local(fib, v6))
		return false; /* main's: a tenant's packet is not delivered from it */
	/* multicast never meets a policy (srv6.bpf.c) */
	if (v6 ? fib->ipv6_dst[0] == 0xff : (((const __u8 *)&fib->ipv4_dst)[0] & 0xf0) == 0xe0)
		return false;
	if (v6) {
		if (table == SRV6_TABLE_MAIN) {
			enum sid_kind k = sid_kind_of(fib->ipv6_dst);
			if (k != SID_NONE)
				return k == SID_OURS;
		}
		struct srv6_policy6_key pk = {.prefixlen = SRV6_POLICY_TABLE_BITS + 128,
					      .table = table};
		__builtin_memcpy(pk.addr, fib->ipv6_dst, 16);
		return bpf_map_lookup_elem(&policies6, &pk) != NULL;
	}
	struct srv6_policy4_key pk = {.prefixlen = SRV6_POLICY_TABLE_BITS + 32, .table = table};
	__builtin_memcpy(pk.addr, &fib->ipv4_dst, 4);
	struct srv6_policy_entry *pe = bpf_map_lookup_elem(&policies4, &pk);
	return pe && !(pe->flags & SRV6_LOCAL);
}

/* What the kernel's forwarding of the inner packet drops: ip_route_input's
 * martian sources (its martian destinations are checked on the address
 * routed by, decap() below: End.DX4 routes by nh4 and forwards whatever
 * the inner destination), and
 * ip6_forward's "security critical" source check. 0 or
 * SRV6_DROP_BAD_IP_HEADER. */
INLINE int inner4_check(const struct iphdr *ip4)
{
	__u8 s = ((const __u8 *)&ip4->saddr)[0];
	if (ip4->version != 4 || ip4->ihl < 5)
		return SRV6_DROP_BAD_IP_HEADER;
	if (s == 0 || s == 127 || (s & 0xf0) == 0xe0 || ip4->saddr == 0xffffffff)
		return SRV6_DROP_BAD_IP_HEADER; /* zeronet, loopback, multicast, broadcast */
	return 0;
}

INLINE int inner6_check(const struct ipv6hdr *ip6)
{
	const __u32 *s = ip6->saddr.in6_u.u6_addr32;
	if (ip6->version != 6 || !(s[0] | s[1] | s[2] | s[3]))
		return SRV6_DROP_BAD_IP_HEADER; /* unspecified source */
	if (ip6->saddr.in6_u.u6_addr8[0] == 0xff)
		return SRV6_DROP_BAD_IP_HEADER; /* multicast source */
	if (!(s[0] | s[1] | s[2]) && s[3] == bpf_htonl(1))
		return SRV6_DROP_BAD_IP_HEADER; /* loopback source */
	return 0;
}

/* families: the inner ones the row takes; local_ok: a local destination in
 * main is delivered (else blackholed, as End.DX6's seg6_lookup_nexthop). */
INLINE enum verdict decap(void *ctx, const bool xdp, const struct srv6_sid_entry *e,
			  __u8 families, bool local_ok, bool direct)
{
	__u32 l3_len = sid_l3_len(ctx, xdp);
	if (!l3_len)
		return sid_drop(e, SRV6_DROP_TRUNCATED);

	struct inner_loc in = {.limit = ETH_LEN + l3_len};
	int err = inner_locate(ctx, xdp, &in);
	if (err)
		return sid_drop(e, err);
	bool v6 = in.proto == IPPROTO_IPV6;
	if (!(v6 ? (families & INNER_V6) : (in.proto == IPPROTO_IPIP && (families & INNER_V4))))
		return sid_drop(e, SRV6_DROP_INNER_PROTO);
	if (in.off > MAX_HDR_OFF || in.off + (v6 ? IP6_LEN : 20) > ETH_LEN + l3_len)
		return sid_drop(e, SRV6_DROP_TRUNCATED);
	__u32 strip = in.off - ETH_LEN; /* the outer IPv6 header and its extensions */

	/* the MTU applies to each packet a GSO packet stands for */
	struct gso_info g;
	bool gso_known = !gso_info(ctx, xdp, l3_len, &g);
	__u32 seg_len = g.seg_l3 > strip ? g.seg_l3 - strip : 0;

	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	struct bpf_fib_lookup fib = {};
	struct route r = {0, true, false};
	__u8 hop_limit;
	bool ll_src = false;
	if (v6) {
		struct ipv6hdr *i6 = data + (in.off & 0xfff);
		if ((void *)(i6 + 1) > end)
			return sid_drop(e, SRV6_DROP_TRUNCATED);
		if ((err = inner6_check(i6)))
			return sid_drop(e, err);
		ll_src = i6->saddr.in6_u.u6_addr8[0] == 0xfe &&
			 (i6->saddr.in6_u.u6_addr8[1] & 0xc0) == 0x80;
		hop_limit = i6->hop_limit;
		fib_init(&fib, ctx, xdp, i6, seg_len);
		__builtin_memcpy(fib.ipv6_dst, &i6->daddr, 16);
	} else {
		struct iphdr *i4 = data + (in.off & 0xfff);
		if ((void *)(i4 + 1) > end)
			return sid_drop(e, SRV6_DROP_TRUNCATED);
		if ((err = inner4_check(i4)))
			return sid_drop(e, err);
		hop_limit = i4->ttl;
		fib_init4(&fib, ctx, xdp, i4, seg_len);
	}
	decap_route(e, &fib, &r, v6);
	route_direct(&fib, &r, direct);
	/* ip_route_input's martian destinations, for the address routed by
	 * (the inner one, or nh4): zeronet and loopback */
	__u8 d0 = ((const __u8 *)&fib.ipv4_dst)[0];
	if (!v6 && (d0 == 0 || d0 == 127))
		return sid_drop(e, SRV6_DROP_BAD_IP_HEADER);

	/* the table the inner packet is routed in: its policies apply (none
	 * for a next hop of the SID's own) */
	__u32 table = r.main_table ? SRV6_TABLE_MAIN
		    : (r.flags & BPF_FIB_LOOKUP_TBID) ? fib.tbid : 0;
	struct plan p = {PLAN_CHAIN, 0, table, direct};
	__u32 icmp = 0; /* 1 + enum icmp_kind: an error of ours answers it */
	struct fwd_answer a = {.rc = BPF_FIB_LKUP_RET_NO_NEIGH};
	if (table && inner_is_ours(&fib, v6, table)) {
		/* p stays PLAN_CHAIN */
	} else if (r.main_table && !local_ok && inner_is_local(&fib, v6)) {
		/* End.DX6 routes without local delivery: a local address is a
		 * blackhole (as End's next segment), a packet processed */
		count_reason(SRV6_DROP_NEXT_LOCAL);
		count_slot(&sid_stats, e->stats_idx, g.segs, gso_wire_bytes(&g, l3_len, 0), true);
		return V_DROP;
	} else {
		if (ll_src)
			a.rc = BPF_FIB_LKUP_RET_NOT_FWDED; /* the kernel's "not a neighbour" */
		else if (!r.neigh_only)
			a = fwd_lookup(ctx, xdp, &fib, r.flags, FWD_SID_NONE, ctx_ifindex(ctx, xdp));
		/* In a table of its own, "not forwarded" is no route: the FIB
		 * helper says the same of a local route, so a local address
		 * the table routes is not delivered (docs/semantics.md), and
		 * nothing the kernel would route further leaks into main: an
		 * IPv4 packet to fragment is dropped */
		p = plan_forward(ctx, xdp, &fib, a, hop_limit, r.main_table, seg_len);
		if (!r.main_table && !v6 && p.kind == PLAN_KERNEL && p.reason == SRV6_PASS_TOO_BIG) {
			struct iphdr *i4 = data + (in.off & 0xfff);
			if ((void *)(i4 + 1) > end)
				return sid_drop(e, SRV6_DROP_TRUNCATED);
			if (!(i4->frag_off & bpf_htons(0x4000))) {
				p.kind = PLAN_DROP;
				p.reason = SRV6_DROP_TOO_BIG;
			}
		}
		/* a tenant's packet that the kernel would route in main, with
		 * its ICMP error: the error is ours, routed in the table */
		if (table && table != SRV6_TABLE_MAIN && p.kind == PLAN_KERNEL &&
		    (p.reason == SRV6_PASS_HOP_LIMIT || p.reason == SRV6_PASS_TOO_BIG))
			icmp = p.reason == SRV6_PASS_HOP_LIMIT ? 1 + ICMP_KIND_TIME_EXCEEDED
							       : 1 + ICMP_KIND_TOO_BIG;
	}
	plan_settle(ctx, xdp, &p, &a, gso_known, r.main_table);
	if (p.kind != PLAN_FWD && p.kind != PLAN_NEIGH && p.kind != PLAN_CHAIN && !(icmp && !xdp))
		count_reason(p.reason);
	if (p.kind == PLAN_DROP) {
		count_slot(&sid_stats, e->stats_idx, g.segs, 0, false);
		return V_DROP;
	}
	if (xdp && p.kind != PLAN_FWD && p.kind != PLAN_CHAIN)
		return V_PASS; /* unchanged: the TC program finishes it */

	/* Ethernet padding goes (ipv6_rcv trims it), then the outer headers:
	 * the inner packet follows the Ethernet header, whose MACs stay for
	 * the kernel's neighbour code or the next program of a chain */
	if (ctx_trim(ctx, xdp, ETH_LEN + l3_len))
		return sid_drop(e, SRV6_DROP_TRUNCATED);
	if (xdp) {
		data = ctx_data(ctx, xdp);
		end = ctx_data_end(ctx, xdp);
		if (data + ETH_LEN > end)
			return sid_drop(e, SRV6_DROP_TRUNCATED);
		__u8 macs[12];
		__builtin_memcpy(macs, data, 12);
		if (bpf_xdp_adjust_head(ctx, (int)(strip & 0xfff)))
			return sid_drop(e, SRV6_DROP_TRUNCATED);
		data = ctx_data(ctx, xdp);
		end = ctx_data_end(ctx, xdp);
		if (data + ETH_LEN > end)
			return sid_drop(e, SRV6_DROP_TRUNCATED);
		__builtin_memcpy(data, macs, 12);
	} else if (bpf_skb_adjust_room(ctx, -(__s32)(strip & 0xfff), BPF_ADJ_ROOM_MAC,
				       BPF_F_ADJ_ROOM_FIXED_GSO |
				       (v6 ? ADJ_ROOM_DECAP_L3_IPV6 : ADJ_ROOM_DECAP_L3_IPV4))) {
		return sid_drop(e, SRV6_DROP_ENCAP_FAILED);
	}
	data = ctx_data(ctx, xdp);
	end = ctx_data_end(ctx, xdp);
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return sid_drop(e, SRV6_DROP_TRUNCATED);
	eth->h_proto = bpf_htons(v6 ? ETH_P_IPV6 : ETH_P_IP);

	bool ok = p.kind == PLAN_FWD || p.kind == PLAN_NEIGH || p.kind == PLAN_CHAIN ||
		  (p.kind == PLAN_KERNEL && p.reason == SRV6_PASS_KERNEL_ROUTE && !ll_src);
	count_slot(&sid_stats, e->stats_idx, g.segs, gso_wire_bytes(&g, l3_len, 0), ok);
	if (icmp)
		return to_icmp(ctx, xdp, fib.mtu_result, v6, table, icmp - 1);
	return execute(ctx, xdp, &fib, p);
}

#endif /* SRV6_DECAP_H */
