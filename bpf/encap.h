/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* H.Encaps and H.Encaps.Red (RFC 8986 5.1, 5.2): push an outer IPv6 header
 * and the policy's SRH (prebuilt by the loader; the reduced form leaves the
 * first SID out of it), then forward by the first SID in the main table, as
 * the kernel's seg6_input does. Outer fields as the kernel sets them unless
 * the policy says otherwise (srv6_policy_opts): IPv6 inner: traffic class
 * and hop limit copied; IPv4 inner: class 0, the hop limit of the device
 * the first SID leaves by (its sysctl, map port_hop_limits); the flow label
 * per seg6_flowlabel (copied from IPv6, 0 for IPv4, or a hash). The outer
 * source: the policy's, else tunsrc, else the FIB's pick. */
#ifndef SRV6_ENCAP_H
#define SRV6_ENCAP_H

#include "csum.h"
#include "fwd.h"
#include "gso.h"
#include "parse.h"
#include "pmtud.h"

#define IPV4_OUTER_HOP_LIMIT 64 /* ip6_dst_hoplimit() default, for a device not known */

INLINE enum verdict policy_drop(const struct srv6_policy_entry *pe, __u32 reason)
{
	count_reason(reason);
	count_slot(&policy_stats, pe->stats_idx, 1, 0, false);
	return V_DROP;
}

/* Makes room for `len` bytes between the Ethernet and the inner L3 header.
 * TC: as an IPv6 tunnel of either family (skb->protocol becomes IPv6 and a
 * GSO packet gets SKB_GSO_IPXIP6 over its own type), keeping gso_size as
 * the kernel's seg6 keeps it: each segment grows by the encapsulation. */
INLINE int grow_head(void *ctx, const bool xdp, __u32 len)
{
	if (xdp) {
		if (bpf_xdp_adjust_head(ctx, -(int)len))
			return -1;
		void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
		__u32 off = len & 0x1ff; /* len <= 40 + sizeof(srh) */
		if (data + ETH_LEN > end || data + off + ETH_LEN > end)
			return -1;
		/* the Ethernet header moves to the new front */
		__builtin_memmove(data, data + off, ETH_LEN);
		return 0;
	}
	return bpf_skb_adjust_room(ctx, len, BPF_ADJ_ROOM_MAC,
				   BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 | BPF_F_ADJ_ROOM_FIXED_GSO) ? -1 : 0;
}

/* TC: skb->csum (CHECKSUM_COMPLETE) takes in the pushed headers, as
 * seg6_do_srh_encap's skb_postpush_rcsum. */
INLINE void csum_push_tc(void *ctx, const bool xdp, const struct ipv6hdr *out,
			 const struct srv6_policy_entry *pe, __u32 srh_len, __u8 srh_nh)
{
	if (xdp)
		return;
	__s64 d = bpf_csum_diff(NULL, 0, (__be32 *)out, IP6_LEN, 0);
	if (srh_len >= 8 && srh_len <= sizeof(pe->srh)) {
		__u32 w0 = *(const __u32 *)pe->srh, w1 = w0;
		*(__u8 *)&w1 = srh_nh;
		d = bpf_csum_diff(NULL, 0, (__be32 *)pe->srh, srh_len, d);
		d = bpf_csum_diff(&w0, 4, &w1, 4, d);
	}
	csum_update_tc(ctx, xdp, d);
}

/* A hash of the inner flow for the outer flow label (RFC 6437, 6438):
 * addresses, protocol and, right after the IP header, the ports; so that
 * receivers spread SRv6 traffic over queues and paths as they would the
 * inner flows. The same at both hooks. */
INLINE __u32 flow_hash(void *ctx, const bool xdp, bool inner_v6)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	__u32 h = 0x5eed5eed, proto, l4;
	const __u32 *w = data + ETH_LEN + (inner_v6 ? 8 : 12);
	if (inner_v6) {
		struct ipv6hdr *in6 = data + ETH_LEN;
		if ((void *)(in6 + 1) > end)
			return 0;
		proto = in6->nexthdr;
		l4 = ETH_LEN + IP6_LEN;
	} else {
		struct iphdr *in4 = data + ETH_LEN;
		if ((void *)(in4 + 1) > end)
			return 0;
		proto = in4->protocol;
		l4 = ETH_LEN + ((__u32)in4->ihl << 2);
		if (in4->frag_off & bpf_htons(0x1fff))
			proto = 0; /* a later fragment: no ports */
	}
	__u32 n = inner_v6 ? 8 : 2, ports = 0;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) {
		__u32 *p = data + (l4 & 0x7f);
		if ((void *)(p + 1) <= end)
			ports = *p;
	}
