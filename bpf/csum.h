/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Checksums: the ones' complement sums the datapath computes itself, and
 * the checksum state it must not lose (docs/semantics.md, "Checksums").
 * - XDP on a veth or a tun is handed skbs; a locally sent TCP or UDP skb
 *   carries CHECKSUM_PARTIAL: its checksum field holds the pseudo-header
 *   sum for the device to finish. Once the frame leaves as an XDP frame
 *   (redirect), nobody will (csum_ready_xdp).
 * - TC keeps the skb and its checksum state; with CHECKSUM_COMPLETE,
 *   skb->csum must follow every byte rewritten (csum_update_tc), as the
 *   kernel's seg6 code keeps it. */
#ifndef SRV6_CSUM_H
#define SRV6_CSUM_H

#include "counters.h"
#include "l4.h"

#define SUM_CHUNK 512 /* bpf_csum_diff's limit */
#define SUM_MAX 4096  /* an XDP frame fits in a page */

INLINE __u16 csum_fold32(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)((s & 0xffff) + (s >> 16));
}

/* Ones' complement sum of len bytes at off, folded; -1 if they are not
 * all there. off must be even (transport headers are). */
INLINE int sum_bytes(void *ctx, const bool xdp, __u32 off, __u32 len, __u32 seed)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	__s64 sum = seed;

	if (len > SUM_MAX)
		return -1;
	for (int i = 0; i < SUM_MAX / SUM_CHUNK; i++) {
		if (len < SUM_CHUNK)
			break;
		if (off > 2 * SUM_MAX)
			return -1;
		void *p = data + off;
		if (p + SUM_CHUNK > end)
			return -1;
		sum = bpf_csum_diff(NULL, 0, p, SUM_CHUNK, sum);
		off += SUM_CHUNK;
		len -= SUM_CHUNK;
	}
	len &= SUM_CHUNK - 1;
	if (len >= 1) {
		/* the tail through a buffer, zero-padded to a word: a packet
		 * range cannot be checked for a size known only at run time */
		__u32 k = 0;
		struct srv6_scratch *s = bpf_map_lookup_elem(&scratch, &k);
		if (!s)
			return -1;
		*(__u32 *)(s->buf + (len & 0x1fc)) = 0;
		int err = xdp ? bpf_xdp_load_bytes(ctx, off, s->buf, len)
			      : bpf_skb_load_bytes(ctx, off, s->buf, len);
		if (err)
			return -1;
		sum = bpf_csum_diff(NULL, 0, (void *)s->buf, (len + 3) & 0x3fc, sum);
	}
	return sum < 0 ? -1 : csum_fold32(sum);
}

/* Verified once each, as global functions (its loop would be walked again
 * at every call site otherwise). */
__noinline int sum_bytes_xdp(struct xdp_md *ctx, __u32 off, __u32 len, __u32 seed)
{
	return sum_bytes(ctx, true, off, len, seed);
}

__noinline int sum_bytes_tc(struct __sk_buff *ctx, __u32 off, __u32 len, __u32 seed)
{
	return sum_bytes(ctx, false, off, len, seed);
}

/* The transport checksum's pseudo-header sum (RFC 8200 8.1, RFC 768), folded. */
INLINE int pseudo_sum(void *ctx, const bool xdp, const struct l4_loc *l, __u8 proto, __u32 len)
{
	void *data = ctx_data(ctx, xdp), *end = ctx_data_end(ctx, xdp);
	__u32 alen = l->v6 ? 16 : 4;
	if (l->l3 > MAX_HDR_OFF || l->dst_off > MAX_HDR_OFF)
		return -1;
	__u8 *src = data + (l->l3 & 0xfff) + (l->v6 ? offsetof(struct ipv6hdr, saddr)
						 : offsetof(struct iphdr, saddr));
	__u8 *dst = data + (l->dst_off & 0xfff);
	if ((void *)(src + 16) > end || (void *)(dst + 16) > end)
		return -1;
	__s64 s = bpf_csum_diff(NULL, 0, (void *)src, alen, 0);
	s = bpf_csum_diff(NULL, 0, (void *)dst, alen, s);
	if (s < 0)
		return -1;
	if (l->v6)
		s += (__u64)bpf_htonl(len) + bpf_htonl(proto);
	else
		s += bpf_htonl((__u32)proto << 16 | len);
	return csum_fold32(s);
}

