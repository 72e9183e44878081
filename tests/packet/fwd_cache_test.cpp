// The forwarding cache never serves a stale answer: each test warms it with
// a packet, checks that the next one is served from it, changes the
// fixture's routing state the way an operator or the kernel would, and
// checks that the very next packet follows the change. Expected frames come
// from the independent builder. Each test builds its own fixture namespace.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "cases.hpp"
#include "net_fixture.hpp"
#include "srv6/fib_watch.hpp"

using namespace fixture;
using pkt::ip6;

namespace {

const pkt::Ip6 kHostA = ip6("2001:db8:a::1"), kHostB = ip6("2001:db8:b::1");
const pkt::Ip6 kEnd = ip6("fc00:1::e"), kNext = ip6("fc00:2::2");

// An End packet (SL 1 -> 0, next DA fc00:2::2, routed by fc00::/16), as
// received (dmac/smac of in0) or as forwarded (hop limit 63).
pkt::Bytes end_packet(bool forwarded, const pkt::Mac& dmac, const pkt::Mac& smac,
                      size_t payload = 16) {
  pkt::Packet p;
  p.eth(dmac, smac);
  p.ipv6({.src = kHostA, .dst = forwarded ? kNext : kEnd, .flow_label = 0x4242,
          .hop_limit = uint8_t(forwarded ? 63 : 64)});
  pkt::Srh srh;
  srh.segments = {kNext, kEnd};
  srh.segments_left = forwarded ? 0 : 1;
  p.srh(srh);
  p.ipv6({.src = kHostA, .dst = kHostB});
  p.udp(1, 2).payload(std::string(payload, 'p'));
  return p.build();
}

pkt::Bytes in_packet(size_t payload = 16) { return end_packet(false, kInMac, kSenderMac, payload); }

struct Result {
  int verdict;
  pkt::Bytes out;
};

Result run_xdp(srv6::Instance& inst, const pkt::Bytes& in) {
  pkt::Bytes out(in.size() + 256);
  xdp_md ctx{};
  ctx.ingress_ifindex = srv6::ifindex_of(kIn);
  ctx.data_end = in.size();
  DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = out.data(),
                      .data_size_in = uint32_t(in.size()), .data_size_out = uint32_t(out.size()),
                      .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = 1);
  EXPECT_EQ(bpf_prog_test_run_opts(inst.xdp_prog_fd(), &opts), 0) << strerror(errno);
  out.resize(opts.data_size_out);
  return {int(opts.retval), out};
}

void sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

class FwdCache : public ::testing::Test {
 protected:
  void SetUp() override {
    fx_ = std::make_unique<cases::Fixture>("fwdcache");
    watch_ = std::make_unique<srv6::FibWatch>(inst());
  }
  void TearDown() override {
    watch_.reset();
    fx_.reset();
  }
  srv6::Instance& inst() { return fx_->instance(); }

  // Forwards one packet and checks it left with these MACs; returns the
  // hits the cache served meanwhile.
  uint64_t expect_forwarded(const pkt::Mac& dmac, const pkt::Mac& smac) {
    auto before = inst().fwd_cache().hits;
    Result r = run_xdp(inst(), in_packet());
    EXPECT_EQ(r.verdict, XDP_REDIRECT);
    auto want = end_packet(true, dmac, smac);
    EXPECT_TRUE(r.out == want) << pkt::diff(want, r.out);
    return inst().fwd_cache().hits - before;
  }

  // Warms the cache and checks that it serves the default route's answer.
  void warm() {
    expect_forwarded(kNh0Mac, kOut0Mac);
    EXPECT_EQ(expect_forwarded(kNh0Mac, kOut0Mac), 1u) << "second packet not served from the cache";
  }

  std::unique_ptr<cases::Fixture> fx_;
  std::unique_ptr<srv6::FibWatch> watch_;
};

TEST_F(FwdCache, ServesRepeatsWhileWatched) {
  EXPECT_TRUE(inst().fwd_cache().watched);
  warm();
  EXPECT_EQ(expect_forwarded(kNh0Mac, kOut0Mac), 1u);
}

