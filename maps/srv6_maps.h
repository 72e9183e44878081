/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Every BPF map of the datapath, declared once. All are pinned by name under
 * the instance's pin directory, so configuration and counters survive a
 * reload or a restart of the control plane. */
#ifndef SRV6_MAPS_H
#define SRV6_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "srv6_abi.h"

/* SID table: LPM on the IPv6 destination. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SRV6_MAX_SIDS);
	__type(key, struct srv6_sid_key);
	__type(value, struct srv6_sid_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sids SEC(".maps");

/* Head-end policies: LPM on the inner IPv4 / IPv6 destination. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SRV6_MAX_POLICIES);
	__type(key, struct srv6_policy4_key);
	__type(value, struct srv6_policy_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} policies4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SRV6_MAX_POLICIES);
	__type(key, struct srv6_policy6_key);
	__type(value, struct srv6_policy_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} policies6 SEC(".maps");

/* Counters, per CPU, indexed by the entry's stats_idx (loader-allocated). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SRV6_MAX_SIDS);
	__type(key, __u32);
	__type(value, struct srv6_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sid_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SRV6_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct srv6_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} policy_stats SEC(".maps");

/* Drops and hand-offs by enum srv6_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SRV6_REASON__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} reason_stats SEC(".maps");

/* The devices attached to the instance, by ifindex (struct srv6_port).
 * XDP redirects only to a device listed here whose SRV6_PORT_TX_XDP is on:
 * a veth whose peer runs no XDP program (and no GRO) takes XDP frames and
 * silently drops them; anything else goes through the TC/skb path. */
struct {
	/* a hash, not a devmap: libbpf 1.1 cannot reuse a pinned devmap (the
	 * kernel adds BPF_F_RDONLY_PROG to it), and bpf_redirect bulks too */
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SRV6_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct srv6_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ports SEC(".maps");

/* The table each device's traffic belongs to, by ifindex (`link set DEV
 * table ID`); 0 = main. An array: the head-end reads it for every packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SRV6_MAX_IFINDEX);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} port_tables SEC(".maps");

/* Each device's net.ipv6.conf.DEV.hop_limit, by ifindex (0: not known,
 * the default 64), kept by the loader and srv6d (Instance::sync_sysctls):
 * the outer hop limit of an IPv4 packet's encapsulation, as the kernel's
 * ip6_dst_hoplimit of the route's device. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SRV6_MAX_IFINDEX);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} port_hop_limits SEC(".maps");

/* The programs themselves, for running the next SID when it is one of ours
 * (a tail call re-enters the program with the rewritten packet). One array
 * per hook: a program array holds one program type. Pinned, since an array
 * is emptied when no process or pin holds it any more. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} chain_xdp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} chain_tc SEC(".maps");

/* The instance's settings (struct srv6_config). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct srv6_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

/* The local routes the loader keeps in the tries (control plane only). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct srv6_local_key);
	__type(value, __u32); /* enum srv6_local_state */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} locals SEC(".maps");

/* TC's slow paths (enum srv6_tc_slow), filled by the loader with this
 * object's programs; pinned for the same reason as the chain maps. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SRV6_TC_SLOW__MAX);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_slow SEC(".maps");

/* The forwarding cache's clock (enum srv6_fwd_clock): shared by every
 * load of the instance and by its watchers, hence pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SRV6_FWD_CLOCK__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fwd_clock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SRV6_FWD_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fwd_stats SEC(".maps");

/* FIB answers, per CPU (no locks, no torn reads), direct-mapped by a hash
 * of the query. Not pinned: entries are only good for the current gen. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SRV6_FWD_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct srv6_fwd_slot);
} fwd_cache SEC(".maps");

/* Scratch memory, per CPU, for what the stack cannot hold or a helper must
 * size at run time: checksum tails, FIB queries of the slow paths. */
struct srv6_scratch {
	__u8 buf[516]; /* a checksum tail: < 512 bytes, rounded up to a word */
	struct bpf_fib_lookup fib;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct srv6_scratch);
} scratch SEC(".maps");

/* ICMP errors the datapath sends itself (PMTUD at the head-end): a token
 * bucket shared by every CPU, as the kernel's global ICMP budget. */
struct srv6_icmp_bucket {
	struct bpf_spin_lock lock;
	__u64 credit; /* ns worth of messages at SRV6_ICMP_RATE */
	__u64 last;   /* bpf_ktime_get_ns of the last refill */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct srv6_icmp_bucket);
} icmp_bucket SEC(".maps");

#endif /* SRV6_MAPS_H */
