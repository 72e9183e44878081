/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The checks the kernel's input path (ipv6_rcv, ip_rcv, ip_route_input)
 * makes before its seg6 code ever sees a packet: what it drops silently we
 * drop too; what it answers with an ICMP error (Hop-by-Hop options it does
 * not accept) we leave to it, unprocessed. Only run on our packets. */
#ifndef SRV6_INPUT_H
#define SRV6_INPUT_H

#include "parse.h"

#define MAX_HBH_OPTS 8 /* options looked at; more go to the kernel */

/* ipv6_rcv's silent drops that can hit a unicast SID or policy packet. */
INLINE int ipv6_rcv_check(const struct ipv6hdr *ip6)
{
	const __u32 *s = ip6->saddr.in6_u.u6_addr32;
	if (ip6->version != 6 || ip6->saddr.in6_u.u6_addr8[0] == 0xff)
		return SRV6_DROP_BAD_IP_HEADER; /* version, multicast source */
	if (s[0] == 0 && s[1] == 0 &&
	    (s[2] == bpf_htonl(0xffff) || (s[2] == 0 && s[3] == bpf_htonl(1))))
		return SRV6_DROP_BAD_IP_HEADER; /* v4-mapped or loopback source */
	return 0;
}

/* A Hop-by-Hop header right after the IPv6 header is parsed by ipv6_rcv
 * (ip6_parse_tlv). We go on only when it holds padding the kernel accepts,
 * a well-formed Router Alert, or unknown options marked "skip"; anything
 * else (options to answer with Parameter Problem, bad padding, Jumbo, ...)
 * goes to the kernel unprocessed. */
INLINE int hbh_check(void *ctx, const bool xdp)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	struct ipv6hdr *ip6 = data + ETH_LEN;
	__u8 *h = (void *)(ip6 + 1);
	if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_HOPOPTS)
		return 0;
	if ((void *)(h + 2) > end)
		return SRV6_DROP_TRUNCATED;
	__u32 len = ((__u32)h[1] + 1) << 3, off = 2, padlen = 0;
	for (int i = 0; i < MAX_HBH_OPTS; i++) {
		if (off >= len)
			return 0;
		__u8 *o = h + (off & 0x7ff);
		if ((void *)(o + 2) > end)
			return SRV6_DROP_TRUNCATED;
		__u8 type = o[0], olen = o[1];
		if (type == 0) { /* Pad1 */
			off += 1;
			if (++padlen > 7)
				return SRV6_PASS_KERNEL_INPUT;
			continue;
		}
		if (off + 2 + olen > len)
			return SRV6_PASS_KERNEL_INPUT;
		if (type == 1) { /* PadN: at most 7 bytes of padding, all zero */
			padlen += olen + 2;
			if (padlen > 7)
				return SRV6_PASS_KERNEL_INPUT;
			/* olen <= 5 here: read the 8 bytes from the option's start,
			 * which lie inside the 8-aligned header, and mask */
			if ((void *)(o + 8) > end)
				return SRV6_PASS_KERNEL_INPUT;
			__u64 v = 0;
			__builtin_memcpy(&v, o, 8);
			__u64 content = bpf_be64_to_cpu(v) >> 8 * (6 - olen) ;
			if (content & ((1ull << (8 * olen)) - 1))
				return SRV6_PASS_KERNEL_INPUT;
		} else {
			padlen = 0;
			bool router_alert = type == 5 && olen == 2;
			bool skip_unknown = (type >> 6) == 0 && type != 5 && type != 7 && type != 0x31;
			if (!router_alert && !skip_unknown)
				return SRV6_PASS_KERNEL_INPUT;
		}
		off += 2 + olen;
	}
	return SRV6_PASS_KERNEL_INPUT;
}

__noinline int hbh_check_xdp(struct xdp_md *ctx)
{
	return hbh_check(ctx, true);
}

__noinline int hbh_check_tc(struct __sk_buff *ctx)
{
	return hbh_check(ctx, false);
}

/* ip_rcv's header checks and ip_route_input's martian sources. */
INLINE int ipv4_rcv_check(void *ctx, const bool xdp, struct iphdr *ip4)
{
	if (ip4->version != 4 || ip4->ihl < 5)
		return SRV6_DROP_BAD_IP_HEADER;
	__u8 first = ((__u8 *)&ip4->saddr)[0];
	if (first == 0 || first == 127 || (first & 0xf0) == 0xe0 || ip4->saddr == 0xffffffff)
		return SRV6_DROP_BAD_IP_HEADER; /* zeronet, loopback, multicast, broadcast */

	/* header checksum: the one's complement sum must be 0xffff; summed
	 * from a copy, so the header's variable length needs no packet math */
	__u16 hdr[30];
	__u32 words = (__u32)ip4->ihl * 2, sum = 0;
	if (words < 10 || words > 30) /* says the verifier: ihl is 5..15 */
		return SRV6_DROP_BAD_IP_HEADER;
	const __u16 *w = (const void *)ip4;
	if (words == 10 && (void *)(w + 10) <= ctx_data_end(ctx, xdp)) {
		/* no options (nearly always): sum in place, no copy */
#pragma unroll
		for (int i = 0; i < 10; i++)
			sum += w[i];
	} else {
		int err = xdp ? bpf_xdp_load_bytes(ctx, ETH_LEN, hdr, words * 2)
			      : bpf_skb_load_bytes(ctx, ETH_LEN, hdr, words * 2);
		if (err)
			return SRV6_DROP_TRUNCATED;
		for (int i = 0; i < 30; i++) {
			if (i >= words)
				break;
			sum += hdr[i];
		}
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff ? 0 : SRV6_DROP_BAD_IP_HEADER;
}

#endif /* SRV6_INPUT_H */
