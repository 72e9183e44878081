// Attaching and detaching devices. An instance owns the devices its
// programs run on: a program is told apart by the maps it uses (its
// instance's ports map), so another instance's device is refused, and one
// whose instance's pins are gone (an orphan) can be taken back. Replacing a
// program in the same XDP mode, and the TC filter, is one atomic netlink
// step (no packet sees no program); a change of XDP mode cannot be, so the
// old program is put back when the new mode fails.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "instance_impl.hpp"
#include "netdev.hpp"

namespace srv6 {

using namespace detail;

namespace {

// The TC filter's identity on clsact ingress, so detach finds ours.
constexpr uint32_t kTcHandle = 0x5336;  // "S6"
constexpr uint32_t kTcPriority = 1;

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

uint32_t map_id(int fd) { return fd >= 0 ? map_info(fd).id : 0; }

// Whose a program on a device is.
struct Owner {
  enum Kind { None, This, Other, Orphan, Foreign } kind = None;
  std::string name;  // Other: the instance; Foreign: the program
  uint32_t prog_id = 0;
};

// Every instance of this namespace by its ports map's id.
std::map<uint32_t, std::string> instances_here() {
  std::map<uint32_t, std::string> out;
  std::string ns = current_ns_dir(false);
  for (const auto& name : entries(ns)) {
    Fd fd(bpf_obj_get((ns + "/" + name + "/ports").c_str()));
    if (uint32_t id = map_id(fd.fd)) out[id] = name;
  }
  return out;
}

Owner owner_of(uint32_t prog_id, uint32_t my_ports) {
  Owner o;
  o.prog_id = prog_id;
  if (!prog_id) return o;
  Fd fd(bpf_prog_get_fd_by_id(prog_id));
  if (fd.fd < 0) return {};  // went meanwhile
  uint32_t ids[64] = {};
  bpf_prog_info info{};
  info.nr_map_ids = 64;
  info.map_ids = reinterpret_cast<uint64_t>(ids);
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.fd, &info, &len)) return {};
  o.name = info.name;
  if (o.name != "srv6_xdp" && o.name != "srv6_tc") {
    o.kind = Owner::Foreign;
    return o;
  }
  uint32_t n = std::min<uint32_t>(info.nr_map_ids, 64);
  for (uint32_t i = 0; i < n; i++)
    if (ids[i] == my_ports) {
      o.kind = Owner::This;
      return o;
    }
  auto all = instances_here();
  for (uint32_t i = 0; i < n; i++)
    if (auto it = all.find(ids[i]); it != all.end()) {
      o.kind = Owner::Other;
      o.name = it->second;
      return o;
    }
  o.kind = Owner::Orphan;
  return o;
}

struct XdpNow {
  uint32_t prog_id = 0;
  uint32_t flags = 0;  // XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE
};

XdpNow xdp_now(uint32_t ifindex) {
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  XdpNow n;
  if (bpf_xdp_query(ifindex, 0, &q)) return n;
  if (q.drv_prog_id) n = {q.drv_prog_id, XDP_FLAGS_DRV_MODE};
  else if (q.skb_prog_id) n = {q.skb_prog_id, XDP_FLAGS_SKB_MODE};
  return n;
}

uint32_t tc_now(uint32_t ifindex) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex), .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
  return bpf_tc_query(&hook, &opts) ? 0 : opts.prog_id;
}

void tc_attach(uint32_t ifindex, int prog_fd, const std::string& dev) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex), .attach_point = BPF_TC_INGRESS);
  int err = bpf_tc_hook_create(&hook);
  if (err && err != -EEXIST) throw Error(dev + ": cannot create clsact: " + errstr(err));
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE, .handle = kTcHandle,
              .priority = kTcPriority);
  err = bpf_tc_attach(&hook, &opts);
  if (err) throw Error(dev + ": cannot attach TC program: " + errstr(err));
}

bool tc_detach(uint32_t ifindex) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex), .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
  return bpf_tc_detach(&hook, &opts) == 0;
}

