/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The forwarding cache's watcher (fib_cache.h): a socket filter on an
 * rtnetlink socket that listens to every route, rule, nexthop, neighbour,
 * address, link and forwarding-setting group of the namespace. The kernel
 * runs it inside its announcement of a change (netlink_broadcast), after
 * the change is visible to lookups and before the change returns: the
 * generation moves at once, and an answer made before carries an older
 * one. It drops every message but those of the local table's routes, so
 * the watching process wakes up only for them.
 * (kprobes and fentry are not available on every kernel we run on, and no
 * tracepoint marks route changes; rtnetlink does.) */
#ifndef SRV6_FIB_WATCH_H
#define SRV6_FIB_WATCH_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "srv6_maps.h"

SEC("socket")
int fib_watch(struct __sk_buff *skb)
{
	__u32 k = SRV6_FWD_GEN;
	__u64 *gen = bpf_map_lookup_elem(&fwd_clock, &k);
	if (gen)
		__sync_fetch_and_add(gen, 1);
	/* a route of the local table (an address came or went) wakes the
	 * watcher up: the router's own addresses win over SIDs (local.cpp) */
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
	} m;
	if (bpf_skb_load_bytes(skb, 0, &m, sizeof(m)) == 0 &&
	    (m.nh.nlmsg_type == RTM_NEWROUTE || m.nh.nlmsg_type == RTM_DELROUTE) &&
	    m.rt.rtm_table == RT_TABLE_LOCAL)
		return skb->len;
	return 0;
}

#endif /* SRV6_FIB_WATCH_H */
