#include "srv6/instance.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include "instance_impl.hpp"
#include "netdev.hpp"
#include "srv6/netns.hpp"

namespace srv6 {

using namespace detail;

namespace {

constexpr const char* kBpffs = "/sys/fs/bpf";
// The TC filter's identity on clsact ingress, so detach finds ours.
constexpr uint32_t kTcHandle = 0x5336;  // "S6"
constexpr uint32_t kTcPriority = 1;

// libbpf and libxdp print to stderr by default; keep their last line for
// our error messages instead, and print everything with SRV6_DEBUG set.
thread_local std::string last_lib_message;
int lib_print(const char* fmt, va_list ap) {
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, ap);
  std::string line(buf);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (!line.empty()) last_lib_message = line;
  if (getenv("SRV6_DEBUG")) fprintf(stderr, "%s\n", line.c_str());
  return 0;
}
int libbpf_print(enum libbpf_print_level, const char* fmt, va_list ap) { return lib_print(fmt, ap); }
int libxdp_print(enum libxdp_print_level, const char* fmt, va_list ap) { return lib_print(fmt, ap); }

void install_printers() {
  static std::once_flag once;
  std::call_once(once, [] {
    libbpf_set_print(libbpf_print);
    libxdp_set_print(libxdp_print);
  });
}


void check_name(const std::string& name) {
  if (name.empty() || name.size() > 64 ||
      !std::all_of(name.begin(), name.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }))
    throw Error("instance name '" + name + "': use 1-64 letters, digits, '-' or '_'");
}

void check_bpffs() {
  struct statfs st {};
  if (statfs(kBpffs, &st) != 0 || st.f_type != BPF_FS_MAGIC)
    throw Error(std::string("bpffs is not mounted at ") + kBpffs +
                " (mount -t bpf bpf /sys/fs/bpf)");
}

// Sum of a per-CPU srv6_counters slot.
Counters read_counters(int fd, uint32_t idx) {
  int ncpu = libbpf_num_possible_cpus();
  std::vector<srv6_counters> v(ncpu);
  Counters c;
  if (bpf_map_lookup_elem(fd, &idx, v.data()) != 0) return c;
  for (auto& x : v) {
    c.packets += x.packets;
    c.bytes += x.bytes;
    c.errors += x.errors;
  }
  return c;
}




PolicyConfig policy_from_entry(const Prefix& prefix, const srv6_policy_entry& e) {
  PolicyConfig c;
  c.prefix = prefix;
  c.mode = static_cast<srv6_encap_mode>(e.mode);
  Addr6 first;
  std::memcpy(first.data(), e.dst, 16);
  c.segs.push_back(first);
  if (e.srh_len) {
    size_t in_srh = (e.srh_len - 8) / 16;
    // wire order is reversed; the reduced SRH has no copy of the first SID
    size_t skip = c.mode == SRV6_ENCAP_RED ? 0 : 1;
    for (size_t i = in_srh - skip; i-- > 0;) {
      Addr6 a;
      std::memcpy(a.data(), e.srh + 8 + 16 * i, 16);
      c.segs.push_back(a);
    }
  }
  if (e.has_src) {
    Addr6 s;
    std::memcpy(s.data(), e.src, 16);
    c.src = s;
  }
  return c;
}


}  // namespace

