#include "srv6/instance.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
#include "journal.hpp"
#include "netdev.hpp"
#include "srv6/netns.hpp"

namespace srv6 {

using namespace detail;

namespace {

constexpr const char* kBpffs = "/sys/fs/bpf";

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
  auto field = [&](uint8_t set, uint8_t inherit, uint8_t hash, uint32_t value) {
    if (e.opts & set) return OuterField{OuterField::Value, value};
    if (e.opts & inherit) return OuterField{OuterField::Inherit, 0};
    if (hash && (e.opts & hash)) return OuterField{OuterField::Hash, 0};
    return OuterField{};
  };
  c.hoplimit = field(SRV6_POLICY_HOPLIMIT, SRV6_POLICY_HOPLIMIT_INHERIT, 0, e.hop_limit);
  c.tclass = field(SRV6_POLICY_TCLASS, SRV6_POLICY_TCLASS_INHERIT, 0, e.tclass);
  c.flowlabel = field(SRV6_POLICY_FLOWLABEL, SRV6_POLICY_FLOWLABEL_INHERIT, SRV6_POLICY_FLOWLABEL_HASH,
                      e.flowlabel);
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
  std::string missing;
  for (auto* n : kMapNames)
    if (access((dir + "/" + n).c_str(), F_OK) != 0) missing += std::string(missing.empty() ? "" : ", ") + n;
  if (!missing.empty())
    throw Error("instance '" + name + "' (" + dir + ") is missing its pins " + missing +
                ": moved or deleted, while its datapath may still run on them; `srv6ctl instance del " +
                name + "` removes what is left");
  for (size_t i = 0; i < std::size(kMapNames); i++) {
    fd[i] = bpf_obj_get((dir + "/" + kMapNames[i]).c_str());
    if (fd[i] < 0) throw Error(dir + "/" + kMapNames[i] + ": " + errstr(errno));
  }
}

void Instance::Impl::create() {
  namespace fs = std::filesystem;
  fs::path final_dir(dir), ns = final_dir.parent_path();
  // under the namespace's lock: a staging directory left here is a dead creator's
  std::string prefix = "new~" + name + "~";  // bpffs refuses dotted names
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(ns, ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove_all(e.path(), ec);
  auto orphans = Instance::orphaned_devices();
  if (!orphans.empty()) {
    std::string devs;
    for (const auto& d : orphans) devs += (devs.empty() ? "" : ", ") + d;
    throw Error("cannot make instance '" + name + "': " + devs +
                " run an srv6 datapath whose instance's pins are gone (moved or deleted); "
                "`srv6ctl detach DEV` takes it off");
  }
  std::string staging = ns / (prefix + std::to_string(getpid()));
  fs::create_directory(staging, ec);
  if (ec) throw Error("cannot create " + staging + ": " + ec.message());
  dir = staging;
  try {
    load();
    if (renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_NOREPLACE))
      throw Error("cannot move " + staging + " to " + final_dir.string() + ": " + std::strerror(errno));
  } catch (...) {
    skel.reset();
    fs::remove_all(staging, ec);
    dir = final_dir;
    throw;
  }
  dir = final_dir;
}

void Instance::Impl::lock() {
  if (lock_depth++ > 0) return;
  try {
    held = std::make_unique<DirLock>(dir, "instance '" + name + "'");
    if (!held->still_there()) throw Error("instance '" + name + "' was deleted while this waited for it");
    if (Journal::pending(dir)) recover();
  } catch (...) {
    held.reset();
    lock_depth--;
    throw;
  }
}

void Instance::Impl::unlock() {
  if (--lock_depth == 0) held.reset();
}

void Instance::Impl::recover() {
  size_t failed = Journal::roll_back(dir, fd);
  drop_fwd_cache(fd[FWD_CLOCK]);
  if (failed)
    throw Error("a batch interrupted earlier left " + std::to_string(failed) +
                " entries that cannot be put back (" + errstr(errno) + "); its journal stays in " + dir +
                " and the next change tries again");
  // the rollback may have taken out entries that stood on a local address
  detail::sync_local(*this);
}

std::string Instance::pin_dir_for(const std::string& name) {
  check_name(name);
  return current_ns_dir(false) + "/" + name;
}

namespace {

std::unique_ptr<Instance::Impl> new_impl(const std::string& name, const InstanceOptions& opts) {
  install_printers();
  check_name(name);
  check_bpffs();
  collect_garbage();
  auto impl = std::make_unique<Instance::Impl>();
  impl->name = name;
  impl->opts = opts;
  return impl;
}

std::string no_instance(const std::string& name, const std::string& dir) {
  return "no instance '" + name + "' in this network namespace (" + dir +
         "); `srv6ctl instance list` shows those there are";
}

}  // namespace

Instance Instance::open(const std::string& name, const Options& opts) {
  auto impl = new_impl(name, opts);
  // the namespace's directory may go (its last instance deleted) while
  // this waits for its lock: then make it again
  for (int tries = 0; !std::filesystem::exists(impl->dir = pin_dir_for(name)); tries++) {
    std::string ns = current_ns_dir(true);
    try {
      DirLock lock(ns, "the instances of this network namespace");
      if (!lock.still_there()) continue;
      if (!std::filesystem::exists(impl->dir)) impl->create();
    } catch (const Error&) {
      if (tries >= 3 || std::filesystem::exists(ns)) throw;
    }
  }
  impl->open_maps();
  if (Journal::pending(impl->dir)) {
    Locked l(*impl);  // rolls back what a dead writer left
  }
  return Instance(std::move(impl));
}

Instance Instance::open_existing(const std::string& name) {
  auto impl = new_impl(name, {});
  impl->dir = pin_dir_for(name);
  if (!std::filesystem::exists(impl->dir)) throw Error(no_instance(name, impl->dir));
  impl->open_maps();
  if (Journal::pending(impl->dir)) {
    Locked l(*impl);
  }
  return Instance(std::move(impl));
}

Instance::Instance(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Instance::Instance(Instance&&) noexcept = default;
Instance& Instance::operator=(Instance&&) noexcept = default;
Instance::~Instance() = default;

const std::string& Instance::name() const { return impl_->name; }


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
  Locked l(*impl_);
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
    // the entry's next hop is the one its row takes (nh4 and nh6 share it)
    if (const Behaviour* b = behaviour(i.config.action)) {
      if ((b->required | b->optional) & kNh6) {
        Addr6 nh;
        std::memcpy(nh.data(), e.nh6, 16);
        i.config.nh6 = nh;
      } else if ((b->required | b->optional) & kNh4) {
        Addr4 nh;
        std::memcpy(nh.data(), e.nh4, 4);
        i.config.nh4 = nh;
      }
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
  auto add = [&](int map, const Prefix& prefix, const void* key, uint32_t table) {
    srv6_policy_entry e{};
    if (bpf_map_lookup_elem(impl_->fd[map], key, &e) || is_local_entry(e)) return;
    out.push_back({policy_from_entry(prefix, e), read_counters(impl_->fd[Impl::POL_STATS], e.stats_idx),
                   (e.flags & SRV6_LOCAL) != 0});
    out.back().config.table = table;
  };
  for_each_key<srv6_policy4_key>(impl_->fd[Impl::POL4], [&](const srv6_policy4_key& k) {
    Prefix4 p;
    std::memcpy(p.addr.data(), k.addr, 4);
    p.len = static_cast<uint8_t>(k.prefixlen - SRV6_POLICY_TABLE_BITS);
    add(Impl::POL4, p, &k, k.table);
  });
  for_each_key<srv6_policy6_key>(impl_->fd[Impl::POL6], [&](const srv6_policy6_key& k) {
    Prefix6 p;
    std::memcpy(p.addr.data(), k.addr, 16);
    p.len = static_cast<uint8_t>(k.prefixlen - SRV6_POLICY_TABLE_BITS);
    add(Impl::POL6, p, &k, k.table);
  });
  // by table (main first), then as the tries walk
  auto rank = [](const PolicyInfo& p) {
    return std::pair(p.config.table != SRV6_TABLE_MAIN, p.config.table);
  };
  std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
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
  Locked l(*impl_);
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
  std::string ns = std::filesystem::path(impl_->dir).parent_path();
  {
    Locked l(*impl_);
    // a datapath left on a device would run on unpinned maps
    detach_all(*impl_);
    remove_pins(impl_->dir);
  }
  // the namespace's directory (and its anchor) goes with its last instance
  std::error_code ec;
  if (!std::filesystem::exists(ns, ec)) return;
  DirLock lock(ns, "the instances of this network namespace");
  auto left = entries(ns);
  if (lock.still_there() && left.size() == 1 && left[0] == "anchor") remove_pins(ns);
}

std::vector<InstanceListing> Instance::list() {
  install_printers();
  check_bpffs();
  collect_garbage();
  std::vector<InstanceListing> out;
  std::string here = current_ns_dir(false);
  for (const auto& nsname : entries(kPinRoot)) {
    std::string ns = std::string(kPinRoot) + "/" + nsname;
    if (nsname.rfind("ns", 0) != 0) continue;
    NsState state = ns_state(ns);
    for (const auto& name : entries(ns)) {
      if (name == "anchor") continue;
      InstanceListing l;
      l.name = name;
      l.dir = ns + "/" + name;
      l.here = ns == here;
      l.ns_alive = state != NsState::Gone;
      l.journal = Journal::pending(l.dir);
      int fds[std::size(kMapNames)];
      for (size_t i = 0; i < std::size(kMapNames); i++) {
        fds[i] = bpf_obj_get((l.dir + "/" + kMapNames[i]).c_str());
        if (fds[i] < 0) l.missing += std::string(l.missing.empty() ? "" : ",") + kMapNames[i];
      }
      auto count = [&](int fd, auto key, auto entry, auto& n) {
        if (fd < 0) return;
        for_each_key<decltype(key)>(fd, [&](const auto& k) {
          decltype(entry) e{};
          if (!bpf_map_lookup_elem(fd, &k, &e) && !is_local_entry(e)) n++;
        });
      };
      count(fds[Impl::SIDS], srv6_sid_key{}, srv6_sid_entry{}, l.sids);
      count(fds[Impl::POL4], srv6_policy4_key{}, srv6_policy_entry{}, l.policies);
      count(fds[Impl::POL6], srv6_policy6_key{}, srv6_policy_entry{}, l.policies);
      if (fds[Impl::PORTS] >= 0) for_each_key<uint32_t>(fds[Impl::PORTS], [&](uint32_t i) { l.ports.push_back(i); });
      for (int fd : fds)
        if (fd >= 0) ::close(fd);
      out.push_back(std::move(l));
    }
  }
  return out;
}

void Instance::set_wait_notice(std::function<void(const std::string&)> f) { detail::set_wait_notice(std::move(f)); }

namespace {
srv6_config read_config(int fd) {
  uint32_t k = 0;
  srv6_config c{};
  if (bpf_map_lookup_elem(fd, &k, &c)) throw Error("reading the instance's config: " + detail::errstr(errno));
  return c;
}
void write_config(int fd, const srv6_config& c) {
  uint32_t k = 0;
  if (bpf_map_update_elem(fd, &k, &c, BPF_ANY)) throw Error("writing the instance's config: " + detail::errstr(errno));
}
}  // namespace

void Instance::set_tunsrc(const std::optional<Addr6>& a) {
  Locked l(*impl_);
  srv6_config c = read_config(impl_->fd[Impl::CONFIG]);
  bool set = a && *a != Addr6{};
  if (set && ((*a)[0] == 0xff)) throw Error("tunsrc " + format_addr6(*a) + " must not be multicast");
  c.has_tunsrc = set;
  std::memset(c.tunsrc, 0, 16);
  if (set) std::memcpy(c.tunsrc, a->data(), 16);
  write_config(impl_->fd[Impl::CONFIG], c);
}

std::optional<Addr6> Instance::tunsrc() const {
  srv6_config c = read_config(impl_->fd[Impl::CONFIG]);
  if (!c.has_tunsrc) return std::nullopt;
  Addr6 a;
  std::memcpy(a.data(), c.tunsrc, 16);
  return a;
}

// Each device's IPv6 hop_limit sysctl into port_hop_limits (what changed).
static void sync_hop_limits(int fd) {
  struct Free {
    void operator()(struct if_nameindex* p) const { if_freenameindex(p); }
  };
  std::unique_ptr<struct if_nameindex, Free> devs(if_nameindex());
  for (auto* d = devs.get(); d && d->if_index; d++) {
    uint32_t idx = d->if_index, have = 0, want = 0;
    if (idx >= SRV6_MAX_IFINDEX) continue;
    std::string path = std::string("/proc/sys/net/ipv6/conf/") + d->if_name + "/hop_limit";
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      if (std::fscanf(f, "%u", &want) != 1 || want > 255) want = 0;
      std::fclose(f);
    }
    if (!bpf_map_lookup_elem(fd, &idx, &have) && have != want) bpf_map_update_elem(fd, &idx, &want, BPF_ANY);
  }
}

void Instance::sync_sysctls() {
  Locked l(*impl_);  // against link set's two steps (re-entrant from apply)
  sync_hop_limits(impl_->fd[Impl::PORT_HOP_LIMITS]);
  detail::sync_link_tables(impl_->fd[Impl::PORT_TABLES]);
  int v = 0;
  if (FILE* f = std::fopen("/proc/sys/net/ipv6/seg6_flowlabel", "r")) {
    if (std::fscanf(f, "%d", &v) != 1) v = 0;
    std::fclose(f);
  }
  int8_t want = v > 0 ? 1 : v < 0 ? -1 : 0;
  srv6_config c = read_config(impl_->fd[Impl::CONFIG]);
  if (c.seg6_flowlabel == want) return;
  c.seg6_flowlabel = want;
  write_config(impl_->fd[Impl::CONFIG], c);
}

}  // namespace srv6
