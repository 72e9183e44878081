// Devices bound to a routing table (a tenant's): map port_tables tells the
// datapath, and policy rules tell the kernel, so that what the fast path
// leaves to the kernel is routed in the same table:
//   pref 1000 iif DEV lookup ID     what no policy catches, in the table
//   pref 1001 iif DEV unreachable   and never in main when the table has no route
// for IPv4 and IPv6. The kernel's local table (pref 0) comes first, as the
// router's own addresses do in the datapath. The outer, encapsulated packet
// is the core's: the datapath routes it in main itself and never hands it
// to the kernel's input (bpf/encap.h), so no rule is needed for the SIDs.
// The rules are the source of truth: sync_link_tables (every change, srv6d
// each second) makes port_tables follow them by device name.
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "instance_impl.hpp"

namespace srv6 {

using namespace detail;

namespace {

constexpr uint32_t kRuleLookup = 1000, kRuleUnreachable = 1001;

// Adds (or deletes) one rule; an existing rule on add, or a missing one on
// delete, is no error.
void rule(mnl_socket* sock, bool add, int family, const std::string& dev, uint32_t pref, uint32_t table) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  nlh->nlmsg_seq = 1;
  auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
  frh->family = family;
  frh->action = table ? FR_ACT_TO_TBL : FR_ACT_UNREACHABLE;
  frh->table = table && table < 256 ? table : RT_TABLE_UNSPEC;
  mnl_attr_put_strz(nlh, FRA_IIFNAME, dev.c_str());
  mnl_attr_put_u32(nlh, FRA_PRIORITY, pref);
  if (table) mnl_attr_put_u32(nlh, FRA_TABLE, table);
  auto what = [&] {
    return std::string(add ? "cannot add" : "cannot delete") + " the rule 'pref " + std::to_string(pref) +
           " iif " + dev + (table ? " lookup " + format_table(table) : std::string(" unreachable")) +
           "' (" + (family == AF_INET6 ? "IPv6" : "IPv4") + "): ";
  };
  if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0) throw Error(what() + std::strerror(errno));
  ssize_t n = mnl_socket_recvfrom(sock, buf.data(), buf.size());
  if (n < 0) throw Error(what() + std::strerror(errno));
  if (mnl_cb_run(buf.data(), n, 1, mnl_socket_get_portid(sock), nullptr, nullptr) < 0) {
    if ((add && errno == EEXIST) || (!add && errno == ENOENT)) return;
    throw Error(what() + std::strerror(errno));
  }
}

// The rules of a device bound to table (add) or no longer bound to it.
void rules(bool add, const std::string& dev, uint32_t table) {
  struct Close {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
  };
  std::unique_ptr<mnl_socket, Close> sock(mnl_socket_open(NETLINK_ROUTE));
  if (!sock || mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    throw Error(std::string("cannot open an rtnetlink socket: ") + std::strerror(errno));
  for (int family : {AF_INET, AF_INET6}) {
    rule(sock.get(), add, family, dev, kRuleLookup, table);
    rule(sock.get(), add, family, dev, kRuleUnreachable, 0);
  }
}

// The tables the kernel's rules bind devices to: pref 1000 `iif DEV lookup
// ID` (IPv6; link set writes both families), by the device's ifindex now.
std::map<uint32_t, uint32_t> rule_tables() {
  struct Close {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
  };
  std::unique_ptr<mnl_socket, Close> sock(mnl_socket_open(NETLINK_ROUTE));
  if (!sock || mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    throw Error(std::string("cannot open an rtnetlink socket: ") + std::strerror(errno));
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETRULE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 1;
  auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
  frh->family = AF_INET6;
  if (mnl_socket_sendto(sock.get(), nlh, nlh->nlmsg_len) < 0)
    throw Error(std::string("cannot dump the rules: ") + std::strerror(errno));
  std::map<uint32_t, uint32_t> out;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock.get(), buf.data(), buf.size());
    if (n < 0) throw Error(std::string("cannot dump the rules: ") + std::strerror(errno));
    int rc = mnl_cb_run(
        buf.data(), n, 1, mnl_socket_get_portid(sock.get()),
        [](const nlmsghdr* m, void* d) {
          auto* h = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(m));
          struct Attrs {
            uint32_t pref = 0, table = 0;
            const char* iif = nullptr;
          } at{0, h->table};
          mnl_attr_parse(m, sizeof(fib_rule_hdr),
                         [](const nlattr* a, void* d) {
                           auto* at = static_cast<Attrs*>(d);
                           switch (mnl_attr_get_type(a)) {
                             case FRA_PRIORITY: at->pref = mnl_attr_get_u32(a); break;
                             case FRA_TABLE: at->table = mnl_attr_get_u32(a); break;
                             case FRA_IIFNAME: at->iif = mnl_attr_get_str(a); break;
                           }
                           return MNL_CB_OK;
                         },
                         &at);
          if (h->action != FR_ACT_TO_TBL || at.pref != kRuleLookup || !at.iif) return MNL_CB_OK;
          if (uint32_t idx = if_nametoindex(at.iif)) (*static_cast<std::map<uint32_t, uint32_t>*>(d))[idx] = at.table;
          return MNL_CB_OK;
        },
        &out);
    if (rc == MNL_CB_ERROR) throw Error(std::string("cannot dump the rules: ") + std::strerror(errno));
    if (rc == MNL_CB_STOP) return out;
  }
}

