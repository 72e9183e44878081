// Proves that the test packet builder (tests/packet/builder.hpp) produces
// exactly what the kernel's own SRv6 implementation puts on the wire, so the
// builder can serve as the independent reference for the datapath tests.
//
// Topology (fresh namespaces per test, fixed MACs, static neighbours):
//
//   [src] s0 ---- r0 [r] r1 ---- k0 [sink]
//
// A frame is injected on s0 with an AF_PACKET socket, the kernel in "r"
// applies an SRv6 behaviour (seg6 encap / encap.red route or seg6local End)
// and forwards it, and the frame is captured on k0 with an AF_PACKET socket
// and compared byte for byte with the frame built by pkt::Packet.
//
// Kernel facts (kernel 6.18, iproute2 6.1, net.ipv6.seg6_flowlabel = 0, the
// default) asserted by these comparisons:
//  * Outer source: `ip sr tunsrc set` (iproute2 6.1's `encap seg6` takes no
//    per-route source).
//  * Outer hop limit: IPv6 inner -> copied from the inner packet; IPv4 inner
//    -> the IPv6 hop_limit of the encap route's device (net.ipv6.conf.DEV.
//    hop_limit, default 64; the inner TTL is not used).  In both cases the
//    outer packet is then forwarded by ip6_forward, so the wire shows that
//    value - 1.
//  * Outer traffic class: copied from the inner IPv6 traffic class including
//    the ECN bits; 0 for an IPv4 inner packet (the TOS is NOT copied).
//  * Outer flow label: copied from the inner IPv6 flow label; 0 for IPv4.
//  * The inner packet is not modified at all: inner hop limit / TTL (and
//    thus the IPv4 header checksum) unchanged, because the encap route is an
//    lwtunnel *input* redirect: the inner packet never goes through
//    ip_forward / ip6_forward, only the outer one does.
//  * Next headers: outer IPv6 -> 43 (SRH) -> 41 (IPv6) or 4 (IPv4).
//  * SRH (mode encap): flags 0, tag 0, no TLVs, segments in reverse travel
//    order, last_entry = segments_left = n - 1, DA = first SID; an SRH is
//    present even for a single SID.
//  * Reduced SRH (mode encap.red), n SIDs: the first SID is only in the DA;
//    the SRH holds the other n - 1 (reverse order), last_entry = n - 2,
//    segments_left = n - 1; with one SID there is no SRH at all and the
//    outer next header is the inner protocol directly (41 or 4).
//  * seg6local End: segments_left decremented, DA = next segment, hop limit
//    decremented by exactly one (by the forwarding after End), nothing else
//    changes (the UDP checksum is over the final destination, so it stays
//    valid).  It works without net.ipv6.conf.*.seg6_enabled (that sysctl
//    only gates SRH processing for packets addressed to a local address).
//  * Not asserted here, seen by hand: net.ipv6.seg6_flowlabel=1 gives a
//    hash-based outer flow label (IPv4 and IPv6 inner), -1 gives 0.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "builder.hpp"

namespace {

using pkt::Bytes;

// ------------------------------------------------------------- helpers

void run(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("command failed: " + cmd);
}

// A named network namespace, deleted again when the object goes away (also
// when an assertion or exception aborts the test).
class Netns {
 public:
  explicit Netns(std::string name) : name_(std::move(name)) {
    run("ip netns add " + name_);
  }
  ~Netns() { std::system(("ip netns del " + name_ + " 2>/dev/null").c_str()); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  const std::string& name() const { return name_; }
  // Run an ip(8) command inside the namespace: ip -n NAME <args>.
  void ip(const std::string& args) const { run("ip -n " + name_ + " " + args); }
  void sysctl(const std::string& kv) const {
    run("ip netns exec " + name_ + " sysctl -qw " + kv);
  }

 private:
  std::string name_;
};

// Switches the calling thread into a named namespace and back.  Sockets keep
// the namespace they were created in, so they stay usable afterwards.
class EnterNetns {
 public:
  explicit EnterNetns(const std::string& name)
      : self_(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    int target = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (self_ < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0) {
      if (target >= 0) close(target);
      if (self_ >= 0) close(self_);
      throw std::runtime_error("cannot enter netns " + name);
    }
    close(target);
  }
  ~EnterNetns() {
    if (setns(self_, CLONE_NEWNET) != 0) std::abort();  // never continue in the wrong ns
    close(self_);
  }