#pragma unroll
	for (__u32 i = 0; i < 8; i++) {
		if (i >= n || (void *)(w + i + 1) > end)
			break;
		h = (h ^ w[i]) * 0x9E3779B1;
		h = h << 13 | h >> 19;
	}
	h = (h ^ ports ^ proto) * 0x85EBCA6B;
	h ^= h >> 16;
	return h & 0xFFFFF;
}

/* A tenant's head-end (the input device is bound to a table): the outer
 * packet belongs to the core and is routed in main, directly, never by the
 * rules that send the device's traffic to its table; so it is never handed
 * to the kernel's input either, which would route it in the tenant's table
 * (but for a local destination, which the kernel's local table takes
 * first). What main forwards is sent, the rest dropped and counted. */
INLINE void tenant_settle(struct plan *p, const struct fwd_answer *a)
{
	if (p->kind != PLAN_KERNEL || p->reason == SRV6_PASS_TOO_BIG || a->dst_is_local)
		return;
	if (p->reason == SRV6_PASS_HOP_LIMIT) {
		p->kind = PLAN_DROP;
		p->reason = SRV6_DROP_HOP_LIMIT;
	} else if (a->rc == BPF_FIB_LKUP_RET_SUCCESS || a->rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		p->kind = PLAN_NEIGH; /* a GSO packet for the kernel: its output segments it */
	} else {
		p->kind = PLAN_DROP;
		if (p->reason == SRV6_PASS_KERNEL_ROUTE)
			p->reason = SRV6_DROP_NO_ROUTE;
	}
}

