/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* End.DX4 (RFC 8986 4.6): decapsulate, forward the inner IPv4 packet to
 * nh4 (through oif when given), or with 0.0.0.0 by its own destination in
 * the main table. The kernel routes it with ip_route_input(nh4, TOS 0). */
#ifndef SRV6_END_DX4_H
#define SRV6_END_DX4_H

#include "route.h"

INLINE void end_dx4_route(const struct srv6_sid_entry *e, struct bpf_fib_lookup *fib,
			  struct route *r)
{
	__u32 nh4;
	__builtin_memcpy(&nh4, e->nh4, 4);
	fib->tos = 0;
	if (!nh4)
		return;
	fib->ipv4_dst = nh4;
	if (e->oif) {
		fib->ifindex = e->oif;
		r->flags |= BPF_FIB_LOOKUP_OUTPUT;
	}
	r->main_table = false;
}

#endif
