/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The ABI shared by the BPF datapath and the C++ control plane: map keys,
 * map values and enums. Written once; both sides include this file. */
#ifndef SRV6_ABI_H
#define SRV6_ABI_H

#ifdef __BPF__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stddef.h>
#endif

#define SRV6_MAX_SEGS 16
/* Default capacity of the SID and policy tables (and of their per-CPU
 * counter arrays); an instance may be created larger (Instance::Options). */
#define SRV6_MAX_SIDS (1u << 16)
#define SRV6_MAX_POLICIES (1u << 16)
#define SRV6_MAX_PORTS 256
/* Devices bound to a table (`link set DEV table ID`) are looked up by
 * ifindex in an array of this size; larger ifindexes cannot be bound. */
#define SRV6_MAX_IFINDEX (1u << 16)
#define SRV6_TABLE_MAIN 254 /* RT_TABLE_MAIN */

/* Behaviours. Values are stable (they live in pinned maps across
 * restarts) and are the kernel's SEG6_LOCAL_ACTION_* numbers, so a
 * seg6local route's action maps to ours as it is; the gaps are behaviours
 * not written yet. */
enum srv6_action {
	SRV6_ACTION_UNSPEC = 0,
	SRV6_ACTION_END = 1,
	SRV6_ACTION_END_X = 2,
	SRV6_ACTION_END_T = 3,
	SRV6_ACTION_END_DX6 = 5,
	SRV6_ACTION_END_DX4 = 6,
	SRV6_ACTION_END_DT6 = 7,
	SRV6_ACTION_END_DT4 = 8,
	SRV6_ACTION_END_DT46 = 16,
	SRV6_ACTION__MAX,
};

/* Head-end modes (kernel seg6 encap modes). */
enum srv6_encap_mode {
	SRV6_ENCAP_UNSPEC = 0,
	SRV6_ENCAP = 1,     /* H.Encaps */
	SRV6_ENCAP_RED = 2, /* H.Encaps.Red */
	SRV6_ENCAP__MAX,
};

/* Why a packet was dropped or handed to the kernel. Global per-CPU array
 * indexed by this enum. DROP_* never reach the wire; PASS_* leave the fast
 * path unchanged (XDP) or processed (TC) so the kernel finishes them. */
enum srv6_reason {
	SRV6_REASON_NONE = 0,      /* no reason: never counted (0 means "ok" in code) */
	SRV6_DROP_TRUNCATED,       /* headers cut short */
	SRV6_DROP_BAD_IP_HEADER,   /* what ip(v6)_rcv would drop: version, source, checksum */
	SRV6_DROP_MALFORMED_SRH,   /* fails the kernel's seg6_validate_srh */
	SRV6_DROP_NO_SRH,          /* End* without SRH */
	SRV6_DROP_SL_ZERO,         /* End* with segments_left == 0 */
	SRV6_DROP_NO_ROUTE,        /* FIB: unreachable, blackhole, prohibit */
	SRV6_DROP_ENCAP_FAILED,    /* no headroom / helper failure */
	SRV6_DROP_BAD_ENTRY,       /* map entry with an unknown action/mode */
	SRV6_DROP_TOO_MANY_EXT,    /* more extension headers or TLVs than walked */
	SRV6_DROP_CHAIN_LIMIT,     /* more of our own SIDs in a row than tail calls */
	SRV6_PASS_HOP_LIMIT,       /* hop limit <= 1: kernel sends Time Exceeded */
	SRV6_PASS_TOO_BIG,         /* over egress MTU: kernel sends Packet Too Big */
	SRV6_PASS_NO_NEIGH,        /* neighbour unresolved: kernel resolves it */
	SRV6_PASS_KERNEL_ROUTE,    /* FIB: local, unreachable, lwtunnel...: kernel routes it */
	SRV6_PASS_SKB_EGRESS,      /* egress not an XDP tx port: TC/skb path */
	SRV6_PASS_NO_HEADROOM,     /* encapsulation exceeds XDP headroom: TC does it */
	SRV6_PASS_KERNEL_INPUT,    /* unprocessed: the kernel's input answers it (ICMP) */
	SRV6_PASS_CSUM,            /* XDP: checksum may be left to offload: skb path */
	SRV6_DROP_PMTU_ICMP,       /* over the tunnel MTU: ICMP error sent to the inner source */
	SRV6_DROP_PMTU_LIMITED,    /* over the tunnel MTU: ICMP error rate limited */
	SRV6_DROP_TOO_BIG,         /* over the tunnel MTU, owed no ICMP error (IPv4 without DF,
				    * an ICMP error, a later IPv4 fragment): dropped */
	SRV6_DROP_NEXT_LOCAL,      /* End: next segment is a local address (the kernel blackholes) */
	SRV6_DROP_SL_NOT_ZERO,     /* decapsulation: an SRH with segments left */
	SRV6_DROP_INNER_PROTO,     /* decapsulation: no inner packet of the behaviour's family */
	SRV6_DROP_ROUTE_BLACKHOLE,   /* the route is a blackhole, */
	SRV6_DROP_ROUTE_UNREACHABLE, /* unreachable, */
	SRV6_DROP_ROUTE_PROHIBIT,    /* or prohibit: in main, TC hands the packet to the kernel
				      * (its ICMP error), still an error of the SID or policy */
	SRV6_DROP_HOP_LIMIT,       /* hop limit <= 1 of a tenant's packet (a tenant table's
				    * decapsulation, a tenant's head-end): not handed to the
				    * kernel, which would route it in main */
	SRV6_REASON__MAX,
};

