/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Header parsing and SRH validation, following the kernel's
 * ipv6_find_hdr(IP6_FH_F_SKIP_RH) and seg6_validate_srh(reduced = true). */
#ifndef SRV6_PARSE_H
#define SRV6_PARSE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/seg6.h>
#include "ctx.h"
#include "srv6_abi.h"

#define ETH_LEN 14
#define IP6_LEN 40
#define MAX_EXT_HDRS 9    /* 8 extension headers, then the SRH */
#define MAX_SRH_TLVS 64   /* TLVs walked in one SRH */
#define MAX_HDR_OFF 4096  /* headers beyond this are not looked at */

/* Where the SRH is. */
struct srh_loc {
	__u32 off;     /* from the frame start */
	__u32 len;     /* (hdrlen + 1) * 8 */
	__u32 limit;   /* in: where the IPv6 packet ends (Ethernet padding may follow) */
};

/* Returns the IPv6 header when the frame holds one in full, else NULL. */
INLINE struct ipv6hdr *ipv6_header(void *ctx, const bool xdp)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return NULL;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > end)
		return NULL;
	return ip6;
}

/* Finds the SRH the way seg6local does: walk Hop-by-Hop, Destination
 * Options, AH and first-fragment headers; skip routing headers with
 * segments_left == 0. Returns 0 and fills loc, or an srv6_reason. */
INLINE int find_srh(void *ctx, const bool xdp, struct srh_loc *loc)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	__u32 off = ETH_LEN + IP6_LEN;
	__u32 nh_off = ETH_LEN + offsetof(struct ipv6hdr, nexthdr);
	__u32 none = SRV6_DROP_NO_SRH; /* or SL_ZERO once an SRH with SL 0 was passed */
	__u8 *h;

	for (int i = 0; i < MAX_EXT_HDRS; i++) {
		if (nh_off > MAX_HDR_OFF || off > MAX_HDR_OFF)
			return SRV6_DROP_TRUNCATED;
		__u8 *nhp = data + nh_off;
		if ((void *)(nhp + 1) > end)
			return SRV6_DROP_TRUNCATED;
		__u8 nh = *nhp;
		h = data + off;
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_DSTOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_FRAGMENT && nh != IPPROTO_AH)
			return none;
		if ((void *)(h + 8) > end || off + 8 > loc->limit)
			return SRV6_DROP_TRUNCATED;
		__u32 len;
		if (nh == IPPROTO_ROUTING) {
			len = ((__u32)h[1] + 1) << 3;
			if (h[3] != 0) {
				loc->off = off;
				loc->len = len;
				return 0;
			}
			if (h[2] == 4)
				none = SRV6_DROP_SL_ZERO;
		} else if (nh == IPPROTO_FRAGMENT) {
			if ((((__u16)h[2] << 8 | h[3]) & ~7) != 0)
				return none; /* not the first fragment */
			len = 8;
		} else if (nh == IPPROTO_AH) {
			len = ((__u32)h[1] + 2) << 2;
		} else {
			len = ((__u32)h[1] + 1) << 3;
		}
		nh_off = off;
		off += len;
	}
	return SRV6_DROP_TOO_MANY_EXT;
}

/* seg6_validate_srh with reduced = true, over the SRH at loc. */
INLINE int validate_srh(void *ctx, const bool xdp, const struct srh_loc *loc)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	__u32 off = loc->off;
	if (off > MAX_HDR_OFF)
		return SRV6_DROP_TRUNCATED;
	struct ipv6_sr_hdr *srh = data + off;
	if ((void *)(srh + 1) > end)
		return SRV6_DROP_TRUNCATED;
	if ((void *)srh + (loc->len & 0xfff) > end || off + loc->len > loc->limit)
		return SRV6_DROP_TRUNCATED;
	if (srh->type != 4)
		return SRV6_DROP_MALFORMED_SRH;
	if ((int)srh->first_segment > (srh->hdrlen >> 1) - 1)
		return SRV6_DROP_MALFORMED_SRH;
	if (srh->segments_left > srh->first_segment + 1)
		return SRV6_DROP_MALFORMED_SRH;

	/* TLVs (type, len, value) must fill the rest exactly. */
	__u32 tlv = sizeof(*srh) + (((__u32)srh->first_segment + 1) << 4);
	for (int i = 0; i < MAX_SRH_TLVS; i++) {
		if (tlv == loc->len)
			return 0;
		if (tlv + 2 > loc->len)
			return SRV6_DROP_MALFORMED_SRH;
		__u8 *t = (void *)srh + (tlv & 0x7ff);
		if ((void *)(t + 2) > end)
			return SRV6_DROP_TRUNCATED;
		tlv += 2 + t[1];
	}
	return SRV6_DROP_TOO_MANY_EXT;
}

/* The SRH walk and its validation loop are verified once per hook as global
 * functions (checked on their own, not again at every call site), which
 * keeps the programs far under the verifier's complexity limit. */
__noinline int srh_locate_xdp(struct xdp_md *ctx, struct srh_loc *loc)
{
	if (!loc) /* the verifier checks a global function for any caller */
		return SRV6_DROP_BAD_ENTRY;
	int r = find_srh(ctx, true, loc);
	return r ? r : validate_srh(ctx, true, loc);
}

__noinline int srh_locate_tc(struct __sk_buff *ctx, struct srh_loc *loc)
{
	if (!loc)
		return SRV6_DROP_BAD_ENTRY;
	int r = find_srh(ctx, false, loc);
	return r ? r : validate_srh(ctx, false, loc);
}

/* Finds the SRH and validates it: 0, or an srv6_reason. */
INLINE int srh_locate(void *ctx, const bool xdp, struct srh_loc *loc)
{
	return xdp ? srh_locate_xdp(ctx, loc) : srh_locate_tc(ctx, loc);
}

#endif /* SRV6_PARSE_H */
