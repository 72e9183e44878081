/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* PMTUD through the head-end, where the kernel's black-holes (a deliberate
 * difference, docs/semantics.md): a packet too big for the tunnel gets, as
 * from any router on its path, an ICMPv6 Packet Too Big or an ICMPv4
 * Fragmentation Needed sent to its own (inner) source, carrying the tunnel
 * MTU (the egress MTU less the encapsulation). The kernel's seg6 sends its
 * error to the outer source, itself, and the sender never learns. A packet
 * owed no error (IPv4 without DF, which the kernel drops too; an ICMP error;
 * a later IPv4 fragment) is dropped. TC only: XDP hands such
 * packets up unchanged. The error is built in place of the packet. */
#ifndef SRV6_PMTUD_H
#define SRV6_PMTUD_H

#include "csum.h"

/* (linux/icmp.h pulls in libc headers) */
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP_TIME_EXCEEDED 11
#define ICMPV6_PKT_TOOBIG 2
#define ICMPV6_TIME_EXCEED 3

/* The errors of the slow path: Packet Too Big / Fragmentation Needed, and
 * Time Exceeded for a tenant's decapsulated packet (which the kernel would
 * route in main). */
enum icmp_kind {
	ICMP_KIND_TOO_BIG,
	ICMP_KIND_TIME_EXCEEDED,
};

/* ICMP and ICMPv6 headers of an error: type, code, checksum, then the
 * 32-bit field Packet Too Big gives the MTU in, and Fragmentation Needed
 * its lower 16 bits. */
struct icmp_err {
	__u8 type;
	__u8 code;
	__u16 cksum;
	__be32 info;
};

#ifndef AF_INET
#define AF_INET 2
#endif

/* What of the packet an error quotes, as the kernel's icmp6_send and
 * icmp_send: all that fits in 1280 (IPv6) or 576 (IPv4) bytes. */
#define ICMP6_QUOTE (1280 - 40 - 8)
#define ICMP4_QUOTE (576 - 20 - 8)
#define ICMP_HOP_LIMIT 64 /* the kernel's default hop_limit / ttl */
/* The kernel's global ICMP budget (net.ipv4.icmp_msgs_per_sec and
 * icmp_msgs_burst, defaults): the kernel exempts PMTUD errors from it, but
 * a head-end may owe one to every oversized packet of every tunnel. */
#define ICMP_NS_PER_MSG (1000000000ull / 1000)
#define ICMP_BURST 50

INLINE bool icmp_allowed(void)
{
	__u32 k = 0;
	struct srv6_icmp_bucket *b = bpf_map_lookup_elem(&icmp_bucket, &k);
	if (!b)
		return false;
	__u64 now = bpf_ktime_get_ns();
	bpf_spin_lock(&b->lock);
	__u64 credit = b->credit + (now - b->last);
	if (credit > ICMP_BURST * ICMP_NS_PER_MSG || now < b->last)
		credit = ICMP_BURST * ICMP_NS_PER_MSG;
	bool ok = credit >= ICMP_NS_PER_MSG;
	b->credit = ok ? credit - ICMP_NS_PER_MSG : credit;
	b->last = now;
	bpf_spin_unlock(&b->lock);
	return ok;
}

/* The quote may still carry a checksum left to offload (CHECKSUM_PARTIAL:
 * the skb keeps csum_start at the quoted transport header), which the
 * egress device then finishes over the quote, changing bytes the ICMP
 * checksum covers. So the quoted field gets the one value the device's
 * ~sum leaves unchanged: F = ~(s + F) in ones' complement, with s the sum
 * of the rest, is F = (~s) / 2, a right rotation by one. Written whatever
 * the checksum state: a quote's transport checksum is never checked. */
INLINE int quote_fixed_point(struct __sk_buff *ctx, __u32 quote_end)
{
	struct l4_loc l = {};
	if (l4_locate_tc(ctx, &l) || (l.kind != L4_TCP && l.kind != L4_UDP))
		return 0; /* a deeper checksum left to offload would spoil the error */
	__u32 foff = l.off + (l.kind == L4_TCP ? 16 : 6);
	if (foff + 2 > quote_end || foff > MAX_HDR_OFF)
		return 0;
	__u16 *f = (void *)(long)ctx->data + (foff & 0xfff);
	if ((void *)(f + 1) > (void *)(long)ctx->data_end)
		return -1;
	int sum = sum_bytes_tc(ctx, l.off, quote_end - l.off, (__u16)~*f);
	if (sum < 0)
		return -1;
	__u16 x = ~(__u16)sum;
	f = (void *)(long)ctx->data + (foff & 0xfff);
	if ((void *)(f + 1) > (void *)(long)ctx->data_end)
		return -1;
	*f = (__u16)(x >> 1 | x << 15);
	return 0;
}