/* LPM trie key on the IPv6 destination: a /128 SID or a locator prefix. */
struct srv6_sid_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* The router's own addresses (the kernel's local table: local and anycast
 * routes; IPv4 local and broadcast) win over any SID or policy prefix, as
 * the local table comes first in the kernel's lookups. The loader keeps
 * them in the tries (IPv6 in sids, IPv4 in policies4): as an entry of their
 * own, or as a flag on an entry the operator made for that very prefix. */
#define SRV6_LOCAL 1            /* srv6_sid_entry.flags, srv6_policy_entry.flags */
#define SRV6_NO_STATS 0xffffffffu /* stats_idx of a local address's own entry */

/* Attributes of one SID (the kernel's seg6local route). */
struct srv6_sid_entry {
	__u32 action;    /* enum srv6_action; UNSPEC for a local address's own entry */
	__u32 stats_idx; /* slot in sid_stats */
	__u32 table;     /* End.T, End.DT*: routing table id */
	__u32 oif;       /* End.X, End.DX*: egress ifindex, 0 = any */
	union {
		__u8 nh6[16]; /* End.X, End.DX6: next hop (End.DX6: :: = the inner DA) */
		__u8 nh4[4];  /* End.DX4: next hop (0.0.0.0 = the inner DA) */
	};
	__u32 flags;     /* SRV6_LOCAL */
};

/* LPM trie keys on the inner destination of a head-end policy, within
 * its table: the table's 32 bits come first and always match whole, so
 * prefixlen is 32 + the prefix's length. */
struct srv6_policy4_key {
	__u32 prefixlen;
	__u32 table;     /* routing table id; SRV6_TABLE_MAIN for main */
	__u8 addr[4];
};

struct srv6_policy6_key {
	__u32 prefixlen;
	__u32 table;
	__u8 addr[16];
};
#define SRV6_POLICY_TABLE_BITS 32

/* How a policy sets the outer header's fields (srv6_policy_entry.opts).
 * Without them, the kernel's choice: the inner IPv6 hop limit and traffic
 * class (IPv4 inner: 64 and 0), the flow label per seg6_flowlabel
 * (srv6_config). INHERIT copies the inner packet's field (IPv4: TTL, TOS
 * with its ECN bits; no flow label, 0). */
enum srv6_policy_opts {
	SRV6_POLICY_HOPLIMIT = 1,           /* hop_limit */
	SRV6_POLICY_HOPLIMIT_INHERIT = 2,
	SRV6_POLICY_TCLASS = 4,             /* tclass */
	SRV6_POLICY_TCLASS_INHERIT = 8,
	SRV6_POLICY_FLOWLABEL = 16,         /* flowlabel */
	SRV6_POLICY_FLOWLABEL_INHERIT = 32,
	SRV6_POLICY_FLOWLABEL_HASH = 64,    /* a hash of the inner flow */
};

