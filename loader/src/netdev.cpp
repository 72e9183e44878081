#include "netdev.hpp"

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

extern "C" {
#include "srv6_abi.h"
}

namespace srv6::detail {

namespace {

struct MnlClose {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using Mnl = std::unique_ptr<mnl_socket, MnlClose>;

// One request on a fresh generic-netlink socket; cb sees each answer's attributes.
bool genl_request(uint16_t family, uint8_t cmd, uint16_t attr, const void* value, size_t len,
                  mnl_attr_cb_t cb, void* data) {
  Mnl sock(mnl_socket_open(NETLINK_GENERIC));
  if (!sock || mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0) return false;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = family;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  nlh->nlmsg_seq = 1;
  auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  genl->cmd = cmd;
  genl->version = 1;
  mnl_attr_put(nlh, attr, len, value);
  if (mnl_socket_sendto(sock.get(), nlh, nlh->nlmsg_len) < 0) return false;
  uint32_t port = mnl_socket_get_portid(sock.get());
  ssize_t n = mnl_socket_recvfrom(sock.get(), buf.data(), buf.size());
  if (n <= 0) return false;
  struct Ctx {
    mnl_attr_cb_t cb;
    void* data;
  } ctx{cb, data};
  // one answer (not a dump), or an error
  return mnl_cb_run(
             buf.data(), n, 1, port,
             [](const nlmsghdr* m, void* d) {
               auto* c = static_cast<Ctx*>(d);
               return mnl_attr_parse(m, sizeof(genlmsghdr), c->cb, c->data);
             },
             &ctx) >= MNL_CB_STOP;
}

// Calls f on each attribute nested in a (libmnl's macro does not compile as C++).
template <typename F>
void for_nested(const nlattr* a, F&& f) {
  const char* end = static_cast<const char*>(mnl_attr_get_payload(a)) + mnl_attr_get_payload_len(a);
  for (auto* x = static_cast<const nlattr*>(mnl_attr_get_payload(a));
       mnl_attr_ok(x, static_cast<int>(end - reinterpret_cast<const char*>(x))); x = mnl_attr_next(x))
    f(x);
}

}  // namespace

std::string driver_of(const std::string& dev) {
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&info);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  int rc = ioctl(fd, SIOCETHTOOL, &ifr);
  close(fd);
  return rc ? "" : std::string(info.driver, strnlen(info.driver, sizeof info.driver));
}

std::optional<NetdevFamily> netdev_family() {
  NetdevFamily f;
  bool ok = genl_request(
      GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, "netdev", sizeof "netdev",
      [](const nlattr* a, void* d) {
        auto* f = static_cast<NetdevFamily*>(d);
        if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID) f->id = mnl_attr_get_u16(a);
        if (mnl_attr_get_type(a) != CTRL_ATTR_MCAST_GROUPS) return MNL_CB_OK;
        for_nested(a, [&](const nlattr* grp) {
          const char* name = nullptr;
          uint32_t id = 0;
          for_nested(grp, [&](const nlattr* x) {
            if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_NAME) name = mnl_attr_get_str(x);
            if (mnl_attr_get_type(x) == CTRL_ATTR_MCAST_GRP_ID) id = mnl_attr_get_u32(x);
          });
          if (name && std::strcmp(name, "mgmt") == 0) f->mgmt_group = id;
        });
        return MNL_CB_OK;
      },
      &f);
  if (!ok || !f.id || !f.mgmt_group) return std::nullopt;
  return f;
}

std::optional<uint64_t> xdp_features(uint32_t ifindex) {
  static const std::optional<NetdevFamily> family = netdev_family();
  if (!family) return std::nullopt;
  std::optional<uint64_t> features;
  bool ok = genl_request(
      family->id, SRV6_NETDEV_CMD_DEV_GET, SRV6_NETDEV_A_DEV_IFINDEX, &ifindex, sizeof ifindex,
      [](const nlattr* a, void* d) {
        if (mnl_attr_get_type(a) == SRV6_NETDEV_A_DEV_XDP_FEATURES)
          *static_cast<std::optional<uint64_t>*>(d) = mnl_attr_get_u64(a);
        return MNL_CB_OK;
      },
      &features);
  return ok ? features : std::nullopt;
}

bool takes_xdp_frames(uint32_t ifindex) {
  auto f = xdp_features(ifindex);
  return f && (*f & SRV6_NETDEV_XDP_ACT_NDO_XMIT);
}

}  // namespace srv6::detail
