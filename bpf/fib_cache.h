/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bpf_fib_lookup with a cache in front: the lookup costs as much as all
 * the rest of a behaviour. A cached answer carries the generation it was
 * made in (map fwd_clock), which the watcher (fib_watch.h) moves with every
 * change the answer may depend on, so it is never used stale: a query reads
 * the generation before asking the FIB, so an answer that raced with a
 * change is stored under the old generation and never used. Without a live
 * watcher every packet asks the FIB. Only successes are cached.
 * The device MTU is checked live: the kernel announces a new link MTU
 * before IPv6 takes it up (rtnetlink's notifier runs before addrconf's). */
#ifndef SRV6_FIB_CACHE_H
#define SRV6_FIB_CACHE_H

#include "ctx.h"
#include "srv6_maps.h"

/* Two independent multiplies over xor-folded words: a serial FNV over the
 * 12 words cost ~10 ns more per packet. Collisions only cost a lookup. */
INLINE __u32 fwd_hash(const struct srv6_fwd_query *q)
{
	const __u64 *w = (const void *)q;
	__u64 a = w[0] ^ w[2] ^ w[4], b = w[1] ^ w[3] ^ w[5];
	__u64 h = a * 0x9E3779B97F4A7C15ull ^ b * 0xC2B2AE3D27D4EB4Full;

	_Static_assert(sizeof(*q) == 48, "fwd_hash folds six words");
	return (h >> 40) & (SRV6_FWD_CACHE_SLOTS - 1);
}

INLINE void fwd_count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&fwd_stats, &stat);
	if (v)
		*v += 1;
}

INLINE bool fwd_query_eq(const struct srv6_fwd_query *a, const struct srv6_fwd_query *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;
	__u64 d = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*a) / 8); i++)
		d |= x[i] ^ y[i];
	return !d;
}

/* Same contract as bpf_fib_lookup(ctx, fib, sizeof(*fib), flags) for the
 * fields the datapath reads (ifindex, MACs, source, next hop). */
INLINE long fib_lookup_cached(void *ctx, struct bpf_fib_lookup *fib, __u32 flags)
{
	__u32 k = SRV6_FWD_GEN;
	__u64 *genp = bpf_map_lookup_elem(&fwd_clock, &k);
	k = SRV6_FWD_ALIVE_UNTIL;
	__u64 *alive = bpf_map_lookup_elem(&fwd_clock, &k);
	/* the coarse clock: ~3 ns here, the precise one ~35 (pvclock) */
	if (!genp || !alive || bpf_ktime_get_coarse_ns() > *(volatile __u64 *)alive)
		return bpf_fib_lookup(ctx, fib, sizeof(*fib), flags);
	__u64 gen = *(volatile __u64 *)genp;

	/* ifindex, flowinfo and tbid are overwritten by the answer */
	struct srv6_fwd_query q = {
		.flags = flags,
		.ifindex = fib->ifindex,
		.tbid = (flags & BPF_FIB_LOOKUP_TBID) ? fib->tbid : 0,
		.flowinfo = fib->flowinfo,
	};
	__builtin_memcpy(q.src, fib->ipv6_src, 16);
	__builtin_memcpy(q.dst, fib->ipv6_dst, 16);
	__u32 idx = fwd_hash(&q);
	struct srv6_fwd_slot *s = bpf_map_lookup_elem(&fwd_cache, &idx);
	if (!s)
		return bpf_fib_lookup(ctx, fib, sizeof(*fib), flags);

	if (gen && s->gen == gen && fwd_query_eq(&s->q, &q)) {
		/* the FIB compares the length with the MTU on a success only */
		fwd_count(SRV6_FWD_HITS);
		__u32 len = fib->tot_len;
		if (len > s->mtu || bpf_check_mtu(ctx, s->ifindex, &len, 0, 0)) {
			fib->mtu_result = s->mtu;
			return BPF_FIB_LKUP_RET_FRAG_NEEDED;
		}
		fib->mtu_result = s->mtu;
		fib->ifindex = s->ifindex;
		fib->rt_metric = 0;
		fib->h_vlan_proto = 0;
		fib->h_vlan_TCI = 0;
		__builtin_memcpy(fib->smac, s->smac, 6);
		__builtin_memcpy(fib->dmac, s->dmac, 6);
		__builtin_memcpy(fib->ipv6_src, s->src, 16);
		__builtin_memcpy(fib->ipv6_dst, s->gw, 16);
		return BPF_FIB_LKUP_RET_SUCCESS;
	}

	fwd_count(SRV6_FWD_MISSES);
	long rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), flags);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS || !gen)
		return rc;
	s->q = q;
	s->gen = gen;
	s->ifindex = fib->ifindex;
	s->mtu = fib->mtu_result;
	__builtin_memcpy(s->smac, fib->smac, 6);
	__builtin_memcpy(s->dmac, fib->dmac, 6);
	__builtin_memcpy(s->src, fib->ipv6_src, 16);
	__builtin_memcpy(s->gw, fib->ipv6_dst, 16);
	return rc;
}

#endif /* SRV6_FIB_CACHE_H */
