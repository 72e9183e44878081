/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The steps shared by End, End.X and End.T: find and validate the SRH,
 * advance it (SL -= 1, DA = segments[SL]), route, forward. What differs is
 * only the route, which each behaviour's file sets in its route function.
 * One copy of this code serves them all: the verifier walks it once. */
#ifndef SRV6_ENDPOINT_H
#define SRV6_ENDPOINT_H

#include "csum.h"
#include "gso.h"
#include "parse.h"
#include "route.h"

/* The behaviour table's route step (behaviours.h). */
INLINE void sid_route(const struct srv6_sid_entry *e, struct bpf_fib_lookup *fib,
		      struct route *r);

INLINE enum verdict sid_drop(const struct srv6_sid_entry *e, __u32 reason)
{
	count_reason(reason);
	count_slot(&sid_stats, e->stats_idx, 1, 0, false);
	return V_DROP;
}

/* The IPv6 length of a SID's packet, 0 when its header or payload is cut
 * short. Shared by the endpoint and decapsulating behaviours. */
INLINE __u32 sid_l3_len(void *ctx, const bool xdp)
{
	struct ipv6hdr *ip6 = ipv6_header(ctx, xdp);
	if (!ip6)
		return 0;
	__u32 l3_len = IP6_LEN + bpf_ntohs(ip6->payload_len);
	return ETH_LEN + l3_len > ctx_len(ctx, xdp) ? 0 : l3_len;
}

INLINE enum verdict endpoint(void *ctx, const bool xdp, const struct srv6_sid_entry *e, bool direct)
{
	__u32 l3_len = sid_l3_len(ctx, xdp);
	if (!l3_len)
		return sid_drop(e, SRV6_DROP_TRUNCATED);
	struct ipv6hdr *ip6;

	struct srh_loc loc = {.limit = ETH_LEN + l3_len};
	int err = srh_locate(ctx, xdp, &loc);
	if (err)
		return sid_drop(e, err);

	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	if (loc.off > MAX_HDR_OFF)
		return sid_drop(e, SRV6_DROP_TRUNCATED);
	struct ipv6_sr_hdr *srh = data + loc.off;
	ip6 = data + ETH_LEN;
	if ((void *)(srh + 1) > end || (void *)(ip6 + 1) > end)
		return sid_drop(e, SRV6_DROP_TRUNCATED);
	__u8 sl = srh->segments_left - 1;
	struct in6_addr *next = (void *)(srh + 1) + ((__u32)sl << 4);
	if ((void *)(next + 1) > end)
		return sid_drop(e, SRV6_DROP_TRUNCATED);

	/* ip6_forward's source checks, which follow every End* behaviour */
	__u8 src_first = ip6->saddr.in6_u.u6_addr8[0];
	if (!(ip6->saddr.in6_u.u6_addr32[0] | ip6->saddr.in6_u.u6_addr32[1] |
	      ip6->saddr.in6_u.u6_addr32[2] | ip6->saddr.in6_u.u6_addr32[3]))
		return sid_drop(e, SRV6_DROP_BAD_IP_HEADER);
	bool ll_src = src_first == 0xfe && (ip6->saddr.in6_u.u6_addr8[1] & 0xc0) == 0x80;
	struct in6_addr next_da = *next;

	/* the MTU applies to each packet a GSO packet stands for */
	struct gso_info g;
	bool gso_known = !gso_info(ctx, xdp, l3_len, &g);

	struct bpf_fib_lookup fib = {};
	struct route r = {0, true, false};
	fib_init(&fib, ctx, xdp, ip6, g.seg_l3);
	__builtin_memcpy(fib.ipv6_dst, &next_da, 16);
	sid_route(e, &fib, &r);
	route_direct(&fib, &r, direct);
	/* a link-local source gets the kernel's ICMP "not a neighbour" */
	struct fwd_answer a = {.rc = BPF_FIB_LKUP_RET_NO_NEIGH};
	if (ll_src) {
		a.rc = BPF_FIB_LKUP_RET_NOT_FWDED;
		enum sid_kind kind = r.main_table ? sid_kind_of(&next_da) : SID_NONE;
		a.dst_is_sid = kind == SID_OURS;
		a.dst_is_local = kind == SID_LOCAL;
	} else if (!r.neigh_only) {
		a = fwd_lookup(ctx, xdp, &fib, r.flags, r.main_table ? FWD_SID_FIRST : FWD_SID_NONE,
			       ctx_ifindex(ctx, xdp));
	}
	if (a.dst_is_local) {
		/* seg6local routes End's new DA with local delivery off: a local
		 * address is a blackhole, and the packet counts as processed */
		count_reason(SRV6_DROP_NEXT_LOCAL);
		count_slot(&sid_stats, e->stats_idx, g.segs, gso_wire_bytes(&g, l3_len, 0), true);
		return V_DROP;
	}
	struct plan p = {PLAN_CHAIN, 0, 0, direct};
	if (!r.main_table || !a.dst_is_sid)
		p = plan_forward(ctx, xdp, &fib, a, ip6->hop_limit, r.main_table, g.seg_l3);
	plan_settle(ctx, xdp, &p, &a, gso_known, r.main_table);

	if (p.kind != PLAN_FWD && p.kind != PLAN_NEIGH && p.kind != PLAN_CHAIN)
		count_reason(p.reason);
	if (xdp && p.kind != PLAN_FWD && p.kind != PLAN_CHAIN)
		return V_PASS; /* unchanged: the TC program finishes it */

	/* Ethernet padding goes, as ip6_rcv trims it; then the pointers
	 * (invalidated by the trim) are taken again */
	if (ctx_trim(ctx, xdp, ETH_LEN + l3_len))
		return sid_drop(e, SRV6_DROP_TRUNCATED);
	data = ctx_data(ctx, xdp);
	end = ctx_data_end(ctx, xdp);
	srh = data + (loc.off & 0xfff);
	ip6 = data + ETH_LEN;
	if ((void *)(srh + 1) > end || (void *)(ip6 + 1) > end)
		return sid_drop(e, SRV6_DROP_TRUNCATED);
	if (!xdp) { /* skb->csum follows (CHECKSUM_COMPLETE): SL - 1, the new DA */
		__u32 w = bpf_htonl(1);
		__s64 d = bpf_csum_diff((__be32 *)&ip6->daddr, 16, (__be32 *)&next_da, 16, 0);
		csum_update_tc(ctx, xdp, bpf_csum_diff(&w, 4, NULL, 0, d));
	}
	srh->segments_left = sl;
	ip6->daddr = next_da;
	/* as the kernel counts: ip6_forward's failures (hop limit, too big,
	 * link-local source) are errors */
	bool ok = p.kind == PLAN_FWD || p.kind == PLAN_NEIGH || p.kind == PLAN_CHAIN ||
		  (p.kind == PLAN_KERNEL && p.reason == SRV6_PASS_KERNEL_ROUTE && !ll_src);
	count_slot(&sid_stats, e->stats_idx, g.segs, gso_wire_bytes(&g, l3_len, 0), ok);
	return execute(ctx, xdp, &fib, p);
}

#endif /* SRV6_ENDPOINT_H */
