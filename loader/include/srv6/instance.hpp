// One datapath instance: its pinned maps under
// /sys/fs/bpf/srv6/ns<netns cookie>/<name>/, its programs and attachments.
// srv6ctl, srv6d and the tests all drive the datapath through this class.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "srv6/config.hpp"

namespace srv6 {

enum class Hook { Xdp, Tc };
enum class XdpMode { Auto, Native, Generic };  // Auto: native, else generic
// Whether XDP may redirect to a device. Auto: while the kernel says it takes
// XDP frames (xdp-features: a veth while its peer runs native XDP or GRO),
// which srv6d follows as it changes; without srv6d, the skb path. Xdp / Skb:
// the operator says so, whatever the kernel says.
enum class Egress { Auto, Xdp, Skb };

// A device attached to the instance, with the datapath's view of it
// (enum srv6_port_flags).
struct PortInfo {
  uint32_t ifindex = 0;
  std::string dev;  // its name now ("if<N>" when gone)
  uint32_t flags = 0;
};

// A device whose traffic belongs to a routing table other than main (a
// tenant's): its packets meet only that table's policies.
struct LinkTable {
  uint32_t ifindex = 0;
  std::string dev;
  uint32_t table = SRV6_TABLE_MAIN;
};

// local: the prefix is one of the router's own addresses (the kernel's
// local table), which wins: the datapath leaves such packets to the kernel.
struct SidInfo {
  SidConfig config;
  Counters counters;
  bool local = false;
};
struct PolicyInfo {
  PolicyConfig config;
  Counters counters;
  bool local = false;
};
using ReasonCounts = std::array<uint64_t, SRV6_REASON__MAX>;
// The forwarding cache: answers served from it, FIB lookups while watched,
// and whether a watcher's lease is running now.
struct FwdCacheStats {
  uint64_t hits = 0, misses = 0;
  bool watched = false;
};

// Changes to the tables, applied together (Instance::apply).
struct AddSid {
  SidConfig config;
};
struct DelSid {
  Prefix6 sid;
};
struct AddPolicy {
  PolicyConfig config;
};
struct DelPolicy {
  Prefix prefix;
  uint32_t table = SRV6_TABLE_MAIN;
};
using Change = std::variant<AddSid, DelSid, AddPolicy, DelPolicy>;

// A refused change of a batch: index is its position in the batch.
struct BatchError : Error {
  BatchError(size_t i, const std::string& what) : Error(what), index(i) {}
  size_t index;
};

// Sizes of an instance's tables, fixed when it is created (0: default).
// The per-CPU counters take 24 bytes per entry and CPU.
struct InstanceOptions {
  uint32_t sids = 0, policies = 0;
};

// An instance as instance list shows it, in any network namespace.
struct InstanceListing {
  std::string name, dir;
  bool here = false;       // in the caller's network namespace
  bool ns_alive = true;    // its namespace exists (false: collected soon)
  std::string missing;     // pins that are gone, comma separated
  bool journal = false;    // a batch was interrupted: the next change rolls it back
  size_t sids = 0, policies = 0;
  std::vector<uint32_t> ports;  // ifindexes in its namespace
};

class Instance {
 public:
  using Options = InstanceOptions;

  // Opens the instance of this network namespace, creating and pinning its
  // maps on first use (with opts' sizes; an existing instance keeps its own).
  // Creation is atomic (every pin or none) and refused while a device runs
  // a datapath whose instance's pins are gone. bpffs must be mounted.
  static Instance open(const std::string& name = "default", const Options& opts = {});
  // Opens an instance that exists; Error when it does not (nothing made).
  static Instance open_existing(const std::string& name = "default");
  // Root of the pins, e.g. /sys/fs/bpf/srv6/ns4096/default.
  static std::string pin_dir_for(const std::string& name);
  // Every instance, in every network namespace (after collecting those of
  // namespaces that are gone).
  static std::vector<InstanceListing> list();
  // Devices of this namespace running a datapath whose instance's pins
  // are gone, and taking such a datapath off a device.
  static std::vector<std::string> orphaned_devices();
  static void detach_orphan(const std::string& dev);
  // Where a change that waits for another writer says so (nothing by default).
  static void set_wait_notice(std::function<void(const std::string&)> f);