/* Whether the packet may get an ICMP error at all: not an ICMP error itself
 * (RFC 4443 2.4 e.1, RFC 1122 3.2.2), not an IPv4 fragment past the first,
 * and for IPv4 only with DF (without it, the kernel drops it). */
INLINE bool owes_icmp(struct __sk_buff *ctx, __u32 v6, bool too_big)
{
	struct iphdr *in4 = (void *)(long)ctx->data + ETH_LEN;
	if ((void *)(in4 + 1) > (void *)(long)ctx->data_end)
		return false;
	if (too_big && !v6 && !(in4->frag_off & bpf_htons(0x4000))) /* DF */
		return false;
	struct l4_loc l = {};
	if (l4_locate_tc(ctx, &l))
		return false;
	if (!l.first_off)
		return v6; /* an IPv6 fragment past the first may get one, an IPv4 one not */
	if (l.first_proto != (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
		return true;
	__u8 *type = (void *)(long)ctx->data + (l.first_off & 0xfff);
	if ((void *)(type + 1) > (void *)(long)ctx->data_end)
		return false;
	if (v6)
		return *type >= 128; /* informational */
	return *type == 0 || *type == 8 || (*type >= 13 && *type <= 18); /* queries and replies */
}

/* Turns the packet at ETH_LEN (IPv6 if v6, else IPv4) into an ICMP error
 * (kind: for tunnel MTU mtu, or Time Exceeded) and sends it toward its
 * source, routed by the input's rules or, with table, in that table.
 * Counts the reason. The program srv6_pmtud runs it (map tc_slow). */
INLINE enum verdict pmtud_tc(struct __sk_buff *ctx, __u32 mtu, __u32 v6, __u32 table, __u32 kind)
{
	bool too_big = kind == ICMP_KIND_TOO_BIG;
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ipv6hdr *in6 = data + ETH_LEN;
	struct iphdr *in4 = data + ETH_LEN;
	__u8 tos = 0;
	__u32 l3_len;

	/* the source address lives in scratch, with the FIB query */
	__u32 k = 0;
	struct srv6_scratch *s = bpf_map_lookup_elem(&scratch, &k);
	if (!s)
		return V_DROP;
	if (v6 ? (void *)(in6 + 1) > end : (void *)(in4 + 1) > end) {
		count_reason(SRV6_DROP_TRUNCATED);
		return V_DROP;
	}
	__u8 *src = s->addr;
	__builtin_memset(src, 0, 16);
	if (!owes_icmp(ctx, v6, too_big)) {
		count_reason(too_big ? SRV6_DROP_TOO_BIG : SRV6_DROP_HOP_LIMIT);
		return V_DROP;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	in6 = data + ETH_LEN;
	in4 = data + ETH_LEN;
	if (v6 ? (void *)(in6 + 1) > end : (void *)(in4 + 1) > end) {
		count_reason(SRV6_DROP_TRUNCATED);
		return V_DROP;
	}
	if (v6) {
		if ((void *)(in6 + 1) > end)
			return V_DROP;
		__builtin_memcpy(src, &in6->saddr, 16);
		l3_len = IP6_LEN + bpf_ntohs(in6->payload_len);
	} else {
		__builtin_memcpy(src, &in4->saddr, 4);
		tos = (in4->tos & 0x1e) | 0xc0; /* IPTOS_TOS_MASK, PREC_INTERNETCONTROL */
		l3_len = bpf_ntohs(in4->tot_len);
	}
	if (!icmp_allowed()) {
		count_reason(too_big ? SRV6_DROP_PMTU_LIMITED : SRV6_DROP_HOP_LIMIT);
		return V_DROP;
	}

	/* the way back to the source, and our address on it */
	struct bpf_fib_lookup *fib = &s->fib;
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = v6 ? AF_INET6 : AF_INET;
	fib->ifindex = ctx->ifindex;
	if (v6)
		__builtin_memcpy(fib->ipv6_dst, src, 16);
	else
		__builtin_memcpy(&fib->ipv4_dst, src, 4);
	__u32 flags = BPF_FIB_LOOKUP_SRC;
	if (table) {
		fib->tbid = table;
		flags |= BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID;
	}
	long rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), flags);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) {
		count_reason(SRV6_DROP_NO_ROUTE);
		return V_DROP;
	}

	/* what there is of it: a decapsulated packet may claim more than the
	 * outer one carried */
	__u32 quote = v6 ? ICMP6_QUOTE : ICMP4_QUOTE;
	if (l3_len < (v6 ? IP6_LEN : 20)) /* a length shorter than its header */
		l3_len = ctx->len - ETH_LEN;
	if (l3_len < quote)
		quote = l3_len;
	if (ctx->len < ETH_LEN + quote)
		quote = ctx->len - ETH_LEN;
	__u32 hdr = v6 ? IP6_LEN + 8 : 20 + 8;
	if (bpf_skb_change_tail(ctx, ETH_LEN + quote, 0) ||
	    bpf_skb_pull_data(ctx, ETH_LEN + quote) ||
	    quote_fixed_point(ctx, ETH_LEN + quote) ||
	    bpf_skb_adjust_room(ctx, hdr, BPF_ADJ_ROOM_MAC, 0) ||
	    bpf_skb_pull_data(ctx, ETH_LEN + hdr + quote)) {
		count_reason(SRV6_DROP_ENCAP_FAILED);
		return V_DROP;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 *l3 = (void *)(eth + 1);
	if ((void *)(l3 + IP6_LEN + 8) > end)
		return V_DROP;
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);

	int sum;
	if (v6) {
		struct ipv6hdr *ip6 = (void *)l3;
		struct icmp_err *ic = (void *)(ip6 + 1);
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(8 + quote);
		ip6->nexthdr = IPPROTO_ICMPV6;
		ip6->hop_limit = ICMP_HOP_LIMIT;
		__builtin_memcpy(&ip6->saddr, fib->ipv6_src, 16);
		__builtin_memcpy(&ip6->daddr, src, 16);
		ic->type = too_big ? ICMPV6_PKT_TOOBIG : ICMPV6_TIME_EXCEED;
		ic->code = 0;
		ic->cksum = 0;
		ic->info = too_big ? bpf_htonl(mtu) : 0;
		/* the pseudo-header: both addresses, the length, the next header */
		__s64 p = bpf_csum_diff(NULL, 0, (__be32 *)&ip6->saddr, 32, 0);
		p += (__u64)bpf_htonl(8 + quote) + bpf_htonl(IPPROTO_ICMPV6);
		sum = sum_bytes_tc(ctx, ETH_LEN + IP6_LEN, 8 + quote, csum_fold32(p));
	} else {
		struct iphdr *ip4 = (void *)l3;
		struct icmp_err *ic = (void *)(ip4 + 1);
		*(__u16 *)ip4 = bpf_htons(0x4500 | tos);
		ip4->tot_len = bpf_htons(hdr + quote);
		ip4->id = bpf_get_prandom_u32();
		ip4->frag_off = 0;
		ip4->ttl = ICMP_HOP_LIMIT;
		ip4->protocol = IPPROTO_ICMP;
		ip4->check = 0;
		__builtin_memcpy(&ip4->saddr, &fib->ipv4_src, 4);
		__builtin_memcpy(&ip4->daddr, src, 4);
		ip4->check = ~csum_fold32(bpf_csum_diff(NULL, 0, (void *)ip4, 20, 0));
		ic->type = too_big ? ICMP_DEST_UNREACH : ICMP_TIME_EXCEEDED;
		ic->code = too_big ? ICMP_FRAG_NEEDED : 0;
		ic->cksum = 0;
		ic->info = too_big ? bpf_htonl(mtu & 0xffff) : 0; /* unused, next-hop MTU */
		sum = sum_bytes_tc(ctx, ETH_LEN + 20, 8 + quote, 0);
	}
	if (sum < 0)
		return V_DROP;
	__u16 *ck = (void *)(long)ctx->data + ETH_LEN + (v6 ? IP6_LEN + 2 : 20 + 2);
	if ((void *)(ck + 1) > (void *)(long)ctx->data_end)
		return V_DROP;
	*ck = ~(__u16)sum;

	count_reason(too_big ? SRV6_DROP_PMTU_ICMP : SRV6_DROP_HOP_LIMIT);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = {.nh_family = fib->family};
		__builtin_memcpy(nh.ipv6_nh, fib->ipv6_dst, 16); /* ipv4_nh shares it */
		return bpf_redirect_neigh(fib->ifindex, &nh, sizeof(nh), 0) == TC_ACT_REDIRECT
			       ? V_REDIRECT : V_DROP;
	}
	return bpf_redirect(fib->ifindex, 0) == TC_ACT_REDIRECT ? V_REDIRECT : V_DROP;
}

/* From the datapath at TC: the counters are done, the packet at ETH_LEN
 * is the one the error answers. table: 0 routes the error by the input's
 * rules. */
INLINE enum verdict to_icmp(void *ctx, const bool xdp, __u32 mtu, bool v6, __u32 table,
			    enum icmp_kind kind)
{
	if (xdp)
		return V_PASS;
	struct __sk_buff *skb = ctx;
	skb->cb[0] = mtu;
	skb->cb[1] = v6 | kind << 1;
	skb->cb[2] = table;
	bpf_tail_call(ctx, &tc_slow, SRV6_TC_SLOW_PMTUD);
	count_reason(SRV6_DROP_ENCAP_FAILED); /* no program there, or out of tail calls */
	return V_DROP;
}

INLINE enum verdict to_pmtud(void *ctx, const bool xdp, __u32 mtu, bool v6)
{
	return to_icmp(ctx, xdp, mtu, v6, 0, ICMP_KIND_TOO_BIG);
}

#endif /* SRV6_PMTUD_H */
