#include "srv6/fib_watch.hpp"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "instance_impl.hpp"

namespace srv6 {

namespace {

// Every announcement a FIB answer may depend on. IPv4 nexthops marked dead
// on link down are not announced themselves; the link change is.
constexpr unsigned kGroups[] = {
    RTNLGRP_LINK,        RTNLGRP_NEIGH,        RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE,
    RTNLGRP_IPV4_RULE,   RTNLGRP_IPV6_IFADDR,  RTNLGRP_IPV6_IFINFO, RTNLGRP_IPV6_ROUTE,
    RTNLGRP_IPV6_PREFIX, RTNLGRP_IPV6_RULE,    RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF,
    RTNLGRP_NEXTHOP,
};

void set_clock(int fd, uint32_t key, uint64_t v) {
  if (bpf_map_update_elem(fd, &key, &v, BPF_ANY))
    throw Error(std::string("cannot write the forwarding cache's clock: ") + std::strerror(errno));
}

}  // namespace

FibWatch::FibWatch(Instance& inst) : clock_(inst.fwd_clock_fd()) {
  int prog = inst.fib_watch_prog_fd();
  sock_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (sock_ < 0) throw Error(std::string("cannot open an rtnetlink socket: ") + std::strerror(errno));
  // Bound, for a port id of our own: the kernel skips listeners whose id
  // equals the announcement's (0 for its own changes).
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  if (bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr)) {
    int err = errno;
    close(sock_);
    throw Error(std::string("cannot bind an rtnetlink socket: ") + std::strerror(err));
  }
  // The filter first, so that no announcement is ever queued to us.
  if (setsockopt(sock_, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof prog)) {
    int err = errno;
    close(sock_);
    throw Error(std::string("cannot attach the forwarding cache's watcher: ") + std::strerror(err));
  }
  for (unsigned g : kGroups) {
    if (setsockopt(sock_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g)) {
      int err = errno;
      close(sock_);
      throw Error("cannot join rtnetlink group " + std::to_string(g) + ": " + std::strerror(err));
    }
  }
  // Answers cached in an earlier lease may predate changes nobody watched.
  drop_all();
  beat();
}

FibWatch::~FibWatch() {
  uint32_t key = SRV6_FWD_ALIVE_UNTIL;
  uint64_t zero = 0;
  bpf_map_update_elem(clock_, &key, &zero, BPF_ANY);
  close(sock_);
}

void FibWatch::drop_all() { detail::drop_fwd_cache(clock_); }

void FibWatch::beat() {
  int err = 0;
  socklen_t len = sizeof err;
  char buf[256];
  // A lost announcement shows as a socket error (ENOBUFS); nothing else
  // is ever queued (the filter drops every message).
  if ((getsockopt(sock_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) ||
      (recv(sock_, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno == ENOBUFS))
    drop_all();
  set_clock(clock_, SRV6_FWD_ALIVE_UNTIL,
            detail::lease_clock_ns() + std::chrono::nanoseconds(kLease).count());
}

}  // namespace srv6
