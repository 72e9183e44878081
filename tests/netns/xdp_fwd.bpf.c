// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The namespace tests' own minimal XDP programs (no SRv6, no maps to fill):
 *
 *  xdp_fwd:  an IPv6/IPv4 router in a few lines: bpf_fib_lookup, hop limit /
 *            TTL minus one, MACs rewritten, XDP_REDIRECT to the egress.
 *            Anything it cannot finish (not IP, hop limit 1, no neighbour,
 *            local, too big) goes to the kernel unchanged. control.sh runs
 *            host traffic through it natively on a veth to show that the
 *            traffic checks catch what native XDP_REDIRECT does to a locally
 *            sent TCP/UDP skb (CHECKSUM_PARTIAL, never completed).
 *  xdp_pass: XDP_PASS. On a veth it makes the device's peer take XDP
 *            redirects (veth_peer.sh, control.sh).
 *
 * Both count what they did in `fwd_counts` (per CPU: [0] redirected,
 * [1] passed), so a test can tell that the traffic took the XDP path. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} fwd_counts SEC(".maps");

static __always_inline int count(__u32 what, int verdict)
{
	__u64 *n = bpf_map_lookup_elem(&fwd_counts, &what);
	if (n)
		(*n)++;
	return verdict;
}

static __always_inline int pass(void) { return count(1, XDP_PASS); }

SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bpf_fib_lookup fib = {};

	if ((void *)(eth + 1) > end)
		return pass();
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end || ip6->hop_limit <= 1)
			return pass();
		fib.family = AF_INET6;
		fib.l4_protocol = ip6->nexthdr;
		fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
		fib.ifindex = ctx->ingress_ifindex;
		if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
			return pass();
		ip6->hop_limit--;
	} else if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip4 = (void *)(eth + 1);
		if ((void *)(ip4 + 1) > end || ip4->ttl <= 1)
			return pass();
		fib.family = AF_INET;
		fib.tos = ip4->tos;
		fib.l4_protocol = ip4->protocol;
		fib.tot_len = bpf_ntohs(ip4->tot_len);
		fib.ipv4_src = ip4->saddr;
		fib.ipv4_dst = ip4->daddr;
		fib.ifindex = ctx->ingress_ifindex;
		if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
			return pass();
		/* TTL - 1 with the incremental checksum update (RFC 1624). */
		__u32 check = ip4->check;
		check += bpf_htons(0x0100);
		ip4->check = (__u16)(check + (check >= 0xFFFF));
		ip4->ttl--;
	} else {
		return pass();
	}
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return count(0, bpf_redirect(fib.ifindex, 0));
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return pass();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
