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
	bool udp;      /* UDP segments (USO), which H.Encaps leaves to the kernel */
};

/* The skb's GSO type is not in __sk_buff: it is read from the kernel's
 * skb_shared_info (CO-RE, so the layout follows the running kernel). */
struct sk_buff___gso {
	unsigned char *head;
	unsigned int end; /* sk_buff_data_t: an offset from head on 64-bit */
} __attribute__((preserve_access_index));
struct skb_shared_info___gso {
	unsigned int gso_type;
} __attribute__((preserve_access_index));
extern void *bpf_cast_to_kern_ctx(void *) __ksym;

/* SKB_GSO_* bits (include/linux/skbuff.h), unchanged since 4.18 */
#define GSO_TCPV4 (1u << 0)
#define GSO_TCPV6 (1u << 4)
#define GSO_GRE (3u << 6)         /* GRE, GRE_CSUM */
#define GSO_UDP_TUNNEL (3u << 10) /* UDP_TUNNEL, UDP_TUNNEL_CSUM */
#define GSO_UDP_L4 (1u << 17)

static __always_inline __u32 skb_gso_type(struct __sk_buff *ctx)
{
	struct sk_buff___gso *k = bpf_cast_to_kern_ctx(ctx);
	struct skb_shared_info___gso *sh = (void *)(k->head + k->end);
	__u32 type = 0;
	if (bpf_probe_read_kernel(&type, sizeof(type),
				  __builtin_preserve_access_index(&sh->gso_type)))
		return 0;
	return type;
}

/* 0, or -1 for a GSO packet we cannot measure (a tunnel's segments, whose
 * headers we do not parse): the kernel's forwarding then checks it. */
__noinline int gso_info_tc(struct __sk_buff *ctx, __u32 l3_len, struct gso_info *g)
{
	if (!g)
		return -1;
	g->seg_l3 = l3_len;
	g->segs = 1;
	g->hdr_len = 0;
	g->udp = false;
	__u32 gso = ctx->gso_size;
	if (!gso)
		return 0;
	struct l4_loc l = {};
	if (l4_locate_tc(ctx, &l))
		return -1;
	/* gso_size counts the payload after the innermost transport header we
	 * find: TCP segments, or UDP segments (USO); not a UDP or GRE
	 * tunnel's, whose inner TCP is deeper */
	__u32 type = skb_gso_type(ctx);
	if (type & (GSO_GRE | GSO_UDP_TUNNEL))
		return -1;
	__u32 thl;
	/* a type of 0 comes only from BPF_PROG_TEST_RUN, which sets gso_size
	 * and gso_segs but no type: taken as the transport found */
	if (l.kind == L4_TCP && (!type || (type & (GSO_TCPV4 | GSO_TCPV6)))) {
		__u8 *t = (void *)(long)ctx->data + (l.off & 0xfff);
		if ((void *)(t + 20) > (void *)(long)ctx->data_end)
			return -1;
		thl = (__u32)(t[12] >> 4) << 2;
	} else if (l.kind == L4_UDP && (type & GSO_UDP_L4)) {
		thl = 8;
		g->udp = true;
	} else {
		return -1;
	}
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
		g->udp = false;
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