namespace detail {

std::string errstr(int err) {
  std::string s = std::strerror(err < 0 ? -err : err);
  if (!last_lib_message.empty()) s += " (" + last_lib_message + ")";
  return s;
}

uint64_t lease_clock_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

void drop_fwd_cache(int clock_fd) {
  uint32_t key = SRV6_FWD_GEN;
  uint64_t gen = 0;
  bpf_map_lookup_elem(clock_fd, &key, &gen);
  gen += 1ull << 32;
  if (bpf_map_update_elem(clock_fd, &key, &gen, BPF_ANY))
    throw Error("cannot write the forwarding cache's clock: " + errstr(errno));
}

void zero_counters(int fd, uint32_t idx) {
  std::vector<srv6_counters> v(libbpf_num_possible_cpus());
  bpf_map_update_elem(fd, &idx, v.data(), BPF_ANY);
}

// The SRH of a policy in wire order (RFC 8754 2: segments[0] is the last
// segment). Reduced encap leaves the first SID out (it is only the DA), so
// segments_left = last_entry + 1, and a single SID needs no SRH at all.
void build_srh(const PolicyConfig& c, srv6_policy_entry& e) {
  size_t n = c.segs.size();
  bool reduced = c.mode == SRV6_ENCAP_RED;
  size_t in_srh = reduced ? n - 1 : n;
  std::memcpy(e.dst, c.segs[0].data(), 16);
  if (in_srh == 0) {
    e.srh_len = 0;
    return;
  }
  e.srh_len = 8 + 16 * in_srh;
  e.srh[0] = 0;                                // next header: per packet
  e.srh[1] = static_cast<uint8_t>(2 * in_srh);  // hdrlen in 8-octet units
  e.srh[2] = 4;                                // routing type: SRH
  e.srh[3] = static_cast<uint8_t>(n - 1);      // segments_left
  e.srh[4] = static_cast<uint8_t>(in_srh - 1);  // last_entry
  for (size_t i = 0; i < in_srh; i++) std::memcpy(e.srh + 8 + 16 * i, c.segs[n - 1 - i].data(), 16);
}

}  // namespace detail

void Instance::Impl::load() {
  if (skel) return;
  DECLARE_LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dir.c_str());
  srv6_dp* s = srv6_dp__open_opts(&opts);
  if (!s) throw Error("cannot open BPF object: " + errstr(errno));
  skel.reset(s);
  // Sizes apply to maps created now; pinned ones keep theirs (reused as they
  // are: libbpf would refuse them for a size mismatch, so ask them first).
  auto size = [&](bpf_map* m, uint32_t want) {
    int fd = bpf_obj_get((dir + "/" + bpf_map__name(m)).c_str());
    if (fd >= 0) {
      bpf_map_info info{};
      uint32_t len = sizeof info;
      if (!bpf_obj_get_info_by_fd(fd, &info, &len)) want = info.max_entries;
      ::close(fd);
    }
    if (want) bpf_map__set_max_entries(m, want);
  };
  size(s->maps.sids, this->opts.sids);
  size(s->maps.sid_stats, this->opts.sids);
  size(s->maps.policies4, this->opts.policies);
  size(s->maps.policies6, this->opts.policies);
  size(s->maps.policy_stats, this->opts.policies);
  int err = srv6_dp__load(s);
  if (err) {
    skel.reset();
    throw Error("cannot load BPF programs (pinned maps in " + dir +
                " from an incompatible version? delete them): " + errstr(err));
  }
  // The programs re-enter themselves for a next SID of ours; the newest
  // load serves every attachment of this instance (same maps, same code).
  uint32_t zero = 0, pmtud = SRV6_TC_SLOW_PMTUD;
  int xdp_fd = bpf_program__fd(s->progs.srv6_xdp), tc_fd = bpf_program__fd(s->progs.srv6_tc);
  int pmtud_fd = bpf_program__fd(s->progs.srv6_pmtud);
  if (bpf_map_update_elem(bpf_map__fd(s->maps.chain_xdp), &zero, &xdp_fd, BPF_ANY) ||
      bpf_map_update_elem(bpf_map__fd(s->maps.chain_tc), &zero, &tc_fd, BPF_ANY) ||
      bpf_map_update_elem(bpf_map__fd(s->maps.tc_slow), &pmtud, &pmtud_fd, BPF_ANY)) {
    skel.reset();
    throw Error("cannot fill the chain maps: " + errstr(errno));
  }
}

void Instance::Impl::open_maps() {
  bool pinned = true;
  for (auto* n : kMapNames) pinned = pinned && access((dir + "/" + n).c_str(), F_OK) == 0;
  if (!pinned) load();
  for (size_t i = 0; i < std::size(kMapNames); i++) {
    fd[i] = bpf_obj_get((dir + "/" + kMapNames[i]).c_str());
    if (fd[i] < 0) throw Error(dir + "/" + kMapNames[i] + ": " + errstr(errno));
  }
}

std::string Instance::pin_dir_for(const std::string& name) {
  check_name(name);
  return std::string(kBpffs) + "/srv6/net" + std::to_string(current_netns_inode()) + "/" + name;
}

