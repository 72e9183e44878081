/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bpf_fib_lookup with a cache in front: the lookup costs as much as all
 * the rest of a behaviour. A cached answer carries the generation it was
 * made in (map fwd_clock), which the watcher (fib_watch.h) moves with every
 * change the answer may depend on, so it is never used stale: a query reads
 * the generation before asking the FIB, so an answer that raced with a
 * change is stored under the old generation and never used. Without a live
 * watcher every packet asks the FIB. Only successes are cached, with the
 * port and our-SID answers derived from them; a slot that only says "the
 * destination is one of our SIDs" holds no FIB answer and serves no one
 * who needs one.
 * The device MTU is checked live: the kernel announces a new link MTU
 * before IPv6 takes it up (rtnetlink's notifier runs before addrconf's). */
#ifndef SRV6_FIB_CACHE_H
#define SRV6_FIB_CACHE_H

#include "counters.h"

#define FWD_RC_NOT_ASKED (-1) /* the destination is our SID: no FIB answer */
#define FWD_QUERY_V4 (1u << 31) /* srv6_fwd_query.flags: an IPv4 query (no such BPF_FIB_LOOKUP_ flag) */

/* Two independent multiplies over xor-folded words: a serial FNV over the
 * 12 words cost ~10 ns more per packet. Collisions only cost a lookup. */
INLINE __u32 fwd_hash(const struct srv6_fwd_query *q)
{
	const __u64 *w = (const void *)q;
	__u64 a = w[0] ^ w[2] ^ w[4], b = w[1] ^ w[3] ^ w[5];
	__u64 h = a * 0x9E3779B97F4A7C15ull ^ b * 0xC2B2AE3D27D4EB4Full;

	_Static_assert(sizeof(*q) == 48, "fwd_hash folds six words");
	return (h >> 40) & (SRV6_FWD_CACHE_SLOTS - 1);
}

INLINE bool fwd_query_eq(const struct srv6_fwd_query *a, const struct srv6_fwd_query *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;
	__u64 d = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*a) / 8); i++)
		d |= x[i] ^ y[i];
	return !d;
}

/* Our SIDs act as if they were routes in the main table: when a packet's
 * next destination is one, the kernel's seg6local would run that SID right
 * away (no forwarding, so no hop-limit decrement in between). A local
 * address is not a SID, whatever SID prefix covers it. */
enum sid_kind {
	SID_NONE,
	SID_OURS,
	SID_LOCAL, /* one of the router's own addresses */
};

INLINE enum sid_kind sid_kind_of(const void *addr)
{
	struct srv6_sid_key k = {.prefixlen = 128};
	__builtin_memcpy(k.addr, addr, 16);
	struct srv6_sid_entry *e = bpf_map_lookup_elem(&sids, &k);
	return !e ? SID_NONE : (e->flags & SRV6_LOCAL) ? SID_LOCAL : SID_OURS;
}

INLINE bool is_our_sid(const void *addr)
{
	return sid_kind_of(addr) == SID_OURS;
}

/* A FIB answer and what the datapath derives from it, cached together
 * (the loader moves the generation when SIDs or ports change). */
struct fwd_answer {
	long rc;         /* bpf_fib_lookup's (fib filled as it fills it), or FWD_RC_NOT_ASKED */
	bool tx_port;    /* success, and XDP may redirect to the egress */
	bool dst_is_sid; /* the query's destination is one of our SIDs */
	bool dst_is_local; /* FWD_SID_FIRST/AFTER: one of the router's own addresses */
	bool rx_partial; /* XDP: the ingress may carry checksums left to offload */
};

enum fwd_sid_check {
	FWD_SID_NONE,  /* not needed (only cached, for the other callers) */
	FWD_SID_AFTER, /* dst_is_sid along with the FIB's answer */
	FWD_SID_FIRST, /* a SID, or a local address, needs no FIB answer (End by the main table) */
};

INLINE __u32 port_flags(__u32 ifindex, bool *attached)
{
	struct srv6_port *p = bpf_map_lookup_elem(&ports, &ifindex);
	*attached = p != NULL;
	return p ? p->flags : 0;
}

/* XDP's view of the ports: may it redirect from in_ifindex to the FIB's
 * egress, and may frames of in_ifindex carry partial checksums. Only
 * attached egresses qualify: one whose xdp-features say it takes XDP frames
 * (trusted while a watcher keeps that true) or that the operator vouches
 * for; from generic XDP, whose redirects are skbs, any attached egress. */
INLINE void fwd_ports(struct fwd_answer *a, const struct bpf_fib_lookup *fib,
		      __u32 in_ifindex, bool watched)
{
	bool in_att, out_att;
	__u32 in = port_flags(in_ifindex, &in_att);
	__u32 out = port_flags(fib->ifindex, &out_att);
	bool takes_xdp = (out & SRV6_PORT_TX_XDP) && (watched || (out & SRV6_PORT_TX_FIXED));

	a->tx_port = out_att && (takes_xdp || (in & SRV6_PORT_XDP_GENERIC));
	a->rx_partial = in & SRV6_PORT_RX_PARTIAL;
}

INLINE struct fwd_answer fwd_uncached(void *ctx, const bool xdp, struct bpf_fib_lookup *fib,
				      __u32 flags, enum fwd_sid_check check, __u32 in_ifindex,
				      bool watched)
{
	struct fwd_answer a = {FWD_RC_NOT_ASKED};
	if (check == FWD_SID_FIRST) {
		enum sid_kind kind = sid_kind_of(fib->ipv6_dst);
		a.dst_is_sid = kind == SID_OURS;
		a.dst_is_local = kind == SID_LOCAL;
		if (kind != SID_NONE)
			return a;
	}
	if (check == FWD_SID_AFTER) { /* the FIB overwrites the address */
		enum sid_kind kind = sid_kind_of(fib->ipv6_dst);
		a.dst_is_sid = kind == SID_OURS;
		a.dst_is_local = kind == SID_LOCAL; /* never cached */
	}
	a.rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), flags);
	if (xdp && a.rc == BPF_FIB_LKUP_RET_SUCCESS)
		fwd_ports(&a, fib, in_ifindex, watched);
	return a;
}

