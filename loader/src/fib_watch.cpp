#include "srv6/fib_watch.hpp"

#include <bpf/bpf.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "instance_impl.hpp"
#include "netdev.hpp"

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

// A netlink socket of the current namespace with prog as its filter (first,
// so that no message is ever queued to it), in groups.
int filtered_socket(int protocol, int prog, const unsigned* groups, size_t n) {
  int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  if (sock < 0) throw Error(std::string("cannot open a netlink socket: ") + std::strerror(errno));
  // Bound, for a port id of our own: the kernel skips listeners whose id
  // equals the announcement's (0 for its own changes).
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  std::string what;
  if (bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr)) what = "bind a netlink socket";
  else if (setsockopt(sock, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof prog)) what = "attach a watcher";
  for (size_t i = 0; what.empty() && i < n; i++)
    if (setsockopt(sock, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i], sizeof groups[i]))
      what = "join netlink group " + std::to_string(groups[i]);
  if (!what.empty()) {
    int err = errno;
    close(sock);
    throw Error("cannot " + what + ": " + std::strerror(err));
  }
  return sock;
}

// Whether the kernel dropped announcements for the socket (ENOBUFS).
bool lost(int sock) {
  int err = 0;
  socklen_t len = sizeof err;
  return getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err;
}

// Reads every message queued; true when there was any, or a loss.
bool drain(int sock) {
  bool any = false;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(sock, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      any = true;
      continue;
    }
    if (n < 0 && errno == ENOBUFS) {
      any = true;
      continue;
    }
    return any;
  }
}

void set_clock(int fd, uint32_t key, uint64_t v) {
  if (bpf_map_update_elem(fd, &key, &v, BPF_ANY))
    throw Error(std::string("cannot write the forwarding cache's clock: ") + std::strerror(errno));
}

}  // namespace

FibWatch::FibWatch(Instance& inst) : inst_(inst), clock_(inst.fwd_clock_fd()) {
  sock_ = filtered_socket(NETLINK_ROUTE, inst.fib_watch_prog_fd(), kGroups, std::size(kGroups));
  // The ports' xdp-features, where the kernel announces them (6.3+).
  if (auto family = detail::netdev_family()) {
    try {
      ports_sock_ = filtered_socket(NETLINK_GENERIC, inst.ports_watch_prog_fd(), &family->mgmt_group, 1);
    } catch (...) {
      close(sock_);
      throw;
    }
  }
  // Answers cached in an earlier lease may predate changes nobody watched;
  // ports may have changed too (asked only now that changes are followed).
  inst_.refresh_ports();
  beat();
}

FibWatch::~FibWatch() {
  uint32_t key = SRV6_FWD_ALIVE_UNTIL;
  uint64_t zero = 0;
  bpf_map_update_elem(clock_, &key, &zero, BPF_ANY);
  close(sock_);
  if (ports_sock_ >= 0) close(ports_sock_);
}

void FibWatch::drop_all() { detail::drop_fwd_cache(clock_); }

void FibWatch::beat() {
  if (ports_sock_ >= 0 && (lost(ports_sock_) || drain(ports_sock_)))
    inst_.refresh_ports();  // drops the cache too
  if (lost(sock_)) {
    drop_all();
    lost_ = true;  // local routes may have changed unseen too
  }
  set_clock(clock_, SRV6_FWD_ALIVE_UNTIL,
            detail::lease_clock_ns() + std::chrono::nanoseconds(kLease).count());
}

bool FibWatch::local_changed() {
  bool changed = drain(sock_) || lost_;
  lost_ = false;
  return changed;
}

}  // namespace srv6
