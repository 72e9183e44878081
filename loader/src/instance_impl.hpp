// Internals of srv6::Instance shared by its source files (instance.cpp:
// opening, attaching, listing; changes.cpp: adding and deleting entries).
#pragma once

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <string>

#include "srv6/instance.hpp"
#include "srv6_dp.skel.h"

namespace srv6 {
namespace detail {

// Maps pinned per instance, in the order of Instance::Impl's fd indexes.
inline constexpr const char* kMapNames[] = {"sids",         "policies4",    "policies6",
                                            "sid_stats",    "policy_stats", "reason_stats",
                                            "ports",        "chain_xdp",    "chain_tc",
                                            "fwd_clock",    "fwd_stats",    "tc_slow",
                                            "locals"};

// strerror, plus libbpf's or libxdp's last message when there is one.
std::string errstr(int err);
// The prebuilt SRH and outer destination of a policy.
void build_srh(const PolicyConfig& c, srv6_policy_entry& e);
void zero_counters(int fd, uint32_t idx);
// Moves the forwarding cache's generation far ahead: every answer cached so
// far is old, even if the watcher's increments race with this read and
// write. After any change to what cached answers derive from (SIDs, tx
// ports), and when a watcher starts or lost an announcement.
void drop_fwd_cache(int clock_fd);
// Now on the datapath's clock for the cache's lease (bpf_ktime_get_coarse_ns:
// CLOCK_MONOTONIC_COARSE), in ns.
uint64_t lease_clock_ns();

// An entry a local route has of its own in a trie (local.cpp), which the
// operator never sees.
template <typename E>
bool is_local_entry(const E& e) {
  return (e.flags & SRV6_LOCAL) && e.stats_idx == SRV6_NO_STATS;
}

// Walks every key of a map.
template <typename Key, typename F>
void for_each_key(int fd, F&& f) {
  Key key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    key = next;
    f(key);
    prev = &key;
  }
}

struct ClosedSkel {
  void operator()(srv6_dp* s) const { srv6_dp__destroy(s); }
};

}  // namespace detail

struct Instance::Impl {
  std::string name, dir;
  Instance::Options opts;  // sizes for a new instance
  std::unique_ptr<srv6_dp, detail::ClosedSkel> skel;  // loaded on demand (attach, prog fds)
  int fd[std::size(detail::kMapNames)];
  enum { SIDS, POL4, POL6, SID_STATS, POL_STATS, REASONS, PORTS, CHAIN_XDP, CHAIN_TC, FWD_CLOCK, FWD_STATS, TC_SLOW, LOCALS };
  Impl() { std::fill(std::begin(fd), std::end(fd), -1); }

  ~Impl() {
    for (int f : fd)
      if (f >= 0) close(f);
  }

  // Loads the object; libbpf reuses the maps pinned under dir, or creates
  // and pins them. Programs live while the skeleton does or while attached.
  void load();
  void open_maps();
};

}  // namespace srv6
