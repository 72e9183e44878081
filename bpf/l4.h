/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Where a packet's transport header is: after the IPv6 extension headers
 * (an SRH among them) and at most one IP-in-IP encapsulation, as the
 * sender's csum_start and the GSO code see it. Checksum completion (csum.h),
 * GSO segment lengths and PMTUD quotes (pmtud.h) need it. */
#ifndef SRV6_L4_H
#define SRV6_L4_H

#include "parse.h"

#define L4_MAX_EXT 8 /* extension headers walked per IPv6 header */

enum l4_kind {
	L4_TCP,
	L4_UDP,
	L4_SUMMED, /* never left to checksum offload: ICMP, fragments, ESP, none */
	L4_OTHER,  /* anything else (a tunnel, SCTP, ...): may hide a partial checksum */
};

struct l4_loc {
	__u32 l3;      /* the IP header the transport belongs to */
	__u32 off;     /* the transport header */
	__u32 end;     /* where that IP packet ends */
	__u32 dst_off; /* the pseudo-header's destination: the final one (SRH segments[0]) */
	__u8 kind;     /* enum l4_kind */
	__u8 v6;
	/* the first IP header's own next protocol (before any IP-in-IP is
	 * followed) and where it starts, or 0 when it is a fragment past the
	 * first (IPv4: an offset; IPv6: no transport header in it) */
	__u8 first_proto;
	__u32 first_off;
};

INLINE int l4_locate(void *ctx, const bool xdp, struct l4_loc *l)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	__u32 off = ETH_LEN;

	for (int depth = 0; depth < 2; depth++) {
		if (off > MAX_HDR_OFF)
			return SRV6_DROP_TRUNCATED;
		__u8 *ip = data + off;
		if ((void *)(ip + 20) > end)
			return SRV6_DROP_TRUNCATED;
		__u8 nh, tail = 0;
		bool odd_rt = false;
		__u32 next;
		l->l3 = off;
		__u8 version = ip[0] >> 4;
		if (version != 4 && version != 6)
			break;
		if (version == 4) {
			struct iphdr *ip4 = (void *)ip;
			if (ip4->ihl < 5)
				break;
			l->v6 = 0;
			l->end = off + bpf_ntohs(ip4->tot_len);
			l->dst_off = off + offsetof(struct iphdr, daddr);
			nh = ip4->protocol;
			next = off + ((__u32)ip4->ihl << 2);
			if (ip4->frag_off & bpf_htons(0x3fff)) /* MF or an offset */
				tail = L4_SUMMED;
			if (depth == 0 && !(ip4->frag_off & bpf_htons(0x1fff))) {
				l->first_proto = nh;
				l->first_off = next;
			}
		} else {
			struct ipv6hdr *ip6 = (void *)ip;
			if ((void *)(ip6 + 1) > end)
				return SRV6_DROP_TRUNCATED;
			l->v6 = 1;
			l->end = off + IP6_LEN + bpf_ntohs(ip6->payload_len);
			l->dst_off = off + offsetof(struct ipv6hdr, daddr);
			nh = ip6->nexthdr;
			next = off + IP6_LEN;
			for (int i = 0; i < L4_MAX_EXT; i++) {
				if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_DSTOPTS &&
				    nh != IPPROTO_ROUTING && nh != IPPROTO_AH && nh != IPPROTO_FRAGMENT)
					break;
				if (next > MAX_HDR_OFF)
					return SRV6_DROP_TRUNCATED;
				__u8 *h = data + next;
				if ((void *)(h + 8) > end)
					return SRV6_DROP_TRUNCATED;
				if (nh == IPPROTO_FRAGMENT) {
					tail = L4_SUMMED; /* the kernel completes before fragmenting */
					if (depth == 0 && !((h[2] << 8 | h[3]) & ~7)) {
						l->first_proto = h[0];
						l->first_off = next + 8;
					}
					break;
				}
				if (nh == IPPROTO_ROUTING) {
					if (h[2] == 4)
						l->dst_off = next + 8; /* segments[0]: the last segment */
					else
						odd_rt = true; /* another final destination rule */
				}
				next += nh == IPPROTO_AH ? ((__u32)h[1] + 2) << 2 : ((__u32)h[1] + 1) << 3;
				nh = h[0];
			}
		}
		if (depth == 0 && !tail) {
			l->first_proto = nh;
			l->first_off = next;
		}
		if (odd_rt && !tail)
			tail = L4_OTHER; /* no pseudo header to check a transport against */
		if (tail) {
			l->kind = tail;
			return 0;
		}
		if ((nh == IPPROTO_IPV6 || nh == IPPROTO_IPIP) && depth == 0) {
			off = next;
			continue;
		}
		l->off = next;
		l->kind = nh == IPPROTO_TCP ? L4_TCP : nh == IPPROTO_UDP ? L4_UDP
			: (nh == IPPROTO_ICMP || nh == IPPROTO_ICMPV6 || nh == IPPROTO_ESP ||
			   nh == 59 /* no next header */) ? L4_SUMMED : L4_OTHER;
		return 0;
	}
	l->kind = L4_OTHER; /* IP in IP in IP, or not IP */
	return 0;
}

__noinline int l4_locate_xdp(struct xdp_md *ctx, struct l4_loc *l)
{
	if (!l)
		return SRV6_DROP_BAD_ENTRY;
	return l4_locate(ctx, true, l);
}

__noinline int l4_locate_tc(struct __sk_buff *ctx, struct l4_loc *l)
{
	if (!l)
		return SRV6_DROP_BAD_ENTRY;
	return l4_locate(ctx, false, l);
}

#endif /* SRV6_L4_H */
