/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The behaviour table: one case per enum srv6_action, each behaviour in its
 * own file. End, End.X and End.T share the endpoint steps and differ only in
 * their route. */
#ifndef SRV6_BEHAVIOURS_H
#define SRV6_BEHAVIOURS_H

#include "end.h"
#include "end_t.h"
#include "end_x.h"

INLINE void sid_route(const struct srv6_sid_entry *e, struct bpf_fib_lookup *fib,
		      struct route *r)
{
	switch (e->action) {
	case SRV6_ACTION_END_X:
		end_x_route(e, fib, r);
		break;
	case SRV6_ACTION_END_T:
		end_t_route(e, fib, r);
		break;
	default:
		end_route(e, fib, r);
	}
}

#include "endpoint.h"

INLINE bool is_endpoint(__u32 action)
{
	return action == SRV6_ACTION_END || action == SRV6_ACTION_END_X ||
	       action == SRV6_ACTION_END_T;
}

INLINE enum verdict run_sid(void *ctx, const bool xdp, const struct srv6_sid_entry *e)
{
	if (is_endpoint(e->action))
		return endpoint(ctx, xdp, e);
	return sid_drop(e, SRV6_DROP_BAD_ENTRY);
}

#endif
