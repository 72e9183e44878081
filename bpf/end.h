/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* End (RFC 8986 4.1): forward by the new DA in the main table (through the
 * policy rules, as the kernel's seg6_lookup_nexthop does). */
#ifndef SRV6_END_H
#define SRV6_END_H

#include "route.h"

INLINE void end_route(const struct srv6_sid_entry *e, struct bpf_fib_lookup *fib,
		      struct route *r)
{
}

#endif
