/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* End.DT4, End.DT6 and End.DT46 (RFC 8986 4.5, 4.7, 4.8): decapsulate and
 * look the inner destination up in the SID's table, directly (the kernel's
 * End.DT6 `table` mode): no VRF device, no strict mode. They differ only in
 * the inner families their rows accept (behaviours.h). In the main table
 * a local destination is delivered, as the kernel's local table comes
 * first; in a table of its own it is not (decap.h). */
#ifndef SRV6_END_DT_H
#define SRV6_END_DT_H

#include "route.h"

INLINE void end_dt_route(const struct srv6_sid_entry *e, struct bpf_fib_lookup *fib,
			 struct route *r)
{
	fib->tbid = e->table;
	r->flags |= BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID;
	r->main_table = e->table == SRV6_TABLE_MAIN;
}

#endif