/* bpf_fib_lookup(ctx, fib, sizeof(*fib), flags), served from the cache
 * while a watcher keeps it (the fields the datapath reads: ifindex, MACs,
 * source, next hop). in_ifindex: the packet's input interface. */
INLINE struct fwd_answer fwd_lookup(void *ctx, const bool xdp, struct bpf_fib_lookup *fib,
				    __u32 flags, enum fwd_sid_check check, __u32 in_ifindex)
{
	__u32 k = SRV6_FWD_GEN;
	__u64 *genp = bpf_map_lookup_elem(&fwd_clock, &k);
	k = SRV6_FWD_ALIVE_UNTIL;
	__u64 *alive = bpf_map_lookup_elem(&fwd_clock, &k);
	/* the coarse clock: ~3 ns here, the precise one ~35 (pvclock) */
	if (!genp || !alive || bpf_ktime_get_coarse_ns() > *(volatile __u64 *)alive)
		return fwd_uncached(ctx, xdp, fib, flags, check, in_ifindex, false);
	__u64 gen = *(volatile __u64 *)genp;

	/* ifindex, flowinfo and tbid are overwritten by the answer */
	bool v4 = fib->family == 2; /* AF_INET: its queries never meet IPv6 ones */
	struct srv6_fwd_query q = {
		.flags = flags | (v4 ? FWD_QUERY_V4 : 0),
		.ifindex = fib->ifindex,
		.tbid = (flags & BPF_FIB_LOOKUP_TBID) ? fib->tbid
			: (flags & BPF_FIB_LOOKUP_OUTPUT) ? in_ifindex : 0,
		.flowinfo = fib->flowinfo,
	};
	__builtin_memcpy(q.src, fib->ipv6_src, 16);
	__builtin_memcpy(q.dst, fib->ipv6_dst, 16);
	__u32 idx = fwd_hash(&q);
	struct srv6_fwd_slot *s = bpf_map_lookup_elem(&fwd_cache, &idx);
	if (!s)
		return fwd_uncached(ctx, xdp, fib, flags, check, in_ifindex, true);

	struct fwd_answer a = {BPF_FIB_LKUP_RET_SUCCESS};
	if (gen && s->gen == gen && fwd_query_eq(&s->q, &q) &&
	    (s->has_fib || (check == FWD_SID_FIRST && s->dst_is_sid))) {
		count_in(&fwd_stats, SRV6_FWD_HITS);
		a.dst_is_sid = s->dst_is_sid;
		if (check == FWD_SID_FIRST && a.dst_is_sid) {
			a.rc = FWD_RC_NOT_ASKED;
			return a;
		}
		/* the FIB compares the length with the MTU on a success only */
		__u32 len = fib->tot_len;
		fib->mtu_result = s->mtu;
		if (len > s->mtu || bpf_check_mtu(ctx, s->ifindex, &len, 0, 0)) {
			if (len < s->mtu) /* the device's MTU, now lower than the route's */
				fib->mtu_result = len;
			a.rc = BPF_FIB_LKUP_RET_FRAG_NEEDED;
			return a;
		}
		a.tx_port = s->tx_port;
		a.rx_partial = s->rx_partial;
		fib->ifindex = s->ifindex;
		__builtin_memcpy(fib->smac, s->smac, 6);
		__builtin_memcpy(fib->dmac, s->dmac, 6);
		__builtin_memcpy(fib->ipv6_src, s->src, 16);
		__builtin_memcpy(fib->ipv6_dst, s->gw, 16);
		return a;
	}

	a = fwd_uncached(ctx, xdp, fib, flags, check, in_ifindex, true);
	bool sid_only = a.rc == FWD_RC_NOT_ASKED;
	if (!sid_only)
		count_in(&fwd_stats, SRV6_FWD_MISSES);
	if ((a.rc != BPF_FIB_LKUP_RET_SUCCESS && !sid_only) || a.dst_is_local || !gen)
		return a;
	/* invalid while written: a program run from process context
	 * (BPF_PROG_TEST_RUN) may be interrupted by one on this CPU's softirq */
	*(volatile __u64 *)&s->gen = 0;
	s->q = q;
	s->has_fib = !sid_only;
	/* FIRST: a SID was answered above, without a FIB answer to cache */
	s->dst_is_sid = check != FWD_SID_NONE ? a.dst_is_sid : !v4 && is_our_sid(q.dst);
	if (!sid_only) {
		if (!xdp) /* the ports are XDP's concern: ask them once, for both hooks */
			fwd_ports(&a, fib, in_ifindex, true);
		s->ifindex = fib->ifindex;
		s->mtu = fib->mtu_result;
		s->tx_port = a.tx_port;
		s->rx_partial = a.rx_partial;
		__builtin_memcpy(s->smac, fib->smac, 6);
		__builtin_memcpy(s->dmac, fib->dmac, 6);
		__builtin_memcpy(s->src, fib->ipv6_src, 16);
		__builtin_memcpy(s->gw, fib->ipv6_dst, 16);
	}
	*(volatile __u64 *)&s->gen = gen;
	return a;
}

#endif /* SRV6_FIB_CACHE_H */
