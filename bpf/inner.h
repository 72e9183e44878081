/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Finding the inner packet of a decapsulating behaviour, as the kernel's
 * decap_and_validate: the first routing header, when it is a valid SRH,
 * must have segments_left == 0 (seg6_get_srh; an invalid one counts as no
 * SRH); then ipv6_find_hdr walks the extension headers (Hop-by-Hop,
 * routing, first fragment, AH, Destination Options) to the first header
 * that is none of them: the inner packet. */
#ifndef SRV6_INNER_H
#define SRV6_INNER_H

#include "parse.h"

struct inner_loc {
	__u32 off;   /* out: the inner header, from the frame start */
	__u32 proto; /* out: its protocol (IPPROTO_IPIP, IPPROTO_IPV6, or another) */
	__u32 limit; /* in: where the IPv6 packet ends */
};

/* 0 and loc filled, or an srv6_reason. */
INLINE int find_inner(void *ctx, const bool xdp, struct inner_loc *loc)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	__u32 off = ETH_LEN + IP6_LEN;
	__u32 nh_off = ETH_LEN + offsetof(struct ipv6hdr, nexthdr);
	bool first_rh = true;

	for (int i = 0; i < MAX_EXT_HDRS; i++) {
		if (nh_off > MAX_HDR_OFF || off > MAX_HDR_OFF)
			return SRV6_DROP_TRUNCATED;
		__u8 *nhp = data + nh_off;
		if ((void *)(nhp + 1) > end)
			return SRV6_DROP_TRUNCATED;
		__u8 nh = *nhp;
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_DSTOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_FRAGMENT && nh != IPPROTO_AH) {
			if (nh == IPPROTO_NONE)
				return SRV6_DROP_INNER_PROTO;
			loc->off = off;
			loc->proto = nh;
			return 0;
		}
		__u8 *h = data + off;
		if ((void *)(h + 8) > end || off + 8 > loc->limit)
			return SRV6_DROP_TRUNCATED;
		__u32 len;
		if (nh == IPPROTO_ROUTING) {
			len = ((__u32)h[1] + 1) << 3;
			if (first_rh && h[2] == 4 && h[3] != 0) {
				struct srh_loc s = {.off = off, .len = len, .limit = loc->limit};
				if (!validate_srh(ctx, xdp, &s))
					return SRV6_DROP_SL_NOT_ZERO;
			}
			first_rh = false;
		} else if (nh == IPPROTO_FRAGMENT) {
			if ((((__u16)h[2] << 8 | h[3]) & ~7) != 0)
				return SRV6_DROP_INNER_PROTO; /* a later fragment: no inner header */
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

__noinline int inner_locate_xdp(struct xdp_md *ctx, struct inner_loc *loc)
{
	if (!loc)
		return SRV6_DROP_BAD_ENTRY;
	return find_inner(ctx, true, loc);
}

__noinline int inner_locate_tc(struct __sk_buff *ctx, struct inner_loc *loc)
{
	if (!loc)
		return SRV6_DROP_BAD_ENTRY;
	return find_inner(ctx, false, loc);
}

INLINE int inner_locate(void *ctx, const bool xdp, struct inner_loc *loc)
{
	return xdp ? inner_locate_xdp(ctx, loc) : inner_locate_tc(ctx, loc);
}

#endif /* SRV6_INNER_H */
