/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU counting: per SID / policy slot, and global by reason. */
#ifndef SRV6_COUNTERS_H
#define SRV6_COUNTERS_H

#include "ctx.h"
#include "srv6_maps.h"

/* One more in slot idx of a per-CPU array of __u64. */
INLINE void count_in(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);
	if (v)
		*v += 1;
}

INLINE void count_reason(__u32 reason)
{
	count_in(&reason_stats, reason);
}

/* ok: packets processed without error, `bytes` their IPv6 length (a GSO
 * packet counts as the packets it stands for). */
INLINE void count_slot(void *map, __u32 idx, __u32 packets, __u32 bytes, bool ok)
{
	struct srv6_counters *c = bpf_map_lookup_elem(map, &idx);
	if (!c)
		return;
	if (ok) {
		c->packets += packets;
		c->bytes += bytes;
	} else {
		c->errors += packets;
	}
}

#endif /* SRV6_COUNTERS_H */