TEST_F(FwdCache, NeighbourMacChange) {
  warm();
  sh("ip -6 neigh replace fd00:2::2 lladdr 02:00:00:00:02:99 dev out0 nud permanent");
  EXPECT_EQ(expect_forwarded(pkt::mac("02:00:00:00:02:99"), kOut0Mac), 0u);
}

TEST_F(FwdCache, NeighbourDeleted) {
  warm();
  sh("ip -6 neigh del fd00:2::2 dev out0");
  auto in = in_packet();
  Result r = run_xdp(inst(), in);
  EXPECT_EQ(r.verdict, XDP_PASS) << "no neighbour: the kernel resolves it";
  EXPECT_TRUE(r.out == in);
}

TEST_F(FwdCache, RouteReplaced) {
  warm();
  sh("ip -6 route replace fc00::/16 via fd00:4::2 dev out2");
  expect_forwarded(kNh2Mac, kOut2Mac);
}

TEST_F(FwdCache, MoreSpecificRouteAdded) {
  warm();
  sh("ip -6 route add fc00:2::/32 via fd00:4::2 dev out2");
  expect_forwarded(kNh2Mac, kOut2Mac);
}

TEST_F(FwdCache, RouteDeleted) {
  warm();
  sh("ip -6 route del fc00::/16 via fd00:2::2 dev out0");
  auto in = in_packet();
  Result r = run_xdp(inst(), in);
  EXPECT_EQ(r.verdict, XDP_PASS) << "no route: the kernel answers";
  EXPECT_TRUE(r.out == in);
}

TEST_F(FwdCache, PolicyRuleAdded) {
  warm();
  // End looks up through the rules, as the kernel does: a rule sending the
  // destination to table 100 (out1) wins from now on.
  sh("ip -6 rule add to fc00:2::/32 lookup 100 pref 100");
  expect_forwarded(kNh1Mac, kOut1Mac);
}

TEST_F(FwdCache, LinkMtuLowered) {
  auto big = in_packet(1300);  // fits out0's 1500, not 1280
  EXPECT_EQ(run_xdp(inst(), big).verdict, XDP_REDIRECT);
  EXPECT_EQ(run_xdp(inst(), big).verdict, XDP_REDIRECT);
  sh("ip link set out0 mtu 1280");
  Result r = run_xdp(inst(), big);
  EXPECT_EQ(r.verdict, XDP_PASS) << "too big: the kernel sends Packet Too Big";
  EXPECT_TRUE(r.out == big);
}

TEST_F(FwdCache, LinkMacChanged) {
  warm();
  // the kernel flushes the device's neighbours with its address
  sh("ip link set out0 address 02:00:00:00:02:55");
  auto in = in_packet();
  EXPECT_EQ(run_xdp(inst(), in).verdict, XDP_PASS) << "neighbour flushed";
  sh("ip -6 neigh replace fd00:2::2 lladdr 02:00:00:00:02:02 dev out0 nud permanent");
  expect_forwarded(kNh0Mac, pkt::mac("02:00:00:00:02:55"));
}

TEST_F(FwdCache, LinkDown) {
  warm();
  sh("ip link set out0 down");
  auto in = in_packet();
  Result r = run_xdp(inst(), in);
  EXPECT_EQ(r.verdict, XDP_PASS);
  EXPECT_TRUE(r.out == in);
}

TEST_F(FwdCache, ForwardingDisabled) {
  warm();
  sh("sysctl -qw net.ipv6.conf.in0.forwarding=0");
  auto in = in_packet();
  Result r = run_xdp(inst(), in);
  EXPECT_EQ(r.verdict, XDP_PASS) << "forwarding off on the input device: the kernel decides";
}

