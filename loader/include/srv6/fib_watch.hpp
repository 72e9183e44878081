// Keeps the datapath's forwarding cache (bpf/fib_cache.h) true while it
// lives: an rtnetlink socket of the instance's namespace, listening to
// every group whose changes a FIB answer depends on, with the datapath's
// socket filter attached (bpf/fib_watch.h), which moves the cache's
// generation inside each announcement. A heartbeat leases the cache: when
// the owner stops beating (or exits), the lease runs out and every packet
// asks the FIB again. It also keeps the ports' "takes XDP frames" true
// (bpf/ports_watch.h) from the kernel's netdev announcements.
// srv6d owns one; so do tests and benchmarks.
#pragma once

#include <chrono>

#include "srv6/instance.hpp"

namespace srv6 {

class FibWatch {
 public:
  // A watcher killed without its destructor leaves the cache unwatched
  // for at most the rest of its lease.
  static constexpr std::chrono::milliseconds kLease{1000};
  static constexpr std::chrono::milliseconds kBeat{200};

  // In the current network namespace, which must be the instance's.
  explicit FibWatch(Instance& inst);
  ~FibWatch();  // ends the lease
  FibWatch(const FibWatch&) = delete;
  FibWatch& operator=(const FibWatch&) = delete;

  // Renews the lease; call at least every kBeat. When the kernel could not
  // deliver an announcement to the socket (ENOBUFS), every cached answer
  // is dropped first.
  void beat();
  // Readable when a route of the local table changed (or announcements
  // were lost): then call local_changed().
  int fd() const { return sock_; }
  // Reads what fd() holds; true when the router's own addresses may have
  // changed, so Instance::sync_local() is due.
  bool local_changed();

 private:
  void drop_all();
  Instance& inst_;
  int sock_ = -1;
  int ports_sock_ = -1;
  int clock_ = -1;
  bool lost_ = false;
};

}  // namespace srv6
