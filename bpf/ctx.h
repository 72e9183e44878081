/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* One context for both hooks. Every function takes `const bool xdp`; the
 * entry points pass a constant, so after inlining clang drops the other
 * hook's branch and each program only calls helpers its type may use. */
#ifndef SRV6_CTX_H
#define SRV6_CTX_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdbool.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef BPF_FIB_LOOKUP_SRC
#define BPF_FIB_LOOKUP_SRC (1U << 4) /* kernel >= 6.6; uapi headers here are 6.1 */
#endif

#define INLINE static __always_inline

/* What the datapath decided for a packet, before the hook's verdict. */
enum verdict {
	V_PASS,     /* not ours, or handed to the kernel unchanged (XDP) */
	V_DROP,
	V_REDIRECT, /* redirect set up, frame rewritten */
	V_KERNEL,   /* TC: processed, the kernel finishes forwarding */
};

INLINE void *ctx_data(void *ctx, const bool xdp)
{
	return xdp ? (void *)(long)((struct xdp_md *)ctx)->data
		   : (void *)(long)((struct __sk_buff *)ctx)->data;
}

INLINE void *ctx_data_end(void *ctx, const bool xdp)
{
	return xdp ? (void *)(long)((struct xdp_md *)ctx)->data_end
		   : (void *)(long)((struct __sk_buff *)ctx)->data_end;
}

INLINE __u32 ctx_ifindex(void *ctx, const bool xdp)
{
	return xdp ? ((struct xdp_md *)ctx)->ingress_ifindex
		   : ((struct __sk_buff *)ctx)->ifindex;
}

/* Length of the frame from its first byte (skb->len covers paged data). */
INLINE __u32 ctx_len(void *ctx, const bool xdp)
{
	return xdp ? (__u32)(ctx_data_end(ctx, xdp) - ctx_data(ctx, xdp))
		   : ((struct __sk_buff *)ctx)->len;
}

/* TC: make the first `len` bytes (at most 4096) linear so headers can be
 * read directly. Pointer comparison only: the verifier refuses arithmetic
 * on data_end, which a length computed from it can turn into. */
INLINE void ctx_pull(void *ctx, const bool xdp, __u32 len)
{
	if (xdp)
		return;
	struct __sk_buff *skb = ctx;
	if (len > skb->len)
		len = skb->len;
	len &= 0x1fff;
	if (ctx_data(ctx, xdp) + len > ctx_data_end(ctx, xdp))
		bpf_skb_pull_data(skb, len);
}

/* Drop bytes past the L3 length (Ethernet padding), as ip(v6)_rcv trims. */
INLINE int ctx_trim(void *ctx, const bool xdp, __u32 frame_len)
{
	__u32 len = ctx_len(ctx, xdp);
	if (len <= frame_len)
		return 0;
	if (xdp)
		return bpf_xdp_adjust_tail(ctx, -(int)(len - frame_len));
	return bpf_skb_change_tail(ctx, frame_len, 0);
}

#endif /* SRV6_CTX_H */
