/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* End.DX6 (RFC 8986 4.4): decapsulate, forward the inner IPv6 packet to
 * nh6 as End.X forwards (oif, link-local next hops), or with nh6 :: by its
 * own destination in the main table, without local delivery (the kernel's
 * seg6_lookup_nexthop). */
#ifndef SRV6_END_DX6_H
#define SRV6_END_DX6_H

#include "end_x.h"

INLINE bool nh6_unspecified(const struct srv6_sid_entry *e)
{
	const __u32 *w = (const void *)e->nh6;
	return !(w[0] | w[1] | w[2] | w[3]);
}

INLINE void end_dx6_route(const struct srv6_sid_entry *e, struct bpf_fib_lookup *fib,
			  struct route *r)
{
	if (!nh6_unspecified(e))
		end_x_route(e, fib, r);
}

#endif
