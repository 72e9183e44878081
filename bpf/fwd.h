/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Forwarding: what to do with a packet once its SRv6 processing is known,
 * and doing it. XDP decides before touching the frame, so a packet it cannot
 * finish goes up unchanged; the TC program (also on ingress) then processes
 * it and either finishes it (redirect, redirect_neigh) or hands the processed
 * packet to the kernel's forwarding, which sends the ICMP errors. */
#ifndef SRV6_FWD_H
#define SRV6_FWD_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include "ctx.h"
#include "counters.h"
#include "fib_cache.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

enum plan_kind {
	PLAN_FWD,    /* rewrite MACs, decrement hop limit, redirect */
	PLAN_NEIGH,  /* TC: decrement, let the kernel resolve the neighbour */
	PLAN_KERNEL, /* the kernel forwards it (ICMP errors, local delivery) */
	PLAN_DROP,
	PLAN_CHAIN,  /* the new destination is one of our SIDs: run it next */
};

struct plan {
	enum plan_kind kind;
	__u32 reason; /* enum srv6_reason for PLAN_KERNEL / PLAN_DROP */
	__u32 table;  /* PLAN_CHAIN: the table of the next run (0: main) */
	bool direct;  /* PLAN_CHAIN: the next run routes main directly (a tenant's input) */
};

/* Where a run's input belongs: the table whose policies it meets, and
 * whether main, when asked, is asked directly (not through the rules of
 * the input device, a tenant's, which lead to its table). */
struct input {
	__u32 table;
	bool direct;
};

/* Runs the datapath again on the rewritten packet (a tail call), telling
 * it the table its input belongs to (struct srv6_chain_mark). */
INLINE enum verdict chain(void *ctx, const bool xdp, __u32 table, bool direct)
{
	table = table ? table : SRV6_TABLE_MAIN;
	__u32 magic = SRV6_CHAIN_MAGIC | (direct ? SRV6_CHAIN_DIRECT : 0);
	if (xdp) {
		struct xdp_md *x = ctx;
		if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct srv6_chain_mark)))
			return V_DROP;
		struct srv6_chain_mark *m = (void *)(long)x->data_meta;
		if ((void *)(m + 1) > (void *)(long)x->data)
			return V_DROP;
		m->magic = magic;
		m->table = table;
		bpf_tail_call(ctx, &chain_xdp, 0);
		bpf_xdp_adjust_meta(ctx, (int)sizeof(*m)); /* the frame as it was */
	} else {
		struct __sk_buff *skb = ctx;
		skb->cb[3] = table;
		skb->cb[4] = magic;
		bpf_tail_call(ctx, &chain_tc, 0);
	}
	/* out of tail calls (33 of our SIDs in a row) */
	count_reason(SRV6_DROP_CHAIN_LIMIT);
	return V_DROP;
}

/* Where a run's input belongs: a chained run's mark (taken off), else the
 * input device's binding, else main. */
INLINE struct input input_of(void *ctx, const bool xdp)
{
	struct input in = {SRV6_TABLE_MAIN, false};
	if (xdp) {
		struct xdp_md *x = ctx;
		struct srv6_chain_mark *m = (void *)(long)x->data_meta;
		if ((void *)(m + 1) <= (void *)(long)x->data &&
		    (m->magic & ~SRV6_CHAIN_DIRECT) == SRV6_CHAIN_MAGIC) {
			in.table = m->table;
			in.direct = m->magic & SRV6_CHAIN_DIRECT;
			bpf_xdp_adjust_meta(ctx, (int)sizeof(*m));
			return in;
		}
	} else {
		struct __sk_buff *skb = ctx;
		if ((skb->cb[4] & ~SRV6_CHAIN_DIRECT) == SRV6_CHAIN_MAGIC) {
			in.table = skb->cb[3];
			in.direct = skb->cb[4] & SRV6_CHAIN_DIRECT;
			skb->cb[4] = 0;
			return in;
		}
	}
	__u32 ifindex = ctx_ifindex(ctx, xdp);
	__u32 *t = bpf_map_lookup_elem(&port_tables, &ifindex);
	if (t && *t) {
		in.table = *t;
		in.direct = true;
	}
	return in;
}

/* Maps a FIB result to a plan for packets of l3_len bytes. main_table: the
 * kernel would route this packet through the main table itself, so handing
 * the processed packet to it is exact even when there is no route (it sends
 * Unreachable); for a table or next hop of the SID's own, no route means
 * drop. */
INLINE struct plan plan_forward(void *ctx, const bool xdp, struct bpf_fib_lookup *fib,
				struct fwd_answer a, __u8 hop_limit, bool main_table, __u32 l3_len)
{
	struct plan p = {PLAN_KERNEL, SRV6_PASS_KERNEL_ROUTE};