Instance Instance::open(const std::string& name, const Options& opts) {
  install_printers();
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  impl->opts = opts;
  impl->dir = pin_dir_for(name);
  check_bpffs();
  std::error_code ec;
  std::filesystem::create_directories(impl->dir, ec);
  if (ec) throw Error("cannot create " + impl->dir + ": " + ec.message());
  impl->open_maps();
  return Instance(std::move(impl));
}

Instance::Instance(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Instance::Instance(Instance&&) noexcept = default;
Instance& Instance::operator=(Instance&&) noexcept = default;
Instance::~Instance() = default;

const std::string& Instance::name() const { return impl_->name; }

namespace {
uint32_t max_entries(int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof info;
  return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}
}  // namespace

// The counter arrays bound the tables (the LPM tries may hold as many).
uint32_t Instance::sid_capacity() const { return max_entries(impl_->fd[Impl::SID_STATS]); }
uint32_t Instance::policy_capacity() const { return max_entries(impl_->fd[Impl::POL_STATS]); }
const std::string& Instance::pin_dir() const { return impl_->dir; }

int Instance::xdp_prog_fd() {
  impl_->load();
  return bpf_program__fd(impl_->skel->progs.srv6_xdp);
}

int Instance::tc_prog_fd() {
  impl_->load();
  return bpf_program__fd(impl_->skel->progs.srv6_tc);
}

int Instance::fib_watch_prog_fd() {
  impl_->load();
  return bpf_program__fd(impl_->skel->progs.fib_watch);
}

int Instance::fwd_clock_fd() const { return impl_->fd[Impl::FWD_CLOCK]; }

int Instance::ports_watch_prog_fd() {
  impl_->load();
  return bpf_program__fd(impl_->skel->progs.ports_watch);
}

int Instance::ports_fd() const { return impl_->fd[Impl::PORTS]; }

void Instance::refresh_ports() {
  int fd = impl_->fd[Impl::PORTS];
  for (const PortInfo& p : ports()) {
    if (p.flags & SRV6_PORT_TX_FIXED) continue;
    srv6_port now{p.flags & ~uint32_t(SRV6_PORT_TX_XDP)};
    if (takes_xdp_frames(p.ifindex)) now.flags |= SRV6_PORT_TX_XDP;
    // only over the entry as it was (an attach or detach may have raced)
    srv6_port cur{};
    if (now.flags != p.flags && !bpf_map_lookup_elem(fd, &p.ifindex, &cur) && cur.flags == p.flags)
      bpf_map_update_elem(fd, &p.ifindex, &now, BPF_EXIST);
  }
  drop_fwd_cache(impl_->fd[Impl::FWD_CLOCK]);
}

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

namespace {

void tc_attach(int ifindex, int prog_fd, const std::string& dev) {
  DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  int err = bpf_tc_hook_create(&hook);
  if (err && err != -EEXIST) throw Error(dev + ": cannot create clsact: " + errstr(err));
  DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE,
                      .handle = kTcHandle, .priority = kTcPriority);
  err = bpf_tc_attach(&hook, &opts);
  if (err) throw Error(dev + ": cannot attach TC program: " + errstr(err));
}

// True when our TC filter was there.
bool tc_detach(int ifindex) {
  DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
  return bpf_tc_detach(&hook, &opts) == 0;
}

bool is_ours(const xdp_program* p) {
  const char* n = p ? xdp_program__name(p) : nullptr;
  return n && std::strcmp(n, "srv6_xdp") == 0;
}

// Detaches our XDP program, alone or inside libxdp's dispatcher.
bool xdp_detach(int ifindex) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (libxdp_get_error(mp)) return false;
  bool done = false;
  if (xdp_multiprog__is_legacy(mp)) {
    if (is_ours(xdp_multiprog__main_prog(mp))) done = xdp_multiprog__detach(mp) == 0;
  } else {
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p;
         p = xdp_multiprog__next_prog(p, mp)) {
      if (is_ours(p)) {
        done = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0) == 0;
        break;
      }
    }
  }
  xdp_multiprog__close(mp);
  return done;
}

}  // namespace

namespace {

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

}  // namespace