/* A head-end policy. The loader prebuilds the SRH in wire order, as the
 * kernel's seg6 tunnel state does, so the datapath copies it verbatim and
 * fills in only the SRH's next header. */
struct srv6_policy_entry {
	__u32 mode;      /* enum srv6_encap_mode */
	__u32 stats_idx; /* slot in policy_stats */
	__u16 srh_len;   /* bytes of srh[] in use, 0 = no SRH (Red, 1 SID) */
	__u8 has_src;    /* src set; else tunsrc (srv6_config), else the FIB's pick */
	__u8 flags;      /* SRV6_LOCAL */
	__u8 opts;       /* enum srv6_policy_opts */
	__u8 hop_limit;
	__u8 tclass;
	__u8 pad2;
	__u32 flowlabel; /* low 20 bits */
	__u8 src[16];    /* outer source */
	__u8 dst[16];    /* outer destination: the first segment */
	__u8 srh[8 + 16 * SRV6_MAX_SEGS];
};

/* The instance's settings (map config, one entry), as the kernel's
 * per-namespace ones: `ip sr tunsrc` and net.ipv6.seg6_flowlabel (kept
 * equal to the namespace's sysctl by the loader and srv6d). */
struct srv6_config {
	__u8 tunsrc[16];      /* the default outer source */
	__u8 has_tunsrc;
	__s8 seg6_flowlabel;  /* > 0: hash, 0: copy the inner IPv6 label, < 0: zero */
	__u8 pad[6];
};

/* Per-CPU counters of one SID or policy, as the kernel's `count`:
 * packets/bytes processed without error (bytes = IPv6 length, no L2),
 * errors for the rest. */
struct srv6_counters {
	__u64 packets;
	__u64 bytes;
	__u64 errors;
};

/* A run of the datapath that a tail call chains (the decapsulated or
 * encapsulated packet is for one of our SIDs or policies) says which table
 * its input belongs to, whatever device it came in on: XDP in the frame's
 * metadata, TC in skb->cb[3..4]. Main: SIDs first, then main's policies;
 * another table: that table's policies only. The magic's low bit set
 * (SRV6_CHAIN_DIRECT): the run started on a tenant's device, whose rules
 * lead to the tenant's table, so what is routed in main is looked up in
 * main directly. */
#define SRV6_CHAIN_MAGIC 0x73727636u /* "srv6" */
#define SRV6_CHAIN_DIRECT 1u
struct srv6_chain_mark {
	__u32 magic;
	__u32 table;
};

/* TC's slow paths: programs of their own, entered by tail call from the
 * datapath (map tc_slow), so the fast path's stack and verification stay
 * small. Arguments travel in skb->cb. */
enum srv6_tc_slow {
	SRV6_TC_SLOW_PMTUD, /* cb[0]: tunnel MTU, cb[1]: inner is IPv6 */
	SRV6_TC_SLOW__MAX,
};

/* The local routes the loader put into the tries (map locals, control
 * plane only), so it can take them out again. */
struct srv6_local_key {
	__u8 family;    /* AF_INET, AF_INET6 */
	__u8 prefixlen;
	__u8 pad[2];
	__u8 addr[16];
};

enum srv6_local_state {
	SRV6_LOCAL_ENTRY = 1, /* an entry of its own */
	SRV6_LOCAL_FLAG = 2,  /* SRV6_LOCAL on the operator's entry */
};

/* A device attached to the instance (map ports, keyed by ifindex). */
enum srv6_port_flags {
	SRV6_PORT_TX_XDP = 1,     /* takes XDP frames (redirect target) */
	SRV6_PORT_TX_FIXED = 2,   /* TX_XDP set by the operator, not by the kernel's xdp-features */
	SRV6_PORT_RX_PARTIAL = 4, /* native XDP on a driver that hands skbs to XDP (veth, tun):
				   * frames may carry a checksum left to offload */
	SRV6_PORT_XDP_GENERIC = 8,/* XDP runs in generic mode: its redirects are skbs */
	SRV6_PORT_XDP = 16,       /* XDP attached (else TC only) */
};