// port_tables whole, by ifindex: an array, every slot exists, read in one
// batch (its keys come in order, 0 up).
std::vector<uint32_t> read_port_tables(int fd) {
  std::vector<uint32_t> keys(SRV6_MAX_IFINDEX), values(SRV6_MAX_IFINDEX);
  uint32_t count = SRV6_MAX_IFINDEX, next = 0;
  if (bpf_map_lookup_batch(fd, nullptr, &next, keys.data(), values.data(), &count, nullptr) && errno != ENOENT)
    throw Error("cannot read port_tables: " + errstr(errno));
  values.resize(std::min<uint32_t>(count, SRV6_MAX_IFINDEX));
  return values;
}

}  // namespace

namespace detail {

// The kernel's rules are the bindings' source of truth (they follow a
// device by name): port_tables is made equal to them, so a device that
// is gone loses its binding and one created again under the name gets it.
void sync_link_tables(int fd) {
  std::map<uint32_t, uint32_t> want = rule_tables();
  std::vector<uint32_t> have = read_port_tables(fd);
  for (uint32_t idx = 0; idx < have.size(); idx++) {
    auto it = want.find(idx);
    uint32_t v = it == want.end() || it->second == SRV6_TABLE_MAIN ? 0 : it->second;
    if (have[idx] != v) bpf_map_update_elem(fd, &idx, &v, BPF_ANY);
  }
}

}  // namespace detail

void Instance::set_link_table(const std::string& dev, uint32_t table) {
  if (table == 0 || table == 255)
    throw Error("link " + dev + ": table " + format_table(table) + " cannot take a device (main, or a table id but local)");
  uint32_t ifindex = ifindex_of(dev);
  if (ifindex >= SRV6_MAX_IFINDEX)
    throw Error("link " + dev + ": ifindex " + std::to_string(ifindex) + " too large to bind (at most " +
                std::to_string(SRV6_MAX_IFINDEX - 1) + ")");
  Locked l(*impl_);
  int fd = impl_->fd[Impl::PORT_TABLES];
  uint32_t old = 0, value = table == SRV6_TABLE_MAIN ? 0 : table;
  if (bpf_map_lookup_elem(fd, &ifindex, &old)) throw Error("cannot read port_tables: " + errstr(errno));
  if (old == value) {
    if (value) rules(true, dev, value);  // puts back rules someone removed
    return;
  }
  // Bind: rules first, then the datapath; unbind: the datapath first. Either
  // way traffic the datapath leaves to the kernel finds the rules it needs.
  if (value) rules(true, dev, value);
  if (bpf_map_update_elem(fd, &ifindex, &value, BPF_ANY)) {
    int err = errno;
    if (value) rules(false, dev, value);
    throw Error("cannot write port_tables: " + errstr(err));
  }
  if (old) rules(false, dev, old);
  drop_fwd_cache(impl_->fd[Impl::FWD_CLOCK]);
}

std::vector<LinkTable> Instance::link_tables() const {
  std::vector<LinkTable> out;
  std::vector<uint32_t> tables = read_port_tables(impl_->fd[Impl::PORT_TABLES]);
  for (uint32_t idx = 0; idx < tables.size(); idx++)
    if (tables[idx]) out.push_back({idx, ifname_of(idx), tables[idx]});
  return out;
}

}  // namespace srv6