	switch (a.rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		if (hop_limit <= 1) {
			p.reason = SRV6_PASS_HOP_LIMIT;
		} else if (xdp && !a.tx_port) {
			p.reason = SRV6_PASS_SKB_EGRESS;
		} else {
			p.kind = PLAN_FWD;
		}
		return p;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		p.reason = SRV6_PASS_TOO_BIG;
		return p;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		p.reason = SRV6_PASS_NO_NEIGH;
		if (xdp || fib->ifindex == 0)
			return p;
		if (hop_limit <= 1) {
			p.reason = SRV6_PASS_HOP_LIMIT;
			return p;
		}
		/* the FIB checks the MTU only when it finds a neighbour; l3_len
		 * is the length of each packet that leaves (GSO: a segment) */
		__u32 mtu_len = l3_len;
		if (bpf_check_mtu(ctx, fib->ifindex, &mtu_len, 0, 0)) {
			fib->mtu_result = mtu_len; /* the device's MTU */
			p.reason = SRV6_PASS_TOO_BIG;
			return p;
		}
		p.kind = PLAN_NEIGH;
		return p;
	default: {
		/* No forward: no route (NOT_FWDED as well), blackhole, local
		 * delivery, an lwtunnel route... The kernel routes by the main
		 * table exactly as seg6local would; a table or next hop of the
		 * SID's own it cannot be handed, so that is a drop. A failing
		 * route is counted by its kind either way (the kernel hides
		 * them), an error of the SID or policy. */
		__u32 why = a.rc == BPF_FIB_LKUP_RET_BLACKHOLE	 ? SRV6_DROP_ROUTE_BLACKHOLE
			  : a.rc == BPF_FIB_LKUP_RET_UNREACHABLE ? SRV6_DROP_ROUTE_UNREACHABLE
			  : a.rc == BPF_FIB_LKUP_RET_PROHIBIT	 ? SRV6_DROP_ROUTE_PROHIBIT
								 : 0;
		if (xdp)
			return p; /* TC finishes it, and knows why */
		if (main_table) {
			if (why)
				p.reason = why;
			return p;
		}
		p.kind = PLAN_DROP;
		p.reason = why ? why : SRV6_DROP_NO_ROUTE;
		return p;
	}
	}
}

/* Carries out a plan on a frame whose SRv6 processing is written: the IP
 * header it forwards by (the outer one after encapsulation, the inner one
 * after decapsulation) is at ETH_LEN, of the family h_proto says. TC only for NEIGH
 * and KERNEL; XDP only ever executes PLAN_FWD and PLAN_CHAIN. */
INLINE enum verdict execute(void *ctx, const bool xdp, struct bpf_fib_lookup *fib,
			    struct plan p)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct iphdr *ip4 = (void *)(eth + 1);

	if ((void *)(ip6 + 1) > end && (void *)(ip4 + 1) > end)
		return V_DROP;
	if (p.kind == PLAN_KERNEL)
		return V_KERNEL;
	if (p.kind == PLAN_DROP)
		return V_DROP;
	if (p.kind == PLAN_CHAIN)
		return chain(ctx, xdp, p.table, p.direct);
	bool v4 = eth->h_proto == bpf_htons(ETH_P_IP);
	if (v4) {
		if ((void *)(ip4 + 1) > end)
			return V_DROP;
		/* ip_decrease_ttl: the checksum moves with the TTL (RFC 1624);
		 * the header's sum stays the same, so skb->csum needs nothing */
		__u32 sum = ip4->check + (__u32)bpf_htons(0x0100);
		ip4->check = (__u16)(sum + (sum >= 0xffff));
		ip4->ttl--;
	} else {
		if ((void *)(ip6 + 1) > end)
			return V_DROP;
		ip6->hop_limit--;
	}
	if (p.kind == PLAN_NEIGH) {
		struct bpf_redir_neigh nh = {.nh_family = v4 ? AF_INET : AF_INET6};
		if (v4)
			nh.ipv4_nh = fib->ipv4_dst;
		else
			__builtin_memcpy(nh.ipv6_nh, fib->ipv6_dst, 16);
		return bpf_redirect_neigh(fib->ifindex, &nh, sizeof(nh), 0) == TC_ACT_REDIRECT
			       ? V_REDIRECT : V_DROP;
	}
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	long rc = bpf_redirect(fib->ifindex, 0);
	return rc == (xdp ? XDP_REDIRECT : TC_ACT_REDIRECT) ? V_REDIRECT : V_DROP;
}

/* The FIB query for an IPv6 packet heading to dst. */
INLINE void fib_init(struct bpf_fib_lookup *fib, void *ctx, const bool xdp,
		     const struct ipv6hdr *ip6, __u32 tot_len)
{
	fib->family = AF_INET6;
	fib->ifindex = ctx_ifindex(ctx, xdp);
	fib->flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0FFFFFFF);
	fib->tot_len = tot_len;
	__builtin_memcpy(fib->ipv6_src, &ip6->saddr, 16);
}

/* The FIB query for an IPv4 packet (decapsulated) heading to dst. */
INLINE void fib_init4(struct bpf_fib_lookup *fib, void *ctx, const bool xdp,
		      const struct iphdr *ip4, __u32 tot_len)
{
	fib->family = AF_INET;
	fib->ifindex = ctx_ifindex(ctx, xdp);
	fib->tos = ip4->tos;
	fib->l4_protocol = ip4->protocol;
	fib->tot_len = tot_len;
	fib->ipv4_src = ip4->saddr;
	fib->ipv4_dst = ip4->daddr;
}

#endif /* SRV6_FWD_H */