  Instance(Instance&&) noexcept;
  Instance& operator=(Instance&&) noexcept;
  ~Instance();

  const std::string& name() const;
  const std::string& pin_dir() const;

  // Attach to a device. XDP also installs the TC ingress program, which
  // finishes what XDP hands to the kernel. egress: whether XDP may redirect
  // to the device; packets to it otherwise leave through the TC/skb path.
  // A device another instance holds is refused; a program already there is
  // replaced atomically, and a failed attach leaves the previous one as it
  // was. Detach refuses a device that is not this instance's.
  void attach(const std::string& dev, Hook hook, XdpMode mode = XdpMode::Auto,
              Egress egress = Egress::Auto);
  void detach(const std::string& dev);
  std::vector<PortInfo> ports() const;

  // Binds a device's traffic to a table (SRV6_TABLE_MAIN unbinds it): the
  // datapath matches it against that table's policies only, and the
  // kernel's own path agrees through policy rules, for IPv4 and IPv6:
  //   pref 1000 iif DEV lookup ID     (what no policy catches: the table)
  //   pref 1001 iif DEV unreachable   (never main, when the table has no route)
  // The kernel's local table (pref 0) still comes first. Rebinding moves the
  // rules; unbinding removes them. The device need not be attached.
  void set_link_table(const std::string& dev, uint32_t table);
  std::vector<LinkTable> link_tables() const;

  // Applies every change, in order, or none: an invalid config, a
  // duplicate, a missing entry or a full table refuses the whole batch
  // (BatchError naming the change) before anything is written, and a write
  // that fails midway is rolled back. Under the instance lock; a journal
  // makes it all or nothing even when the process is killed midway.
  void apply(const std::vector<Change>& changes);
  // Capacity of the SID and policy tables.
  uint32_t sid_capacity() const;
  uint32_t policy_capacity() const;

  // One change each (apply() of one): Error on refusal, nothing changed.
  void add_sid(const SidConfig& c);
  void del_sid(const Prefix6& sid);
  std::vector<SidInfo> sids() const;

  void add_policy(const PolicyConfig& c);
  void del_policy(const Prefix& prefix, uint32_t table = SRV6_TABLE_MAIN);
  std::vector<PolicyInfo> policies() const;

  ReasonCounts reasons() const;
  FwdCacheStats fwd_cache() const;
  void reset_stats();

  // The default outer source of policies without `src`, as `ip sr tunsrc`
  // (nullopt or :: clears it: the FIB picks the source).
  void set_tunsrc(const std::optional<Addr6>& a);
  std::optional<Addr6> tunsrc() const;
  // Copies what the kernel keeps outside announcements into the instance:
  // net.ipv6.seg6_flowlabel (the policies' default flow label), every
  // device's IPv6 hop_limit (IPv4 encapsulation's outer hop limit), and the
  // devices' tables from the kernel's rules (they follow a device by name).
  // Every change does, srv6d each second.
  void sync_sysctls();

  // Loads the XDP and TC programs against the pinned maps without attaching
  // them (packet tests run them with BPF_PROG_TEST_RUN).
  int xdp_prog_fd();
  int tc_prog_fd();
  // The forwarding cache's watcher program and clock (srv6/fib_watch.hpp).
  int fib_watch_prog_fd();
  int fwd_clock_fd() const;
  // The ports' watcher program (bpf/ports_watch.h) and the ports map.
  int ports_watch_prog_fd();
  int ports_fd() const;
  // Sets SRV6_PORT_TX_XDP of every port the operator did not fix from what
  // the kernel says now (xdp-features), and drops the forwarding cache.
  void refresh_ports();
  // Puts the router's own addresses (the kernel's local table) into the
  // tables, where they win over any SID or policy prefix, and takes out
  // those that are gone. After every change and attach, and in srv6d on
  // every change of the local table.
  void sync_local();

  // Detaches its devices and unpins every map (the next open starts empty).
  void destroy();

  struct Impl;  // opaque: the loader's sources share it (instance_impl.hpp)

 private:
  explicit Instance(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Looks up an interface in the current namespace; Error when missing.
uint32_t ifindex_of(const std::string& dev);
std::string ifname_of(uint32_t ifindex);

}  // namespace srv6