void Instance::attach(const std::string& dev, Hook hook, XdpMode mode, Egress egress) {
  uint32_t ifindex = ifindex_of(dev);
  impl_->load();
  bool native = false;
  if (hook == Hook::Tc) {
    tc_attach(ifindex, tc_prog_fd(), dev);
  } else {
    // TC first: from the moment XDP runs, it hands packets it cannot finish
    // to the TC program.
    tc_attach(ifindex, tc_prog_fd(), dev);
    // libxdp takes ownership of the fd it is given and closes it
    xdp_program* prog = xdp_program__from_fd(fcntl(xdp_prog_fd(), F_DUPFD_CLOEXEC, 0));
    if (libxdp_get_error(prog)) {
      tc_detach(ifindex);
      throw Error(dev + ": cannot use XDP program: " + errstr(libxdp_get_error(prog)));
    }
    xdp_detach(ifindex);  // replace an earlier instance of ours
    int err = -EINVAL;
    if (mode != XdpMode::Generic) err = xdp_program__attach(prog, ifindex, XDP_MODE_NATIVE, 0);
    native = !err;
    if (err && mode != XdpMode::Native) err = xdp_program__attach(prog, ifindex, XDP_MODE_SKB, 0);
    xdp_program__close(prog);
    if (err) {
      tc_detach(ifindex);
      throw Error(dev + ": cannot attach XDP program: " + errstr(err));
    }
  }
  srv6_port port{port_flags(dev, ifindex, hook, native, egress)};
  if (bpf_map_update_elem(impl_->fd[Impl::PORTS], &ifindex, &port, BPF_ANY))
    throw Error(dev + ": cannot record the device: " + errstr(errno));
  drop_fwd_cache(impl_->fd[Impl::FWD_CLOCK]);  // cached answers say which egress takes XDP frames
  sync_local();
}

void Instance::detach(const std::string& dev) {
  uint32_t ifindex = ifindex_of(dev);
  bool xdp = xdp_detach(ifindex);
  bool tc = tc_detach(ifindex);
  bpf_map_delete_elem(impl_->fd[Impl::PORTS], &ifindex);
  drop_fwd_cache(impl_->fd[Impl::FWD_CLOCK]);
  if (!xdp && !tc) throw Error(dev + ": no srv6 program attached");
}

std::vector<PortInfo> Instance::ports() const {
  std::vector<PortInfo> out;
  for_each_key<uint32_t>(impl_->fd[Impl::PORTS], [&](uint32_t ifindex) {
    srv6_port p{};
    if (bpf_map_lookup_elem(impl_->fd[Impl::PORTS], &ifindex, &p)) return;
    out.push_back({ifindex, ifname_of(ifindex), p.flags});
  });
  std::sort(out.begin(), out.end(), [](const PortInfo& a, const PortInfo& b) { return a.ifindex < b.ifindex; });
  return out;
}

std::vector<SidInfo> Instance::sids() const {
  std::vector<SidInfo> out;
  for_each_key<srv6_sid_key>(impl_->fd[Impl::SIDS], [&](const srv6_sid_key& k) {
    srv6_sid_entry e{};
    if (bpf_map_lookup_elem(impl_->fd[Impl::SIDS], &k, &e) || is_local_entry(e)) return;
    SidInfo i;
    i.local = e.flags & SRV6_LOCAL;
    std::memcpy(i.config.sid.addr.data(), k.addr, 16);
    i.config.sid.len = static_cast<uint8_t>(k.prefixlen);
    i.config.action = static_cast<srv6_action>(e.action);
    i.config.table = e.table;
    i.config.oif = e.oif;
    if (e.oif) i.config.oif_name = ifname_of(e.oif);
    if (e.action == SRV6_ACTION_END_X) {
      Addr6 nh;
      std::memcpy(nh.data(), e.nh6, 16);
      i.config.nh6 = nh;
    }
    i.counters = read_counters(impl_->fd[Impl::SID_STATS], e.stats_idx);
    out.push_back(std::move(i));
  });
  std::sort(out.begin(), out.end(), [](const SidInfo& a, const SidInfo& b) {
    return std::tie(a.config.sid.addr, a.config.sid.len) < std::tie(b.config.sid.addr, b.config.sid.len);
  });
  return out;
}