/* A checksum left to offload, to finish once the frame is sure to leave as
 * an XDP frame: the field's offset in the frame (0: none) and its value.
 * Finished earlier, a frame that still goes up (H.Encaps without XDP
 * headroom) would reach the device with the skb's CHECKSUM_PARTIAL, which
 * then "finishes" the complete checksum into a wrong one. */
struct csum_fix {
	__u32 off;
	__u16 value;
};

/* 0 when the frame's bytes are final, so it may leave as an XDP frame
 * (after finishing a checksum left to offload: *fix); SRV6_PASS_CSUM when
 * only the skb knows (the TC program then does the same work on the skb).
 * - a TCP or UDP checksum holding exactly the pseudo-header sum is left to
 *   offload: finished here, as the device would. (Were a complete
 *   checksum equal to it, finishing it rewrites the same value.)
 * - a UDP checksum must otherwise verify: a tunnel inside may carry the
 *   checksum left to offload, and only csum_start (in the skb) says where;
 * - transports never left to offload (ICMP, fragments, ESP) go as they are,
 *   other ones (tunnels, SCTP) take the skb path. */
__noinline int csum_ready_xdp(struct xdp_md *ctx, struct csum_fix *fix)
{
	struct l4_loc l = {};
	if (!fix)
		return SRV6_PASS_CSUM;
	fix->off = 0;
	if (l4_locate_xdp(ctx, &l))
		return SRV6_PASS_CSUM;
	if (l.kind == L4_SUMMED)
		return 0;
	if (l.kind != L4_TCP && l.kind != L4_UDP)
		return SRV6_PASS_CSUM;
	bool tcp = l.kind == L4_TCP;
	__u32 len = l.end - l.off, foff = l.off + (tcp ? 16 : 6);
	if (l.end < l.off + (tcp ? 20 : 8) || foff > MAX_HDR_OFF)
		return SRV6_PASS_CSUM;
	__u16 *f = (void *)(long)ctx->data + (foff & 0xfff);
	if ((void *)(f + 1) > (void *)(long)ctx->data_end)
		return SRV6_PASS_CSUM;
	__u16 field = *f;
	int p = pseudo_sum(ctx, true, &l, tcp ? IPPROTO_TCP : IPPROTO_UDP, len);
	if (p < 0)
		return SRV6_PASS_CSUM;
	if (tcp && field != p)
		return 0; /* complete (or corrupt: forwarded as it is, as the kernel does) */
	if (!tcp && field == 0)
		return SRV6_PASS_CSUM; /* no checksum (IPv4): nothing to verify inside */
	int sum = sum_bytes_xdp(ctx, l.off, len, 0);
	if (sum < 0)
		return SRV6_PASS_CSUM;
	if (field != p) /* UDP: verified, or the skb path */
		return csum_fold32((__u32)sum + p) == 0xffff ? 0 : SRV6_PASS_CSUM;
	__u16 c = ~(__u16)sum;
	if (!tcp && !c)
		c = 0xffff; /* UDP sends a zero checksum as all ones */
	fix->off = foff;
	fix->value = c;
	return 0;
}

/* Finishes the checksum csum_ready_xdp found, `shift` bytes further into
 * the frame (the headers pushed in front of it since): 0, or -1. */
INLINE int csum_finish_xdp(struct xdp_md *ctx, const struct csum_fix *fix, __u32 shift)
{
	if (!fix->off)
		return 0;
	__u32 off = fix->off + shift;
	if (off > MAX_HDR_OFF + 512)
		return -1;
	__u16 *f = (void *)(long)ctx->data + (off & 0x1fff);
	if ((void *)(f + 1) > (void *)(long)ctx->data_end)
		return -1;
	*f = fix->value;
	return 0;
}

/* TC: moves skb->csum by diff (bpf_csum_diff of the bytes rewritten) when
 * it is CHECKSUM_COMPLETE; the helper refuses every other state. */
INLINE void csum_update_tc(void *ctx, const bool xdp, __s64 diff)
{
	if (!xdp && diff >= 0)
		bpf_csum_update(ctx, diff);
}

#endif /* SRV6_CSUM_H */
