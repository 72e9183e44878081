/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* How an endpoint behaviour routes the packet once its SRH has advanced:
 * each behaviour's file fills this in its route function. */
#ifndef SRV6_ROUTE_H
#define SRV6_ROUTE_H

#include "fwd.h"

struct route {
	__u32 flags;     /* bpf_fib_lookup flags */
	bool main_table; /* the kernel itself would use the main table */
	bool neigh_only; /* next hop and device known, only L2 left to resolve */
};

/* The inner families a decapsulating behaviour's row takes. */
#define INNER_V4 1
#define INNER_V6 2

#endif
