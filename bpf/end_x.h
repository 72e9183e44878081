/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* End.X (RFC 8986 4.2): forward to the SID's IPv6 next hop, through its oif
 * when given (mandatory for a link-local next hop; the loader checks it).
 * bpf_fib_lookup never forwards to link-local addresses, so a link-local
 * next hop goes out of oif through the kernel's neighbour table
 * (bpf_redirect_neigh, TC only): XDP hands such packets to TC. */
#ifndef SRV6_END_X_H
#define SRV6_END_X_H

#include "route.h"

INLINE void end_x_route(const struct srv6_sid_entry *e, struct bpf_fib_lookup *fib,
			struct route *r)
{
	__builtin_memcpy(fib->ipv6_dst, e->nh6, 16);
	if (e->nh6[0] == 0xfe && (e->nh6[1] & 0xc0) == 0x80) {
		fib->ifindex = e->oif;
		r->neigh_only = true;
	} else if (e->oif) {
		fib->ifindex = e->oif;
		r->flags |= BPF_FIB_LOOKUP_OUTPUT;
	}
	r->main_table = false;
}

#endif
