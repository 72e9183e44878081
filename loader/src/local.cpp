// The router's own addresses in the datapath's tries: the kernel looks its
// local table up before any other, so a local or anycast route (IPv4:
// local, broadcast) wins over every SID and policy prefix that covers it.
// The tries get an entry of their own for each such route (IPv6 in sids,
// IPv4 in policies4), or SRV6_LOCAL on the operator's entry for that very
// prefix; map locals records which, so that they can be taken out again.
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "instance_impl.hpp"

namespace srv6 {

using namespace detail;

namespace {

using LocalKey = srv6_local_key;
struct KeyLess {
  bool operator()(const LocalKey& a, const LocalKey& b) const { return std::memcmp(&a, &b, sizeof a) < 0; }
};

// The local table's routes that deliver locally, from a dump of the
// current namespace's routes.
std::vector<LocalKey> local_routes() {
  struct Close {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
  };
  std::unique_ptr<mnl_socket, Close> sock(mnl_socket_open(NETLINK_ROUTE));
  if (!sock || mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    throw Error(std::string("cannot open an rtnetlink socket: ") + std::strerror(errno));
  std::vector<char> buf(32768);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 1;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_UNSPEC;
  if (mnl_socket_sendto(sock.get(), nlh, nlh->nlmsg_len) < 0)
    throw Error(std::string("cannot dump the routes: ") + std::strerror(errno));
  std::vector<LocalKey> out;
  uint32_t port = mnl_socket_get_portid(sock.get());
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock.get(), buf.data(), buf.size());
    if (n < 0) throw Error(std::string("cannot dump the routes: ") + std::strerror(errno));
    int rc = mnl_cb_run(
        buf.data(), n, 1, port,
        [](const nlmsghdr* m, void* d) {
          auto* r = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m));
          struct Attrs {
            uint32_t table;
            const nlattr* dst = nullptr;
          } at{r->rtm_table};
          mnl_attr_parse(m, sizeof(rtmsg),
                         [](const nlattr* a, void* d) {
                           auto* at = static_cast<Attrs*>(d);
                           if (mnl_attr_get_type(a) == RTA_TABLE) at->table = mnl_attr_get_u32(a);
                           if (mnl_attr_get_type(a) == RTA_DST) at->dst = a;
                           return MNL_CB_OK;
                         },
                         &at);
          bool v6 = r->rtm_family == AF_INET6, v4 = r->rtm_family == AF_INET;
          bool local = r->rtm_type == RTN_LOCAL || (v6 && r->rtm_type == RTN_ANYCAST) ||
                       (v4 && r->rtm_type == RTN_BROADCAST);
          size_t alen = v6 ? 16 : 4;
          if (at.table != RT_TABLE_LOCAL || !local || !at.dst || mnl_attr_get_payload_len(at.dst) != alen)
            return MNL_CB_OK;
          LocalKey k{};
          k.family = r->rtm_family;
          k.prefixlen = r->rtm_dst_len;
          std::memcpy(k.addr, mnl_attr_get_payload(at.dst), alen);
          static_cast<std::vector<LocalKey>*>(d)->push_back(k);
          return MNL_CB_OK;
        },
        &out);
    if (rc == MNL_CB_ERROR) throw Error(std::string("cannot dump the routes: ") + std::strerror(errno));
    if (rc == MNL_CB_STOP) return out;
  }
}

// A key of one of the tries exactly (an LPM lookup also finds a covering
// prefix): bpf_map_get_next_key answers the first key for a key that is
// not there, and ENOENT after the last one.
bool exact_exists(int fd, const void* key, size_t ksize) {
  std::array<uint8_t, sizeof(srv6_policy6_key)> first{}, next{};
  if (bpf_map_get_next_key(fd, nullptr, first.data())) return false;  // empty
  if (bpf_map_get_next_key(fd, key, next.data())) return errno == ENOENT;
  return std::memcmp(next.data(), first.data(), ksize) != 0 || std::memcmp(key, first.data(), ksize) == 0;
}

// The trie key and map of a local route.
struct Place {
  int fd;
  std::array<uint8_t, sizeof(srv6_sid_key)> key{};
  size_t ksize;
};