std::vector<PolicyInfo> Instance::policies() const {
  std::vector<PolicyInfo> out;
  auto add = [&](int map, const Prefix& prefix, const void* key) {
    srv6_policy_entry e{};
    if (bpf_map_lookup_elem(impl_->fd[map], key, &e) || is_local_entry(e)) return;
    out.push_back({policy_from_entry(prefix, e), read_counters(impl_->fd[Impl::POL_STATS], e.stats_idx),
                   (e.flags & SRV6_LOCAL) != 0});
  };
  for_each_key<srv6_policy4_key>(impl_->fd[Impl::POL4], [&](const srv6_policy4_key& k) {
    Prefix4 p;
    std::memcpy(p.addr.data(), k.addr, 4);
    p.len = static_cast<uint8_t>(k.prefixlen);
    add(Impl::POL4, p, &k);
  });
  for_each_key<srv6_policy6_key>(impl_->fd[Impl::POL6], [&](const srv6_policy6_key& k) {
    Prefix6 p;
    std::memcpy(p.addr.data(), k.addr, 16);
    p.len = static_cast<uint8_t>(k.prefixlen);
    add(Impl::POL6, p, &k);
  });
  return out;
}

ReasonCounts Instance::reasons() const {
  ReasonCounts r{};
  std::vector<uint64_t> v(libbpf_num_possible_cpus());
  for (uint32_t i = 0; i < SRV6_REASON__MAX; i++) {
    if (bpf_map_lookup_elem(impl_->fd[Impl::REASONS], &i, v.data())) continue;
    for (auto x : v) r[i] += x;
  }
  return r;
}

FwdCacheStats Instance::fwd_cache() const {
  FwdCacheStats st;
  std::vector<uint64_t> v(libbpf_num_possible_cpus());
  uint32_t k = SRV6_FWD_HITS;
  if (!bpf_map_lookup_elem(impl_->fd[Impl::FWD_STATS], &k, v.data()))
    for (auto x : v) st.hits += x;
  k = SRV6_FWD_MISSES;
  if (!bpf_map_lookup_elem(impl_->fd[Impl::FWD_STATS], &k, v.data()))
    for (auto x : v) st.misses += x;
  k = SRV6_FWD_ALIVE_UNTIL;
  uint64_t until = 0;
  if (!bpf_map_lookup_elem(impl_->fd[Impl::FWD_CLOCK], &k, &until)) st.watched = until > lease_clock_ns();
  return st;
}

void Instance::reset_stats() {
  std::vector<uint64_t> zero(libbpf_num_possible_cpus());
  for (uint32_t i = 0; i < SRV6_FWD_STAT__MAX; i++)
    bpf_map_update_elem(impl_->fd[Impl::FWD_STATS], &i, zero.data(), BPF_ANY);
  for (uint32_t i = 0; i < SRV6_REASON__MAX; i++)
    bpf_map_update_elem(impl_->fd[Impl::REASONS], &i, zero.data(), BPF_ANY);
  for_each_key<srv6_sid_key>(impl_->fd[Impl::SIDS], [&](const srv6_sid_key& k) {
    srv6_sid_entry e{};
    if (!bpf_map_lookup_elem(impl_->fd[Impl::SIDS], &k, &e)) zero_counters(impl_->fd[Impl::SID_STATS], e.stats_idx);
  });
  auto zero_policy = [&](int map, const void* k) {
    srv6_policy_entry e{};
    if (!bpf_map_lookup_elem(impl_->fd[map], k, &e)) zero_counters(impl_->fd[Impl::POL_STATS], e.stats_idx);
  };
  for_each_key<srv6_policy4_key>(impl_->fd[Impl::POL4], [&](const auto& k) { zero_policy(Impl::POL4, &k); });
  for_each_key<srv6_policy6_key>(impl_->fd[Impl::POL6], [&](const auto& k) { zero_policy(Impl::POL6, &k); });
}

void Instance::destroy() {
  std::error_code ec;
  for (auto* n : kMapNames) std::filesystem::remove(impl_->dir + "/" + n, ec);
  std::filesystem::remove(impl_->dir, ec);
  // the namespace's directory goes when its last instance does
  std::filesystem::remove(std::filesystem::path(impl_->dir).parent_path(), ec);
}

}  // namespace srv6
