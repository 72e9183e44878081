/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* TC sees GSO packets (a local TCP sender on a veth without XDP, GRO on the
 * ingress): one skb standing for many packets of gso_size bytes each. The
 * MTU applies to each of them, as ip6_forward checks them
 * (skb_gso_validate_network_len), and counters count what goes on the wire.
 * XDP never sees one. */
#ifndef SRV6_GSO_H
#define SRV6_GSO_H

#include "l4.h"

struct gso_info {
	__u32 seg_l3;  /* L3 length of each packet (the whole packet when not GSO) */
	__u32 segs;    /* packets it stands for */
	__u32 hdr_len; /* L3 and transport headers, which every packet repeats */
};

/* 0, or -1 for a GSO packet we cannot measure: the kernel's forwarding
 * then checks it. */
__noinline int gso_info_tc(struct __sk_buff *ctx, __u32 l3_len, struct gso_info *g)
{
	if (!g)
		return -1;
	g->seg_l3 = l3_len;
	g->segs = 1;
	g->hdr_len = 0;
	__u32 gso = ctx->gso_size;
	if (!gso)
		return 0;
	struct l4_loc l = {};
	/* TCP only: gso_size of UDP GSO is a UDP payload (USO), or an inner TCP
	 * segment of a UDP tunnel's (vxlan TSO), and the skb's GSO type, which
	 * tells them apart, is not visible here */
	if (l4_locate_tc(ctx, &l) || l.kind != L4_TCP)
		return -1;
	__u8 *t = (void *)(long)ctx->data + (l.off & 0xfff);
	if ((void *)(t + 20) > (void *)(long)ctx->data_end)
		return -1;
	__u32 thl = (__u32)(t[12] >> 4) << 2;
	__u32 hdr = l.off - ETH_LEN + thl;
	if (hdr >= l3_len)
		return -1;
	g->hdr_len = hdr;
	g->seg_l3 = hdr + gso < l3_len ? hdr + gso : l3_len;
	/* gso_segs is 0 for packets whose header must be checked (DODGY) */
	g->segs = ctx->gso_segs ? ctx->gso_segs : (l3_len - hdr + gso - 1) / gso;
	return 0;
}

/* The GSO view of a packet of l3_len bytes, on either hook. */
INLINE int gso_info(void *ctx, const bool xdp, __u32 l3_len, struct gso_info *g)
{
	if (xdp) {
		g->seg_l3 = l3_len;
		g->segs = 1;
		g->hdr_len = 0;
		return 0;
	}
	return gso_info_tc(ctx, l3_len, g);
}

/* Bytes on the wire (L3, as the kernel's counters) of its packets when
 * each of them grows by extra bytes of headers. */
INLINE __u32 gso_wire_bytes(const struct gso_info *g, __u32 l3_len, __u32 extra)
{
	return l3_len + extra + (g->segs - 1) * (g->hdr_len + extra);
}

#endif /* SRV6_GSO_H */
