/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The behaviour table, as the kernel's seg6_action_desc: a row per enum
 * srv6_action says how the SID takes its packet in (its input rule) and
 * what of the shared steps it uses; each behaviour's file holds its route.
 * End, End.X and End.T advance the SRH (endpoint.h); End.DX4, End.DX6 and
 * End.DT* decapsulate (decap.h). A new behaviour is a row and a route. */
#ifndef SRV6_BEHAVIOURS_H
#define SRV6_BEHAVIOURS_H

#include "end.h"
#include "end_dt.h"
#include "end_dx4.h"
#include "end_dx6.h"
#include "end_t.h"
#include "end_x.h"

enum sid_input {
	IN_NONE,     /* no such behaviour: dropped (bad_entry) */
	IN_ENDPOINT, /* an SRH with SL > 0: advance it, route the new DA */
	IN_DECAP,    /* no SRH, or SL == 0: route the inner packet */
};

struct row {
	__u8 input;    /* enum sid_input */
	__u8 inner;    /* IN_DECAP: INNER_V4 | INNER_V6, the families taken */
	bool local_ok; /* IN_DECAP: an inner packet for a local address routed in main is
			* delivered (else blackholed) */
};

INLINE struct row sid_row(__u32 action)
{
	switch (action) {
	case SRV6_ACTION_END:
	case SRV6_ACTION_END_X:
	case SRV6_ACTION_END_T:
		return (struct row){IN_ENDPOINT, 0, false};
	case SRV6_ACTION_END_DX6:
		return (struct row){IN_DECAP, INNER_V6, false};
	case SRV6_ACTION_END_DX4:
		return (struct row){IN_DECAP, INNER_V4, true};
	case SRV6_ACTION_END_DT6:
		return (struct row){IN_DECAP, INNER_V6, true};
	case SRV6_ACTION_END_DT4:
		return (struct row){IN_DECAP, INNER_V4, true};
	case SRV6_ACTION_END_DT46:
		return (struct row){IN_DECAP, INNER_V4 | INNER_V6, true};
	default:
		return (struct row){IN_NONE, 0, false};
	}
}

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

INLINE void decap_route(const struct srv6_sid_entry *e, struct bpf_fib_lookup *fib,
			struct route *r, bool v6)
{
	switch (e->action) {
	case SRV6_ACTION_END_DX6:
		end_dx6_route(e, fib, r);
		break;
	case SRV6_ACTION_END_DX4:
		end_dx4_route(e, fib, r);
		break;
	default:
		end_dt_route(e, fib, r);
	}
}

#include "endpoint.h"
#include "decap.h"

/* direct: the run's input is a tenant's device (struct input). */
INLINE enum verdict run_sid(void *ctx, const bool xdp, const struct srv6_sid_entry *e, bool direct)
{
	struct row row = sid_row(e->action);
	if (row.input == IN_ENDPOINT)
		return endpoint(ctx, xdp, e, direct);
	if (row.input == IN_DECAP)
		return decap(ctx, xdp, e, row.inner, row.local_ok, direct);
	return sid_drop(e, SRV6_DROP_BAD_ENTRY);
}

#endif