TEST_F(FwdCache, NextSegmentBecomesOurSid) {
  warm();
  // the next segment is now ours: it runs at once, and with SL 0 End drops
  inst().add_sid({.sid = {srv6::parse_addr6("fc00:2::2"), 128}, .action = SRV6_ACTION_END});
  auto before = inst().reasons()[SRV6_DROP_SL_ZERO];
  EXPECT_EQ(run_xdp(inst(), in_packet()).verdict, XDP_DROP);
  EXPECT_EQ(inst().reasons()[SRV6_DROP_SL_ZERO] - before, 1u);
  inst().del_sid({srv6::parse_addr6("fc00:2::2"), 128});
  expect_forwarded(kNh0Mac, kOut0Mac);
}

// End asks whether its next segment is one of our SIDs before asking the
// FIB (FWD_SID_FIRST); that answer fills the slot of its query with no FIB
// answer in it. End.X asks the FIB the very same query when its next hop is
// that SID (flags 0, ingress, source, flow label, destination): it must get
// the FIB's answer, exactly as with the cache off, never that slot.
TEST_F(FwdCache, SidOnlySlotServesNoFibQuery) {
  const pkt::Ip6 s = ip6("fc00:1::7");   // End.T of the fixture: our SID
  const pkt::Ip6 endx = ip6("fc00:1::c");  // End.X, next hop s
  inst().add_sid({.sid = {srv6::parse_addr6("fc00:1::c"), 128},
                  .action = SRV6_ACTION_END_X,
                  .nh6 = srv6::parse_addr6("fc00:1::7")});
  auto packet = [&](const pkt::Ip6& da, std::vector<pkt::Ip6> segs, uint8_t sl, const pkt::Mac& dmac,
                    const pkt::Mac& smac, uint8_t hl) {
    pkt::Packet p;
    p.eth(dmac, smac);
    p.ipv6({.src = kHostA, .dst = da, .traffic_class = 0x20, .flow_label = 0x4242, .hop_limit = hl});
    pkt::Srh srh;
    srh.segments = std::move(segs);
    srh.segments_left = sl;
    p.srh(srh).append([] {
      pkt::Packet i;
      i.ipv6({.src = kHostA, .dst = kHostB}).udp(1, 2).payload("collide");
      return i;
    }());
    return p.build();
  };
  // End.X: its next hop fc00:1::7 is routed by fc00::/16 to out0
  auto x_in = packet(endx, {kNext, endx}, 1, kInMac, kSenderMac, 64);
  auto x_out = packet(kNext, {kNext, endx}, 0, kNh0Mac, kOut0Mac, 63);
  // End whose next segment is fc00:1::7: the same query, answered "our SID"
  auto e_in = packet(kEnd, {kNext, s, kEnd}, 2, kInMac, kSenderMac, 64);

  watch_.reset();  // the cache off
  ASSERT_FALSE(inst().fwd_cache().watched);
  Result off = run_xdp(inst(), x_in);
  EXPECT_EQ(off.verdict, XDP_REDIRECT);
  EXPECT_TRUE(off.out == x_out) << pkt::diff(x_out, off.out);

  watch_ = std::make_unique<srv6::FibWatch>(inst());  // on
  auto hits = inst().fwd_cache().hits;
  for (int i = 0; i < 2; i++) EXPECT_EQ(run_xdp(inst(), e_in).verdict, XDP_REDIRECT) << "End, then End.T";
  EXPECT_GE(inst().fwd_cache().hits - hits, 1u) << "End's SID answer was not cached";
  for (int i = 0; i < 2; i++) {
    Result on = run_xdp(inst(), x_in);
    EXPECT_EQ(on.verdict, off.verdict) << "End.X, run " << i + 1;
    EXPECT_TRUE(on.out == off.out) << "End.X, run " << i + 1 << "\n" << pkt::diff(off.out, on.out);
  }
}

// End's next segment becomes one of the router's own addresses: once the
// local table is synced (srv6d does it on every change of it), End drops
// the packet as seg6local's blackhole, however warm the cache; and forwards
// it again once the address is gone.
TEST_F(FwdCache, NextSegmentBecomesLocal) {
  warm();
  sh("ip -6 addr add fc00:2::2/128 dev out3 nodad");
  inst().sync_local();
  auto reasons = inst().reasons()[SRV6_DROP_NEXT_LOCAL];
  EXPECT_EQ(run_xdp(inst(), in_packet()).verdict, XDP_DROP);
  EXPECT_EQ(inst().reasons()[SRV6_DROP_NEXT_LOCAL] - reasons, 1u);
  sh("ip -6 addr del fc00:2::2/128 dev out3");
  inst().sync_local();
  expect_forwarded(kNh0Mac, kOut0Mac);
}