// Refuses a device whose programs are not ours to touch.
void check_owner(const Owner& o, const std::string& dev, const std::string& me, const char* hook) {
  if (o.kind == Owner::Other)
    throw Error(dev + " is attached to instance '" + o.name + "', not '" + me +
                "'; detach it there first (srv6ctl --instance " + o.name + " detach " + dev + ")");
  if (o.kind == Owner::Foreign)
    throw Error(dev + " runs another " + hook + " program ('" + o.name + "', id " + std::to_string(o.prog_id) +
                "); remove it first");
}

const char* mode_name(uint32_t flags) { return flags == XDP_FLAGS_DRV_MODE ? "native" : "generic"; }

// The datapath's view of an attached device (enum srv6_port_flags).
uint32_t port_flags(const std::string& dev, uint32_t ifindex, Hook hook, bool native, Egress egress) {
  uint32_t f = 0;
  if (hook == Hook::Xdp) {
    f |= SRV6_PORT_XDP;
    if (!native) f |= SRV6_PORT_XDP_GENERIC;
    // these drivers run native XDP on the skbs their peer sends, whose
    // checksums may be left to offload (bpf/csum.h)
    std::string drv = driver_of(dev);
    if (native && (drv == "veth" || drv == "tun")) f |= SRV6_PORT_RX_PARTIAL;
  }
  if (egress != Egress::Auto) f |= SRV6_PORT_TX_FIXED;
  if (egress == Egress::Xdp || (egress == Egress::Auto && takes_xdp_frames(ifindex)))
    f |= SRV6_PORT_TX_XDP;
  return f;
}

// Attaches prog_fd at XDP in the wanted mode (Auto: native where the
// driver has it), replacing the program there now: atomically in the same
// mode, else by detaching it first and putting it back on failure.
// Returns the mode it runs in.
uint32_t xdp_attach(uint32_t ifindex, int prog_fd, XdpMode mode, const XdpNow& now, const std::string& dev) {
  auto features = xdp_features(ifindex);
  bool has_native = !features || (*features & SRV6_NETDEV_XDP_ACT_BASIC);
  if (mode == XdpMode::Native && !has_native)
    throw Error(dev + ": its driver (" + driver_of(dev) + ") has no native XDP" +
                (now.prog_id ? std::string("; the current attachment stays") : ""));
  std::vector<uint32_t> tries;
  if (mode != XdpMode::Generic && has_native) tries.push_back(XDP_FLAGS_DRV_MODE);
  if (mode != XdpMode::Native) tries.push_back(XDP_FLAGS_SKB_MODE);
  int err = -EINVAL;
  Fd old(now.prog_id ? bpf_prog_get_fd_by_id(now.prog_id) : -1);
  if (old.fd >= 0 && now.flags == tries.front()) {
    LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = old.fd);
    err = bpf_xdp_attach(ifindex, prog_fd, now.flags | XDP_FLAGS_REPLACE, &o);
    if (!err) return now.flags;
  }
  if (now.prog_id) bpf_xdp_detach(ifindex, now.flags, nullptr);
  for (uint32_t f : tries) {
    err = bpf_xdp_attach(ifindex, prog_fd, f | XDP_FLAGS_UPDATE_IF_NOEXIST, nullptr);
    if (!err) return f;
  }
  std::string what = dev + ": cannot attach XDP program (" + mode_name(tries.back()) + "): " + errstr(err);
  if (old.fd >= 0) {
    if (bpf_xdp_attach(ifindex, old.fd, now.flags | XDP_FLAGS_UPDATE_IF_NOEXIST, nullptr) == 0)
      throw Error(what + "; the previous attachment (" + mode_name(now.flags) + " XDP) stays");
    throw Error(what + "; putting the previous program back failed too: " + errstr(errno));
  }
  throw Error(what);
}

}  // namespace

uint32_t ifindex_of(const std::string& dev) {
  unsigned idx = if_nametoindex(dev.c_str());
  if (!idx) throw Error("device " + dev + " not found");
  return idx;
}

std::string ifname_of(uint32_t ifindex) {
  char buf[IF_NAMESIZE] = {};
  if (!if_indextoname(ifindex, buf)) return "if" + std::to_string(ifindex);
  return buf;
}