Place place_of(const Instance::Impl& impl, const LocalKey& k) {
  Place p{};
  uint32_t len = k.prefixlen;
  std::memcpy(p.key.data(), &len, 4);
  if (k.family == AF_INET6) {
    p.fd = impl.fd[Instance::Impl::SIDS];
    std::memcpy(p.key.data() + 4, k.addr, 16);
    p.ksize = sizeof(srv6_sid_key);
  } else {  // in main's policies (the table's bits first)
    p.fd = impl.fd[Instance::Impl::POL4];
    srv6_policy4_key pk{SRV6_POLICY_TABLE_BITS + len, SRV6_TABLE_MAIN, {}};
    std::memcpy(pk.addr, k.addr, 4);
    std::memcpy(p.key.data(), &pk, sizeof pk);
    p.ksize = sizeof pk;
  }
  return p;
}

// Sets (on) or clears SRV6_LOCAL on the entry under the key, E the entry type.
template <typename E>
bool set_flag(const Place& p, bool on) {
  E e{};
  if (bpf_map_lookup_elem(p.fd, p.key.data(), &e)) return false;
  e.flags = on ? (e.flags | SRV6_LOCAL) : (e.flags & ~SRV6_LOCAL);
  return bpf_map_update_elem(p.fd, p.key.data(), &e, BPF_EXIST) == 0;
}

template <typename E>
bool own_entry(const Place& p) {
  E e{};
  return !bpf_map_lookup_elem(p.fd, p.key.data(), &e) && is_local_entry(e);
}

}  // namespace

namespace detail {

void sync_local(Instance::Impl& impl) {
  auto* impl_ = &impl;
  using Impl = Instance::Impl;
  std::vector<LocalKey> routes = local_routes();
  std::map<LocalKey, uint32_t, KeyLess> want, have;
  for (const auto& k : routes) want[k] = 0;
  int rec = impl_->fd[Impl::LOCALS];
  for_each_key<LocalKey>(rec, [&](const LocalKey& k) {
    uint32_t state = 0;
    if (!bpf_map_lookup_elem(rec, &k, &state)) have[k] = state;
  });
  bool changed = false;
  auto flag = [&](const Place& p, bool v6, bool on) {
    return v6 ? set_flag<srv6_sid_entry>(p, on) : set_flag<srv6_policy_entry>(p, on);
  };
  // Routes gone: out of the tries (the operator's entries only lose the flag).
  for (const auto& [k, state] : have) {
    if (want.count(k)) continue;
    Place p = place_of(*impl_, k);
    bool v6 = k.family == AF_INET6;
    if (exact_exists(p.fd, p.key.data(), p.ksize)) {
      bool own = v6 ? own_entry<srv6_sid_entry>(p) : own_entry<srv6_policy_entry>(p);
      if (own) bpf_map_delete_elem(p.fd, p.key.data());
      else flag(p, v6, false);
    }
    bpf_map_delete_elem(rec, &k);
    changed = true;
  }
  // Routes there: each as an entry of its own, or a flag on the operator's.
  for (auto& [k, state] : want) {
    Place p = place_of(*impl_, k);
    bool v6 = k.family == AF_INET6;
    if (exact_exists(p.fd, p.key.data(), p.ksize)) {
      bool own = v6 ? own_entry<srv6_sid_entry>(p) : own_entry<srv6_policy_entry>(p);
      state = own ? SRV6_LOCAL_ENTRY : SRV6_LOCAL_FLAG;
      if (!own && !flag(p, v6, true)) throw Error("cannot mark a local address: " + errstr(errno));
    } else {
      int err;
      if (v6) {
        srv6_sid_entry e{};
        e.stats_idx = SRV6_NO_STATS;
        e.flags = SRV6_LOCAL;
        err = bpf_map_update_elem(p.fd, p.key.data(), &e, BPF_NOEXIST);
      } else {
        srv6_policy_entry e{};
        e.stats_idx = SRV6_NO_STATS;
        e.flags = SRV6_LOCAL;
        err = bpf_map_update_elem(p.fd, p.key.data(), &e, BPF_NOEXIST);
      }
      if (err) throw Error("cannot add a local address to the tables (full?): " + errstr(errno));
      state = SRV6_LOCAL_ENTRY;
    }
    auto it = have.find(k);
    if (it == have.end() || it->second != state) {
      if (bpf_map_update_elem(rec, &k, &state, BPF_ANY))
        throw Error("cannot record a local address: " + errstr(errno));
      changed = true;
    }
  }
  // cached answers say whether their destination is one of our SIDs
  if (changed) drop_fwd_cache(impl_->fd[Impl::FWD_CLOCK]);
}

}  // namespace detail

void Instance::sync_local() {
  Locked l(*impl_);
  detail::sync_local(*impl_);
}

}  // namespace srv6
