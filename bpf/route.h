/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* How an endpoint behaviour routes the packet once its SRH has advanced:
 * each behaviour's file fills this in its route function. */
#ifndef SRV6_ROUTE_H
#define SRV6_ROUTE_H

#include "csum.h"
#include "fwd.h"

struct route {
	__u32 flags;     /* bpf_fib_lookup flags */
	bool main_table; /* the kernel itself would use the main table */
	bool neigh_only; /* next hop and device known, only L2 left to resolve */
};

/* The last word on a plan before the frame changes: a GSO packet we
 * cannot measure goes to the kernel (in main, which checks it); at XDP a
 * checksum left to offload must be finished before the frame leaves as an
 * XDP frame, or the frame takes the skb path. */
INLINE void plan_settle(void *ctx, const bool xdp, struct plan *p, const struct fwd_answer *a,
			bool gso_known, bool main_table)
{
	if (!gso_known && p->kind != PLAN_CHAIN && main_table) {
		p->kind = PLAN_KERNEL;
		p->reason = SRV6_PASS_KERNEL_ROUTE;
	}
	if (xdp && p->kind == PLAN_FWD && a->rx_partial) {
		struct csum_fix fix = {};
		int c = csum_ready_xdp(ctx, &fix);
		if (!c && csum_finish_xdp(ctx, &fix, 0))
			c = SRV6_PASS_CSUM;
		if (c) {
			p->kind = PLAN_KERNEL;
			p->reason = c;
		}
	}
}

/* A run whose input is a tenant's device routes what goes by main's rules
 * in main directly: the device's rules lead to the tenant's table. */
INLINE void route_direct(struct bpf_fib_lookup *fib, struct route *r, bool direct)
{
	if (!direct || (r->flags & (BPF_FIB_LOOKUP_TBID | BPF_FIB_LOOKUP_OUTPUT)))
		return;
	fib->tbid = SRV6_TABLE_MAIN;
	r->flags |= BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID;
}

/* The inner families a decapsulating behaviour's row takes. */
#define INNER_V4 1
#define INNER_V6 2

#endif
