/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The behaviour table: one case per enum srv6_action, each in its own file. */
#ifndef SRV6_BEHAVIOURS_H
#define SRV6_BEHAVIOURS_H

#include "end.h"
#include "end_t.h"
#include "end_x.h"

INLINE enum verdict run_sid(void *ctx, const bool xdp, const struct srv6_sid_entry *e)
{
	switch (e->action) {
	case SRV6_ACTION_END:
		return endpoint(ctx, xdp, e, end_route);
	case SRV6_ACTION_END_X:
		return endpoint(ctx, xdp, e, end_x_route);
	case SRV6_ACTION_END_T:
		return endpoint(ctx, xdp, e, end_t_route);
	default:
		return sid_drop(e, SRV6_DROP_BAD_ENTRY);
	}
}

#endif