// A SID on one of the router's own addresses is the kernel's as long as
// the address is there: added, listed as local, the packet untouched;
// deleted, the address still wins; the address gone, the SID runs.
TEST_F(FwdCache, SidOnAnAddressThatComesAndGoes) {
  const pkt::Ip6 a = ip6("fd00:4::1");  // out2's
  auto packet = [&] {
    pkt::Packet p;
    p.eth(kInMac, kSenderMac).ipv6({.src = kHostA, .dst = a});
    pkt::Srh srh;
    srh.segments = {kNext, a};
    p.srh(srh).udp(1, 2).payload("to a local SID");
    return p.build();
  };
  auto listed = [&]() -> std::optional<bool> {
    for (auto& s : inst().sids())
      if (srv6::format_prefix6(s.config.sid) == "fd00:4::1/128") return s.local;
    return std::nullopt;
  };
  srv6::Prefix6 sid{srv6::parse_addr6("fd00:4::1"), 128};
  inst().add_sid({.sid = sid, .action = SRV6_ACTION_END});
  EXPECT_EQ(listed(), std::optional<bool>(true));
  auto in = packet();
  Result r = run_xdp(inst(), in);
  EXPECT_EQ(r.verdict, XDP_PASS);
  EXPECT_TRUE(r.out == in);
  inst().del_sid(sid);
  EXPECT_EQ(listed(), std::nullopt) << "the local address's own entry is not listed";
  r = run_xdp(inst(), in);
  EXPECT_EQ(r.verdict, XDP_PASS) << "the address still wins";
  EXPECT_TRUE(r.out == in);
  inst().add_sid({.sid = sid, .action = SRV6_ACTION_END});
  sh("ip -6 addr del fd00:4::1/64 dev out2");
  inst().sync_local();
  EXPECT_EQ(listed(), std::optional<bool>(false));
  r = run_xdp(inst(), in);
  EXPECT_EQ(r.verdict, XDP_REDIRECT) << "no longer local: End runs";
}

TEST_F(FwdCache, EgressNoLongerATxPort) {
  warm();
  inst().detach("out0");
  auto in = in_packet();
  auto before = inst().reasons()[SRV6_PASS_SKB_EGRESS];
  Result r = run_xdp(inst(), in);
  EXPECT_EQ(r.verdict, XDP_PASS) << "XDP may not redirect to it: TC forwards it";
  EXPECT_TRUE(r.out == in);
  EXPECT_EQ(inst().reasons()[SRV6_PASS_SKB_EGRESS] - before, 1u);
}

TEST_F(FwdCache, OffWithoutAWatcher) {
  warm();
  watch_.reset();
  EXPECT_FALSE(inst().fwd_cache().watched);
  EXPECT_EQ(expect_forwarded(kNh0Mac, kOut0Mac), 0u);
  // A change nobody watched: a new watcher must not trust older answers.
  sh("ip -6 route replace fc00::/16 via fd00:4::2 dev out2");
  watch_ = std::make_unique<srv6::FibWatch>(inst());
  expect_forwarded(kNh2Mac, kOut2Mac);
}

TEST_F(FwdCache, LeaseRunsOut) {
  warm();
  usleep(std::chrono::microseconds(srv6::FibWatch::kLease).count() + 100000);
  EXPECT_FALSE(inst().fwd_cache().watched);
  EXPECT_EQ(expect_forwarded(kNh0Mac, kOut0Mac), 0u);
  watch_->beat();
  expect_forwarded(kNh0Mac, kOut0Mac);
  EXPECT_EQ(expect_forwarded(kNh0Mac, kOut0Mac), 1u);
}

}  // namespace