void Instance::attach(const std::string& dev, Hook hook, XdpMode mode, Egress egress) {
  Locked l(*impl_);
  uint32_t ifindex = ifindex_of(dev);
  impl_->load();
  uint32_t mine = map_id(impl_->fd[Impl::PORTS]);
  XdpNow xdp = xdp_now(ifindex);
  Owner xo = owner_of(xdp.prog_id, mine), to = owner_of(tc_now(ifindex), mine);
  check_owner(xo, dev, impl_->name, "XDP");
  check_owner(to, dev, impl_->name, "TC");
  // TC first: from the moment XDP runs, it hands packets it cannot finish
  // to the TC program. Replaced in one step; put back if XDP fails.
  Fd old_tc(to.prog_id ? bpf_prog_get_fd_by_id(to.prog_id) : -1);
  tc_attach(ifindex, tc_prog_fd(), dev);
  bool native = false;
  if (hook == Hook::Xdp) {
    try {
      native = xdp_attach(ifindex, xdp_prog_fd(), mode, xdp, dev) == XDP_FLAGS_DRV_MODE;
    } catch (const Error&) {
      if (old_tc.fd >= 0) tc_attach(ifindex, old_tc.fd, dev);
      else tc_detach(ifindex);
      throw;
    }
  } else if (xdp.prog_id) {
    // TC alone from now on: it took over above, before XDP goes
    bpf_xdp_detach(ifindex, xdp.flags, nullptr);
  }
  srv6_port port{port_flags(dev, ifindex, hook, native, egress)};
  if (bpf_map_update_elem(impl_->fd[Impl::PORTS], &ifindex, &port, BPF_ANY))
    throw Error(dev + ": cannot record the device: " + errstr(errno));
  drop_fwd_cache(impl_->fd[Impl::FWD_CLOCK]);  // cached answers say which egress takes XDP frames
  detail::sync_local(*impl_);
}

namespace {

// Takes this instance's (or an orphan's) programs off a device; false
// when there were none.
bool detach_ours(uint32_t ifindex, uint32_t mine, const std::string& dev, const std::string& me) {
  XdpNow xdp = xdp_now(ifindex);
  Owner xo = owner_of(xdp.prog_id, mine), to = owner_of(tc_now(ifindex), mine);
  if (xo.kind == Owner::Other || to.kind == Owner::Other)
    check_owner(xo.kind == Owner::Other ? xo : to, dev, me, "");
  bool done = false;
  if (xo.kind == Owner::This || xo.kind == Owner::Orphan)
    done = bpf_xdp_detach(ifindex, xdp.flags, nullptr) == 0;
  if (to.kind == Owner::This || to.kind == Owner::Orphan) done = tc_detach(ifindex) || done;
  return done;
}

}  // namespace

void Instance::detach(const std::string& dev) {
  Locked l(*impl_);
  uint32_t ifindex = ifindex_of(dev);
  bool done = detach_ours(ifindex, map_id(impl_->fd[Impl::PORTS]), dev, impl_->name);
  bpf_map_delete_elem(impl_->fd[Impl::PORTS], &ifindex);
  drop_fwd_cache(impl_->fd[Impl::FWD_CLOCK]);
  if (!done) throw Error(dev + ": no srv6 program of instance '" + impl_->name + "' attached");
}

void Instance::detach_orphan(const std::string& dev) {
  uint32_t ifindex = ifindex_of(dev);
  if (!detach_ours(ifindex, 0, dev, ""))
    throw Error(dev + ": runs no srv6 program whose instance is gone");
}

std::vector<std::string> Instance::orphaned_devices() {
  std::vector<std::string> out;
  struct if_nameindex* all = if_nameindex();
  if (!all) return out;
  for (auto* i = all; i->if_index; i++) {
    XdpNow xdp = xdp_now(i->if_index);
    if (owner_of(xdp.prog_id, 0).kind == Owner::Orphan || owner_of(tc_now(i->if_index), 0).kind == Owner::Orphan)
      out.push_back(i->if_name);
  }
  if_freenameindex(all);
  return out;
}

namespace detail {

void detach_all(Instance::Impl& impl) {
  uint32_t mine = map_id(impl.fd[Instance::Impl::PORTS]);
  for_each_key<uint32_t>(impl.fd[Instance::Impl::PORTS], [&](uint32_t ifindex) {
    try {
      detach_ours(ifindex, mine, ifname_of(ifindex), impl.name);
    } catch (const Error&) {
      // another instance's now: not ours to take off
    }
  });
}

}  // namespace detail

}  // namespace srv6