struct srv6_port {
	__u32 flags; /* enum srv6_port_flags */
};

/* The kernel's netdev generic-netlink family (linux/netdev.h, 6.3+; the
 * uapi headers here are older): its "mgmt" group announces a device's
 * xdp-features, whose NDO_XMIT says it takes XDP frames. A veth has it
 * while its peer runs native XDP or GRO, and loses it BEFORE the peer's
 * receive path goes away. */
enum srv6_netdev_genl {
	SRV6_NETDEV_CMD_DEV_GET = 1,
	SRV6_NETDEV_CMD_DEV_ADD_NTF = 2,
	SRV6_NETDEV_CMD_DEV_DEL_NTF = 3,
	SRV6_NETDEV_CMD_DEV_CHANGE_NTF = 4,
	SRV6_NETDEV_A_DEV_IFINDEX = 1,
	SRV6_NETDEV_A_DEV_XDP_FEATURES = 3,
	SRV6_NETDEV_XDP_ACT_BASIC = 1,
	SRV6_NETDEV_XDP_ACT_NDO_XMIT = 4,
};

/* The forwarding cache's clock (map fwd_clock, u64 values by index).
 * GEN moves on every change the kernel's FIB answer may depend on (routes,
 * rules, neighbours, links, addresses): the kernel announces each on
 * rtnetlink, and a socket filter (bpf/fib_watch.h) on a watcher's socket
 * bumps GEN synchronously as it does. A cached answer is good only for the
 * GEN it was made in. ALIVE_UNTIL: the watcher's heartbeat
 * (CLOCK_MONOTONIC_COARSE ns); past it, or 0, every packet asks the FIB. */
enum srv6_fwd_clock {
	SRV6_FWD_GEN,
	SRV6_FWD_ALIVE_UNTIL,
	SRV6_FWD_CLOCK__MAX,
};

/* The forwarding cache's counters (map fwd_stats, per CPU, by index):
 * answers served from the cache, and lookups that went to the FIB while a
 * watcher was alive. */
enum srv6_fwd_stat {
	SRV6_FWD_HITS,
	SRV6_FWD_MISSES,
	SRV6_FWD_STAT__MAX,
};

/* Slots per CPU in the forwarding cache (a power of two). */
#define SRV6_FWD_CACHE_SLOTS 2048

/* One cached answer (map fwd_cache): the query's inputs, what a
 * successful bpf_fib_lookup wrote back and what the datapath derived from
 * it, or only that the destination is one of our SIDs (which End asks
 * first, without the FIB). Only successes are cached. */
struct srv6_fwd_query {
	__u32 flags;    /* bpf_fib_lookup flags */
	__u32 ifindex;  /* input interface, or the output one with _OUTPUT */
	__u32 tbid;     /* with BPF_FIB_LOOKUP_TBID; with _OUTPUT the input
			 * interface, which the slot's rx_partial is about */
	__be32 flowinfo;
	__u8 src[16];
	__u8 dst[16];
};

struct srv6_fwd_slot {
	struct srv6_fwd_query q;
	__u64 gen;      /* srv6_fwd_gen.gen when it was filled; 0: empty */
	__u32 ifindex;  /* egress */
	__u32 mtu;
	__u8 smac[6];
	__u8 dmac[6];
	__u8 has_fib;    /* the FIB's answer is here (else only dst_is_sid) */
	__u8 tx_port;    /* XDP may redirect to the egress (map ports) */
	__u8 dst_is_sid; /* q.dst is one of our SIDs */
	__u8 rx_partial; /* the ingress is SRV6_PORT_RX_PARTIAL */
	__u8 pad[4];
	__u8 src[16];   /* the source the FIB chose (BPF_FIB_LOOKUP_SRC) */
	__u8 gw[16];    /* the next hop the FIB wrote over the destination */
};

#endif /* SRV6_ABI_H */