INLINE enum verdict encap(void *ctx, const bool xdp, const struct srv6_policy_entry *pe,
			  bool inner_v6, bool tenant)
{
	/* tenant: the run's input is a tenant's device (struct input) */
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	__u32 l3_len, in_tc, in_fl = 0;
	__u8 in_hl;

	if (inner_v6) {
		struct ipv6hdr *in6 = data + ETH_LEN;
		if ((void *)(in6 + 1) > end)
			return policy_drop(pe, SRV6_DROP_TRUNCATED);
		l3_len = IP6_LEN + bpf_ntohs(in6->payload_len);
		__u32 w = bpf_ntohl(*(__be32 *)in6);
		in_tc = (w >> 20) & 0xff;
		in_fl = w & 0xfffff;
		in_hl = in6->hop_limit;
	} else {
		struct iphdr *in4 = data + ETH_LEN;
		if ((void *)(in4 + 1) > end)
			return policy_drop(pe, SRV6_DROP_TRUNCATED);
		l3_len = bpf_ntohs(in4->tot_len);
		if (in4->ihl < 5 || l3_len < in4->ihl * 4)
			return policy_drop(pe, SRV6_DROP_TRUNCATED);
		in_tc = in4->tos;
		in_hl = in4->ttl;
	}
	__u32 k = 0;
	const struct srv6_config *cfg = bpf_map_lookup_elem(&config, &k);
	__u8 opts = pe->opts;
	__u32 tc = (opts & SRV6_POLICY_TCLASS) ? pe->tclass
		 : (inner_v6 || (opts & SRV6_POLICY_TCLASS_INHERIT)) ? in_tc : 0;
	/* IPv4 by default: the egress device's, once routed */
	bool hl_of_dev = !(opts & (SRV6_POLICY_HOPLIMIT | SRV6_POLICY_HOPLIMIT_INHERIT)) && !inner_v6;
	__u8 hop_limit = (opts & SRV6_POLICY_HOPLIMIT) ? pe->hop_limit : in_hl;
	__u32 fl;
	if (opts & SRV6_POLICY_FLOWLABEL)
		fl = pe->flowlabel & 0xfffff;
	else if (opts & SRV6_POLICY_FLOWLABEL_INHERIT)
		fl = in_fl;
	else if ((opts & SRV6_POLICY_FLOWLABEL_HASH) || (cfg && cfg->seg6_flowlabel > 0))
		fl = flow_hash(ctx, xdp, inner_v6);
	else
		fl = cfg && cfg->seg6_flowlabel < 0 ? 0 : in_fl;
	__be32 flowinfo = bpf_htonl(0x60000000 | (tc << 20) | fl);
	/* the outer source: the policy's, else tunsrc, else the FIB picks it */
	const __u8 *src = pe->has_src ? pe->src : (cfg && cfg->has_tunsrc) ? cfg->tunsrc : NULL;
	data = ctx_data(ctx, xdp);
	end = ctx_data_end(ctx, xdp);
	if (ETH_LEN + l3_len > ctx_len(ctx, xdp))
		return policy_drop(pe, SRV6_DROP_TRUNCATED);

	__u32 srh_len = pe->srh_len;
	if (srh_len > sizeof(pe->srh) || (srh_len && (srh_len - 8) % 16))
		return policy_drop(pe, SRV6_DROP_BAD_ENTRY);
	__u32 encap_len = IP6_LEN + srh_len;
	__u32 out_len = l3_len + encap_len;
	if (out_len - IP6_LEN > 0xffff)
		return policy_drop(pe, SRV6_DROP_ENCAP_FAILED);
	struct gso_info g;
	bool gso_known = !gso_info(ctx, xdp, l3_len, &g);

	/* Route by the first SID before touching the frame. */
	struct bpf_fib_lookup fib = {};
	__u32 fib_flags = 0;
	fib.family = AF_INET6;
	fib.ifindex = ctx_ifindex(ctx, xdp);
	fib.flowinfo = flowinfo & bpf_htonl(0x0FFFFFFF);
	fib.tot_len = g.seg_l3 + encap_len;
	__builtin_memcpy(fib.ipv6_dst, pe->dst, 16);
	if (src)
		__builtin_memcpy(fib.ipv6_src, src, 16);
	else
		fib_flags |= BPF_FIB_LOOKUP_SRC;
	if (tenant) {
		fib.tbid = SRV6_TABLE_MAIN;
		fib_flags |= BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID;
	}
	struct fwd_answer a = fwd_lookup(ctx, xdp, &fib, fib_flags, FWD_SID_AFTER,
					 ctx_ifindex(ctx, xdp));
	if (hl_of_dev) {
		/* the kernel's ip6_dst_hoplimit: the hop_limit sysctl of the
		 * route's device; here the device the first SID leaves by */
		__u32 out = fib.ifindex, *hl = NULL;
		if (a.rc == BPF_FIB_LKUP_RET_SUCCESS || a.rc == BPF_FIB_LKUP_RET_NO_NEIGH ||
		    a.rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
			hl = bpf_map_lookup_elem(&port_hop_limits, &out);
		hop_limit = hl && *hl ? *hl : IPV4_OUTER_HOP_LIMIT;
	}
	struct plan p = plan_forward(ctx, xdp, &fib, a, hop_limit, true, g.seg_l3 + encap_len);
	p.direct = tenant;
	if (!src && a.rc != BPF_FIB_LKUP_RET_SUCCESS && a.rc != BPF_FIB_LKUP_RET_NO_NEIGH &&
	    a.rc != BPF_FIB_LKUP_RET_FRAG_NEEDED && !xdp) {
		/* no source address to write: the kernel could not route it either */
		p.kind = PLAN_DROP;
		if (p.reason == SRV6_PASS_KERNEL_ROUTE)
			p.reason = SRV6_DROP_NO_ROUTE; /* else the route's failure */
	} else if (a.dst_is_sid) {
		p.kind = PLAN_CHAIN; /* the FIB only gave the source address */
	} else if (a.dst_is_local) {
		/* one of the router's own addresses, not a SID: the kernel's
		 * local table delivers it, whatever main says */
		p.kind = PLAN_KERNEL;
		p.reason = SRV6_PASS_KERNEL_ROUTE;
	} else if (!gso_known || g.udp) {
		/* a GSO packet we cannot measure, or UDP segments (still the
		 * kernel's, identical in tests/diff): the kernel checks it */
		p.kind = PLAN_KERNEL;
		p.reason = SRV6_PASS_KERNEL_ROUTE;
	}
	/* XDP: a checksum left to offload must be finished before the frame
	 * leaves as an XDP frame, or the frame takes the skb path; finished
	 * below, once the encapsulation is sure to fit */
	struct csum_fix fix = {};
	if (xdp && p.kind == PLAN_FWD && a.rx_partial) {
		int c = csum_ready_xdp(ctx, &fix);
		if (c) {
			p.kind = PLAN_KERNEL;
			p.reason = c;
		}
	}
	if (xdp && p.kind != PLAN_FWD && p.kind != PLAN_CHAIN) {
		count_reason(p.reason);
		return V_PASS; /* unchanged: the TC program finishes it */
	}
	if (tenant)
		tenant_settle(&p, &a);
	if (p.kind == PLAN_KERNEL && p.reason == SRV6_PASS_TOO_BIG) {
		/* too big for the tunnel: the inner source hears of it */
		count_slot(&policy_stats, pe->stats_idx, g.segs, 0, false);
		__u32 mtu = fib.mtu_result > encap_len ? fib.mtu_result - encap_len : 0;
		return to_pmtud(ctx, xdp, mtu, inner_v6);
	}
	if (p.kind != PLAN_FWD && p.kind != PLAN_NEIGH && p.kind != PLAN_CHAIN)
		count_reason(p.reason);
	if (p.kind == PLAN_DROP) {
		count_slot(&policy_stats, pe->stats_idx, g.segs, 0, false);
		return V_DROP;
	}

	/* Ethernet padding goes, as ip(v6)_rcv trims it: at TC before growing
	 * (bpf_skb_change_tail refuses an skb marked encapsulated), at XDP
	 * after, so that a frame handed up for lack of headroom is unchanged */
	if (!xdp && ctx_trim(ctx, xdp, ETH_LEN + l3_len))
		return policy_drop(pe, SRV6_DROP_ENCAP_FAILED);
	if (grow_head(ctx, xdp, encap_len)) {
		if (!xdp)
			return policy_drop(pe, SRV6_DROP_ENCAP_FAILED);
		/* XDP headroom: 256 bytes less the kernel's xdp_frame: TC does the
		 * rest (nothing was changed yet) */
		count_reason(SRV6_PASS_NO_HEADROOM);
		return V_PASS;
	}
	if (xdp && ctx_trim(ctx, xdp, ETH_LEN + out_len))
		return policy_drop(pe, SRV6_DROP_ENCAP_FAILED);

	data = ctx_data(ctx, xdp);
	end = ctx_data_end(ctx, xdp);
	struct ethhdr *eth = data;
	struct ipv6hdr *out = (void *)(eth + 1);
	if ((void *)(out + 1) > end)
		return policy_drop(pe, SRV6_DROP_ENCAP_FAILED);
	__u8 inner_nh = inner_v6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
	eth->h_proto = bpf_htons(ETH_P_IPV6);
	*(__be32 *)out = flowinfo;
	out->payload_len = bpf_htons(out_len - IP6_LEN);
	out->nexthdr = srh_len ? IPPROTO_ROUTING : inner_nh;
	out->hop_limit = hop_limit;
	__builtin_memcpy(&out->saddr, src ? src : (const __u8 *)fib.ipv6_src, 16);
	__builtin_memcpy(&out->daddr, pe->dst, 16);

	if (srh_len) {
		__u8 *srh = (void *)(out + 1);
		if ((void *)(srh + 8) > end)
			return policy_drop(pe, SRV6_DROP_ENCAP_FAILED);
		__builtin_memcpy(srh, pe->srh, 8);
		srh[0] = inner_nh;
		for (__u32 i = 0; i < SRV6_MAX_SEGS; i++) {
			if (8 + i * 16 >= srh_len)
				break;
			__u8 *seg = srh + 8 + i * 16;
			if ((void *)(seg + 16) > end)
				return policy_drop(pe, SRV6_DROP_ENCAP_FAILED);
			__builtin_memcpy(seg, pe->srh + 8 + i * 16, 16);
		}
	}
	csum_push_tc(ctx, xdp, out, pe, srh_len, inner_nh);
	if (xdp && csum_finish_xdp(ctx, &fix, encap_len))
		return policy_drop(pe, SRV6_DROP_ENCAP_FAILED);

	bool ok = p.kind == PLAN_FWD || p.kind == PLAN_NEIGH || p.kind == PLAN_CHAIN ||
		  (p.kind == PLAN_KERNEL && p.reason == SRV6_PASS_KERNEL_ROUTE);
	count_slot(&policy_stats, pe->stats_idx, g.segs, gso_wire_bytes(&g, l3_len, encap_len), ok);
	return execute(ctx, xdp, &fib, p);
}

#endif /* SRV6_ENCAP_H */