 private:
  int self_;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {
    if (fd_ < 0) throw std::runtime_error("socket setup failed");
  }
  ~Fd() { close(fd_); }
  Fd(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// AF_PACKET socket bound to `ifname` inside namespace `ns`.  protocol 0 gives
// a send-only socket, ETH_P_ALL one that sees every frame on the interface.
int packet_socket(const std::string& ns, const std::string& ifname, uint16_t protocol) {
  EnterNetns in(ns);
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(protocol));
  if (fd < 0) return -1;
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(protocol);
  sll.sll_ifindex = int(if_nametoindex(ifname.c_str()));
  if (sll.sll_ifindex == 0 || bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{0, 100 * 1000};  // short, so the send/receive loop can resend
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// ------------------------------------------------------------- topology

const pkt::Mac kS0Mac = pkt::mac("02:00:00:00:00:01");
const pkt::Mac kR0Mac = pkt::mac("02:00:00:00:00:02");
const pkt::Mac kR1Mac = pkt::mac("02:00:00:00:00:03");
const pkt::Mac kK0Mac = pkt::mac("02:00:00:00:00:04");
const char* const kMacStr[] = {"02:00:00:00:00:01", "02:00:00:00:00:02",
                               "02:00:00:00:00:03", "02:00:00:00:00:04"};

// Outer source of every encapsulation; deliberately not an interface address
// so the test shows it really comes from `ip sr tunsrc`.
const pkt::Ip6 kTunSrc = pkt::ip6("fc00:ff::1");
// SIDs live in fc00:3::/48, routed from r to the sink.
const std::vector<pkt::Ip6> kSids = {pkt::ip6("fc00:3::a"), pkt::ip6("fc00:3::b"),
                                     pkt::ip6("fc00:3::c")};
const char* const kSidStr[] = {"fc00:3::a", "fc00:3::b", "fc00:3::c"};

// Inner packet parameters; non-default values so copying is visible.
constexpr uint8_t kInnerTc = 0xb9;  // DSCP 46 (EF) + ECN ECT(1)
constexpr uint32_t kInnerFlow = 0xabcde;
constexpr uint8_t kInnerHop = 50;
constexpr uint8_t kInnerTos = 0xba;  // DSCP 46 + ECN ECT(0)

class KernelSrv6 : public ::testing::Test {
 public:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "needs root (netns, AF_PACKET)";
    // Unique per process and per test, so parallel runs cannot collide.
    static int seq = 0;
    const std::string base = "kbc" + std::to_string(getpid()) + "_" + std::to_string(seq++);
    src_.emplace(base + "src");
    r_.emplace(base + "r");
    sink_.emplace(base + "sink");

    src_->ip("link add s0 type veth peer name r0 netns " + r_->name());
    r_->ip("link add r1 type veth peer name k0 netns " + sink_->name());
    // Fixed MACs; no link-local addresses (less DAD/MLD noise on the wire).
    for (auto [ns, dev, mac] : {std::tuple{&*src_, "s0", kMacStr[0]},
                                {&*r_, "r0", kMacStr[1]},
                                {&*r_, "r1", kMacStr[2]},
                                {&*sink_, "k0", kMacStr[3]}}) {
      ns->ip(std::string("link set ") + dev + " address " + mac + " addrgenmode none");
      ns->ip(std::string("link set ") + dev + " up");
    }

    src_->ip("addr add fc00:1::1/64 dev s0 nodad");
    src_->ip("addr add 10.0.1.1/24 dev s0");
    r_->ip("addr add fc00:1::2/64 dev r0 nodad");
    r_->ip("addr add 10.0.1.2/24 dev r0");
    r_->ip("addr add fc00:2::1/64 dev r1 nodad");
    sink_->ip("addr add fc00:2::2/64 dev k0 nodad");

    // Static neighbours everywhere: no neighbour discovery, deterministic MACs.
    src_->ip(std::string("-6 neigh add fc00:1::2 lladdr ") + kMacStr[1] + " nud permanent dev s0");
    r_->ip(std::string("-6 neigh add fc00:1::1 lladdr ") + kMacStr[0] + " nud permanent dev r0");
    r_->ip(std::string("neigh add 10.0.1.1 lladdr ") + kMacStr[0] + " nud permanent dev r0");
    r_->ip(std::string("-6 neigh add fc00:2::2 lladdr ") + kMacStr[3] + " nud permanent dev r1");
    sink_->ip(std::string("-6 neigh add fc00:2::1 lladdr ") + kMacStr[2] + " nud permanent dev k0");

    r_->sysctl("net.ipv6.conf.all.forwarding=1");
    r_->sysctl("net.ipv4.ip_forward=1");
    r_->ip("-6 route add fc00:3::/48 via fc00:2::2 dev r1");
    r_->ip("sr tunsrc set fc00:ff::1");
  }

  const Netns& router() const { return *r_; }

  // Injects `frame` on s0 and returns the first frame seen arriving on k0
  // that carries IPv6 to `outer_dst` (other traffic such as MLD reports is
  // skipped).  The frame is resent every 100 ms until it shows up, because
  // right after `link up` a veth may drop frames until its qdisc is attached.
  Bytes transmit(const Bytes& frame, const pkt::Ip6& outer_dst) {
    Fd tx(packet_socket(src_->name(), "s0", 0));
    Fd rx(packet_socket(sink_->name(), "k0", ETH_P_ALL));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      if (send(tx.get(), frame.data(), frame.size(), 0) != ssize_t(frame.size()))
        throw std::runtime_error("AF_PACKET send failed");
      for (int i = 0; i < 10; i++) {  // drain for up to ~100 ms per send
        Bytes buf(2048);
        sockaddr_ll from{};
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(rx.get(), buf.data(), buf.size(), 0,
                             reinterpret_cast<sockaddr*>(&from), &fromlen);
        if (n < 0) break;  // timeout: send again
        if (from.sll_pkttype == PACKET_OUTGOING) continue;
        buf.resize(size_t(n));
        if (buf.size() >= 54 && buf[12] == 0x86 && buf[13] == 0xdd &&
            std::equal(outer_dst.begin(), outer_dst.end(), buf.begin() + 38))
          return buf;
      }
    }
    return {};
  }


 protected:
  std::optional<Netns> src_, r_, sink_;
};

// Inner packets as the source sends them (without Ethernet).
pkt::Packet inner_v6() {
  pkt::Packet p;
  p.ipv6({.src = pkt::ip6("fc00:1::1"),
          .dst = pkt::ip6("fd00:99::1"),
          .traffic_class = kInnerTc,
          .flow_label = kInnerFlow,
          .hop_limit = kInnerHop})
      .udp(4000, 5000)
      .payload("srv6 kernel/builder check, IPv6 inner");
  return p;
}

pkt::Packet inner_v4() {
  pkt::Packet p;
  p.ipv4({.src = pkt::ip4("10.0.1.1"),
          .dst = pkt::ip4("10.99.0.1"),
          .tos = kInnerTos,
          .ttl = kInnerHop,
          .id = 0x1234,
          .frag = 0x4000})
      .udp(4000, 5000)
      .payload("srv6 kernel/builder check, IPv4 inner");
  return p;
}

// ------------------------------------------------------------- encap cases

struct EncapCase {
  const char* mode;  // iproute2 seg6 mode: "encap" or "encap.red"
  size_t nsids;
  bool ipv4_inner;
};

void PrintTo(const EncapCase& c, std::ostream* os) {
  *os << "mode " << c.mode << ", " << c.nsids << " SID(s), "
      << (c.ipv4_inner ? "IPv4" : "IPv6") << " inner";
}

// Installs the seg6 encap route on r, sends the inner packet from src and
// compares the sink's capture with the builder's idea of the result.
// `ipv4_outer_hop` is the hop limit the kernel gives the outer header of an
// IPv4 inner packet before forwarding it (the route device's IPv6 hop_limit).
void check_encap(KernelSrv6& t, const EncapCase& c, uint8_t ipv4_outer_hop = 64) {
  const bool reduced = std::string(c.mode) == "encap.red";
  const std::vector<pkt::Ip6> sids(kSids.begin(), kSids.begin() + c.nsids);

  std::string segs;
  for (size_t i = 0; i < c.nsids; i++) segs += (i ? "," : "") + std::string(kSidStr[i]);
  const std::string encap = std::string(" encap seg6 mode ") + c.mode + " segs " + segs + " dev r1";
  if (c.ipv4_inner)
    t.router().ip("route add 10.99.0.0/24" + encap);
  else
    t.router().ip("-6 route add fd00:99::/64" + encap);

  const pkt::Packet inner = c.ipv4_inner ? inner_v4() : inner_v6();
  const Bytes sent = pkt::Packet().eth(kR0Mac, kS0Mac).append(inner).build();

  // What the kernel is expected to emit, from the builder alone.
  pkt::Packet expected;
  expected.eth(kK0Mac, kR1Mac)
      .ipv6({.src = kTunSrc,
             .dst = sids.front(),
             .traffic_class = c.ipv4_inner ? uint8_t(0) : kInnerTc,
             .flow_label = c.ipv4_inner ? 0 : kInnerFlow,
             // copied from the inner IPv6 packet / the device default for
             // IPv4, then decremented once by forwarding the outer packet
             .hop_limit = uint8_t((c.ipv4_inner ? ipv4_outer_hop : kInnerHop) - 1)});
  if (!reduced) {
    expected.srh(pkt::Srh::from_path(sids));
  } else if (c.nsids > 1) {
    // Reduced SRH: the first SID is carried only in the DA.
    pkt::Srh srh = pkt::Srh::from_path({sids.begin() + 1, sids.end()});
    srh.segments_left = uint8_t(c.nsids - 1);  // last_entry stays n - 2
    expected.srh(srh);
  }
  expected.append(inner);  // unchanged, hop limit / TTL included

  const Bytes want = expected.build();
  const Bytes got = t.transmit(sent, sids.front());
  ASSERT_FALSE(got.empty()) << "nothing captured on the sink";
  EXPECT_TRUE(want == got) << pkt::diff(want, got);
}

class KernelEncap : public KernelSrv6, public ::testing::WithParamInterface<EncapCase> {};

TEST_P(KernelEncap, BuilderMatchesWire) { check_encap(*this, GetParam()); }

// The 64 above is not a constant of seg6: for an IPv4 inner packet the outer
// hop limit is the IPv6 hop_limit of the encap route's device.
TEST_F(KernelSrv6, Ipv4InnerOuterHopLimitIsRouteDeviceHopLimit) {
  router().sysctl("net.ipv6.conf.r1.hop_limit=40");
  check_encap(*this, {"encap", 2, true}, 40);
}

INSTANTIATE_TEST_SUITE_P(
    Seg6, KernelEncap,
    ::testing::Values(EncapCase{"encap", 1, false}, EncapCase{"encap", 2, false},
                      EncapCase{"encap", 3, false}, EncapCase{"encap", 1, true},
                      EncapCase{"encap", 2, true}, EncapCase{"encap", 3, true},
                      EncapCase{"encap.red", 1, false}, EncapCase{"encap.red", 2, false},
                      EncapCase{"encap.red", 3, false}, EncapCase{"encap.red", 1, true},
                      EncapCase{"encap.red", 2, true}, EncapCase{"encap.red", 3, true}),
    [](const ::testing::TestParamInfo<EncapCase>& info) {
      return std::string(info.param.mode[5] ? "EncapRed" : "Encap") +
             std::to_string(info.param.nsids) + "Sid" +
             (info.param.ipv4_inner ? "Ipv4Inner" : "Ipv6Inner");
    });

// ------------------------------------------------------------- seg6local End

TEST_F(KernelSrv6, EndAdvancesSegmentList) {
  // The local SID is fc00:5::e, on r; the following segments are routed to
  // the sink.
  r_->ip("-6 route add fc00:5::e/128 encap seg6local action End dev r0");

  const std::vector<pkt::Ip6> path = {pkt::ip6("fc00:5::e"), kSids[1], kSids[2]};
  auto packet = [&](const pkt::Mac& dst, const pkt::Mac& src, const pkt::Ip6& da,
                    uint8_t segments_left, uint8_t hop_limit) {
    pkt::Srh srh = pkt::Srh::from_path(path);
    srh.segments_left = segments_left;
    pkt::Packet p;
    p.eth(dst, src)
        .ipv6({.src = pkt::ip6("fc00:1::1"), .dst = da, .traffic_class = kInnerTc,
               .flow_label = kInnerFlow, .hop_limit = hop_limit})
        .srh(srh)
        .udp(4000, 5000)
        .payload("srv6 kernel/builder check, End");
    return p.build();
  };

  const Bytes sent = packet(kR0Mac, kS0Mac, path[0], 2, 64);
  const Bytes want = packet(kK0Mac, kR1Mac, path[1], 1, 63);
  const Bytes got = transmit(sent, path[1]);
  ASSERT_FALSE(got.empty()) << "nothing captured on the sink";
  EXPECT_TRUE(want == got) << pkt::diff(want, got);
}

}  // namespace
