/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* End.T (RFC 8986 4.3): forward by the new DA in the SID's table, looked up
 * directly as the kernel does (no policy rules): needs no VRF device. */
#ifndef SRV6_END_T_H
#define SRV6_END_T_H

#include "route.h"

INLINE void end_t_route(const struct srv6_sid_entry *e, struct bpf_fib_lookup *fib,
			struct route *r)
{
	fib->tbid = e->table;
	r->flags |= BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID;
	r->main_table = false;
}

#endif
