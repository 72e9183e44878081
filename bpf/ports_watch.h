/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Keeps the ports' SRV6_PORT_TX_XDP true: a socket filter on a
 * generic-netlink socket in the netdev family's "mgmt" group, which
 * announces every change of a device's xdp-features. The kernel runs it
 * inside the announcement, and a veth loses NDO_XMIT (its peer stops
 * taking XDP frames) before the peer's receive path goes away, so XDP stops
 * redirecting there before frames could be lost. It drops every message.
 * Ports the operator fixed (SRV6_PORT_TX_FIXED) are left alone. */
#ifndef SRV6_PORTS_WATCH_H
#define SRV6_PORTS_WATCH_H

#include <linux/netlink.h>
#include "srv6_maps.h"

#define NLA_TYPE_MASK_ 0x3fff
#define WATCH_MAX_ATTRS 16

SEC("socket")
int ports_watch(struct __sk_buff *skb)
{
	struct {
		struct nlmsghdr nh;
		__u8 cmd, version;
		__u16 reserved;
	} h;
	if (bpf_skb_load_bytes(skb, 0, &h, sizeof(h)))
		return 0;
	if (h.cmd != SRV6_NETDEV_CMD_DEV_ADD_NTF && h.cmd != SRV6_NETDEV_CMD_DEV_CHANGE_NTF &&
	    h.cmd != SRV6_NETDEV_CMD_DEV_DEL_NTF)
		return 0;
	__u32 off = sizeof(h), ifindex = 0;
	__u64 features = 0;
	for (int i = 0; i < WATCH_MAX_ATTRS; i++) {
		struct nlattr a;
		if (off + sizeof(a) > h.nh.nlmsg_len || bpf_skb_load_bytes(skb, off, &a, sizeof(a)) ||
		    a.nla_len < sizeof(a))
			break;
		__u16 type = a.nla_type & NLA_TYPE_MASK_;
		if (type == SRV6_NETDEV_A_DEV_IFINDEX && a.nla_len >= 8)
			bpf_skb_load_bytes(skb, off + 4, &ifindex, 4);
		if (type == SRV6_NETDEV_A_DEV_XDP_FEATURES && a.nla_len >= 12)
			bpf_skb_load_bytes(skb, off + 4, &features, 8);
		off += (a.nla_len + 3) & ~3u;
	}
	struct srv6_port *p = bpf_map_lookup_elem(&ports, &ifindex);
	if (!p || (p->flags & SRV6_PORT_TX_FIXED))
		return 0;
	bool takes = h.cmd != SRV6_NETDEV_CMD_DEV_DEL_NTF &&
		     (features & SRV6_NETDEV_XDP_ACT_NDO_XMIT);
	__u32 flags = takes ? p->flags | SRV6_PORT_TX_XDP : p->flags & ~SRV6_PORT_TX_XDP;
	if (flags == p->flags)
		return 0;
	p->flags = flags;
	/* cached answers say whether XDP may redirect to their egress */
	__u32 k = SRV6_FWD_GEN;
	__u64 *gen = bpf_map_lookup_elem(&fwd_clock, &k);
	if (gen)
		__sync_fetch_and_add(gen, 1);
	return 0;
}

#endif /* SRV6_PORTS_WATCH_H */
