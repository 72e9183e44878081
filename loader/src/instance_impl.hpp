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
#include "store.hpp"

namespace srv6 {
namespace detail {

// Maps pinned per instance, in the order of Instance::Impl's fd indexes.
inline constexpr const char* kMapNames[] = {"sids",         "policies4",    "policies6",
                                            "sid_stats",    "policy_stats", "reason_stats",
                                            "ports",        "chain_xdp",    "chain_tc",
                                            "fwd_clock",    "fwd_stats",    "tc_slow",
                                            "locals",       "config",       "port_tables",
                                            "port_hop_limits"};

// strerror, plus libbpf's or libxdp's last message when there is one.
std::string errstr(int err);
// A map's kernel info (id, max_entries...); zeroed when fd is no map.
inline bpf_map_info map_info(int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len)) info = {};
  return info;
}
inline uint32_t max_entries(int fd) { return map_info(fd).max_entries; }
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

// Puts the router's own addresses into the tries (local.cpp); under the lock.
void sync_local(Instance::Impl& impl);
// port_tables made equal to the kernel's rules (link_table.cpp).
void sync_link_tables(int port_tables_fd);
// Takes the instance's programs off every device it holds (attach.cpp).
void detach_all(Instance::Impl& impl);

struct ClosedSkel {
  void operator()(srv6_dp* s) const { srv6_dp__destroy(s); }
};

}  // namespace detail

struct Instance::Impl {
  std::string name, dir;
  Instance::Options opts;  // sizes for a new instance
  std::unique_ptr<srv6_dp, detail::ClosedSkel> skel;  // loaded on demand (attach, prog fds)
  int fd[std::size(detail::kMapNames)];
  enum { SIDS, POL4, POL6, SID_STATS, POL_STATS, REASONS, PORTS, CHAIN_XDP, CHAIN_TC, FWD_CLOCK, FWD_STATS, TC_SLOW, LOCALS, CONFIG, PORT_TABLES, PORT_HOP_LIMITS };
  Impl() { std::fill(std::begin(fd), std::end(fd), -1); }
  // The instance lock (store.hpp), held while the tables or the
  // attachments change; re-entrant within one Instance.
  std::unique_ptr<detail::DirLock> held;
  int lock_depth = 0;

  ~Impl() {
    for (int f : fd)
      if (f >= 0) close(f);
  }

  // Loads the object; libbpf reuses the maps pinned under dir, or creates
  // and pins them. Programs live while the skeleton does or while attached.
  void load();
  // Opens the pinned maps; Error naming those that are missing.
  void open_maps();
  // Makes the instance's pins in a hidden directory and renames it into
  // place: another process sees all of them or none. Under the namespace
  // directory's lock.
  void create();
  // Takes the lock (waiting, and saying so, while another writer holds
  // it) and rolls back a batch a dead writer left.
  void lock();
  void unlock();
  // Rolls back a journal a dead writer left (journal.hpp).
  void recover();
};

// Holds the instance lock for a scope.
struct Locked {
  explicit Locked(Instance::Impl& i) : impl(i) { impl.lock(); }
  ~Locked() { impl.unlock(); }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;
  Instance::Impl& impl;
};

}  // namespace srv6
