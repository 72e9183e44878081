// Packet tests: each case is data (input frame, expected verdict and bytes at
// XDP and at TC, expected counter changes), run through the real XDP and TC
// programs with BPF_PROG_TEST_RUN. Maps are filled through the loader's API;
// expected frames come from the independent builder (tests/packet/builder),
// never from the datapath. Hand-offs differ by hook on purpose: XDP passes
// the frame up unchanged, TC (which then receives it) processes it and lets
// the kernel forward it.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include "cases.hpp"
#include "fixture_env.hpp"
#include "net_fixture.hpp"
#include "srv6/fib_watch.hpp"

using namespace fixture;

namespace {

srv6::Instance* g_inst;
// The forwarding cache is on, so the second run of a case is served from it.
std::unique_ptr<srv6::FibWatch> g_watch;

using cases::Case;
using cases::Expect;

// ----------------------------------------------------------------- runner

struct Result {
  int verdict;
  pkt::Bytes out;
};

Result run(int prog_fd, bool xdp, const pkt::Bytes& in, const std::string& ingress = kIn,
           uint32_t gso_size = 0, uint32_t gso_segs = 0) {
  pkt::Bytes out(in.size() + 512);
  uint32_t ifindex = srv6::ifindex_of(ingress.empty() ? kIn : ingress);
  xdp_md xctx{};
  __sk_buff sctx{};
  xctx.ingress_ifindex = ifindex;
  xctx.data_end = in.size();  // all of the frame in the linear part
  sctx.ifindex = ifindex;
  sctx.gso_size = gso_size;
  sctx.gso_segs = gso_segs;
  DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = out.data(),
                      .data_size_in = static_cast<uint32_t>(in.size()),
                      .data_size_out = static_cast<uint32_t>(out.size()), .repeat = 1);
  if (xdp) {
    opts.ctx_in = &xctx;
    opts.ctx_size_in = sizeof xctx;
  } else {
    opts.ctx_in = &sctx;
    opts.ctx_size_in = sizeof sctx;
  }
  int err = bpf_prog_test_run_opts(prog_fd, &opts);
  EXPECT_EQ(err, 0) << "BPF_PROG_TEST_RUN failed: " << strerror(errno);
  out.resize(opts.data_size_out);
  return {static_cast<int>(opts.retval), out};
}

srv6::Counters entry_counters(const std::string& entry) {
  for (auto& s : g_inst->sids())
    if (srv6::format_prefix6(s.config.sid) == entry) return s.counters;
  // a policy as "PREFIX" (main) or "PREFIX table ID"
  for (auto& p : g_inst->policies()) {
    std::string name = srv6::format_prefix(p.config.prefix);
    if (p.config.table != SRV6_TABLE_MAIN) name += " table " + srv6::format_table(p.config.table);
    if (name == entry) return p.counters;
  }
  ADD_FAILURE() << "no SID or policy " << entry;
  return {};
}

class Packet : public ::testing::TestWithParam<std::tuple<Case, bool>> {};

TEST_P(Packet, Run) {
  const auto& [c, xdp] = GetParam();
  const Expect& e = xdp ? c.xdp : c.tc;
  auto reasons_before = g_inst->reasons();
  auto counters_before = c.entry.empty() ? srv6::Counters{} : entry_counters(c.entry);

  // Twice: the first run may fill the forwarding cache, the second may be
  // served from it; both must give the expected frame.
  g_watch->beat();
  for (int i = 0; i < 2; i++) {
    Result r = run(xdp ? g_inst->xdp_prog_fd() : g_inst->tc_prog_fd(), xdp, c.in, c.ingress, c.gso_size,
                   c.gso_segs);
    EXPECT_EQ(r.verdict, e.verdict) << "run " << i + 1;
    const pkt::Bytes& want = e.out.empty() ? c.in : e.out;
    std::string d = cases::compare(e, want, r.out);
    EXPECT_TRUE(d.empty()) << "run " << i + 1 << "\n" << d;
  }

  auto reasons_after = g_inst->reasons();
  for (uint32_t i = 0; i < SRV6_REASON__MAX; i++) {
    auto it = e.reasons.find(static_cast<srv6_reason>(i));
    uint64_t want_delta = it == e.reasons.end() ? 0 : it->second;
    EXPECT_EQ(reasons_after[i] - reasons_before[i], 2 * want_delta)
        << "reason " << srv6::reason_name(static_cast<srv6_reason>(i));
  }
  if (!c.entry.empty()) {
    auto after = entry_counters(c.entry);
    EXPECT_EQ(after.packets - counters_before.packets, 2 * e.counters.packets) << "packets of " << c.entry;
    EXPECT_EQ(after.bytes - counters_before.bytes, 2 * e.counters.bytes) << "bytes of " << c.entry;
    EXPECT_EQ(after.errors - counters_before.errors, 2 * e.counters.errors) << "errors of " << c.entry;
  }
}

// Every case at both hooks, but for frames the kernel cannot test-run as skbs.
std::vector<std::tuple<Case, bool>> all_runs() {
  std::vector<std::tuple<Case, bool>> runs;
  for (auto& c : cases::all_cases()) {
    runs.emplace_back(c, true);
    if (!c.xdp_only) runs.emplace_back(c, false);
  }
  return runs;
}

INSTANTIATE_TEST_SUITE_P(Cases, Packet, ::testing::ValuesIn(all_runs()),
                         [](const auto& info) {
                           return std::get<0>(info.param).name + (std::get<1>(info.param) ? "_XDP" : "_TC");
                         });

const Case& case_named(const std::string& name) {
  static const std::vector<Case> all = cases::all_cases();
  for (const Case& c : all)
    if (c.name == name) return c;
  throw std::runtime_error("no case " + name);
}

double ms_since(const std::chrono::steady_clock::time_point& t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// PMTUD's errors are rate limited as the kernel's global ICMP budget
// (1000/s, bursts of 50): 60 too-big packets at once get 50 Packet Too Big
// and 10 drops (pmtu_ratelimited), but for one more error per millisecond
// that passed meanwhile. BPF_PROG_TEST_RUN uses the real clock, so the
// bound is the time the runs took; the first 50 are certain.
TEST(Pmtud, RateLimitedToBurstsOf50) {
  const Case& c = case_named("HEncaps_too_big_for_egress_MTU");
  const std::string entry = c.entry;
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // a full bucket: 50 ms of credit
  auto reasons_before = g_inst->reasons();
  auto counters_before = entry_counters(entry);
  int icmp = 0, limited = 0, first_limited = -1;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 60; i++) {
    Result r = run(g_inst->tc_prog_fd(), false, c.in);
    if (r.verdict == TC_ACT_REDIRECT) {
      icmp++;
      EXPECT_TRUE(r.out == c.tc.out) << "run " << i + 1 << "\n" << pkt::diff(c.tc.out, r.out);
    } else {
      EXPECT_EQ(r.verdict, TC_ACT_SHOT) << "run " << i + 1;
      if (first_limited < 0) first_limited = i;
      limited++;
    }
  }
  double ms = ms_since(t0);
  std::printf("[ pmtud    ] 60 too big in %.2f ms: %d errors sent, %d rate limited\n", ms, icmp, limited);
  EXPECT_EQ(icmp + limited, 60);
  EXPECT_TRUE(first_limited < 0 || first_limited >= 50) << "run " << first_limited + 1 << " limited";
  EXPECT_GE(icmp, 50);
  EXPECT_LE(icmp, 50 + int(ms)) << "in " << ms << " ms";
  if (ms < 1) EXPECT_EQ(limited, 10);
  auto reasons_after = g_inst->reasons();
  EXPECT_EQ(reasons_after[SRV6_DROP_PMTU_ICMP] - reasons_before[SRV6_DROP_PMTU_ICMP], uint64_t(icmp));
  EXPECT_EQ(reasons_after[SRV6_DROP_PMTU_LIMITED] - reasons_before[SRV6_DROP_PMTU_LIMITED], uint64_t(limited));
  for (uint32_t i = 0; i < SRV6_REASON__MAX; i++)
    if (i != SRV6_DROP_PMTU_ICMP && i != SRV6_DROP_PMTU_LIMITED)
      EXPECT_EQ(reasons_after[i], reasons_before[i]) << srv6::reason_name(static_cast<srv6_reason>(i));
  EXPECT_EQ(entry_counters(entry).errors - counters_before.errors, 60u) << "each one an error of " << entry;
  // a token per millisecond comes back
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  EXPECT_EQ(run(g_inst->tc_prog_fd(), false, c.in).verdict, TC_ACT_REDIRECT);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // full again for whatever runs next
}

// The router's own addresses go into the tables (so that they win), but
// are never listed: neither by Instance::sids() / policies() nor by
// `srv6ctl sid show` / `policy show`; a SID the operator put on a local
// address is listed, marked local.
std::string sh_out(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  char buf[4096];
  size_t n;
  while (f && (n = fread(buf, 1, sizeof buf, f.get())) > 0) out.append(buf, n);
  return out;
}

// The outer flow label of `flowlabel hash` (2001:db8:76::/64): one value per
// inner flow, the same at both hooks, and flows spread over many values.
uint32_t outer_label(const Result& r) {
  if (r.out.size() < 18) return 0xFFFFFFFF;
  return (uint32_t(r.out[15] & 0x0F) << 16) | (uint32_t(r.out[16]) << 8) | r.out[17];
}

pkt::Bytes flow_frame(const char* dst, uint16_t sport) {
  pkt::Packet p;
  p.eth(kInMac, kSenderMac).ipv6({.src = pkt::ip6("2001:db8:a::1"), .dst = pkt::ip6(dst), .flow_label = 0x11111});
  p.udp(sport, 53).payload("a flow");
  return p.build();
}

TEST(FlowLabel, HashPerInnerFlow) {
  std::set<uint32_t> labels;
  for (uint16_t port = 1000; port < 1064; port++) {
    auto in = flow_frame("2001:db8:76::1", port);
    Result x = run(g_inst->xdp_prog_fd(), true, in), t = run(g_inst->tc_prog_fd(), false, in);
    ASSERT_EQ(x.verdict, XDP_REDIRECT);
    ASSERT_EQ(t.verdict, TC_ACT_REDIRECT);
    EXPECT_EQ(outer_label(x), outer_label(t)) << "port " << port;
    EXPECT_EQ(outer_label(run(g_inst->xdp_prog_fd(), true, in)), outer_label(x)) << "stable, port " << port;
    EXPECT_NE(outer_label(x), 0x11111u) << "not the inner label";
    labels.insert(outer_label(x));
  }
  EXPECT_GE(labels.size(), 60u) << "64 flows, labels spread";
}

// Without `flowlabel`, the kernel's net.ipv6.seg6_flowlabel decides: 0
// copies the inner label, < 0 zeroes it, > 0 hashes the flow, followed by
// the instance (sync_sysctls, which every change and srv6d's beat run).
TEST(FlowLabel, DefaultFollowsSeg6Flowlabel) {
  auto set = [](int v) {
    std::ofstream("/proc/sys/net/ipv6/seg6_flowlabel") << v;
    g_inst->sync_sysctls();
  };
  auto in = flow_frame("2001:db8:78::1", 1000);
  auto hashed = outer_label(run(g_inst->xdp_prog_fd(), true, flow_frame("2001:db8:76::1", 1000)));
  set(-1);
  EXPECT_EQ(outer_label(run(g_inst->xdp_prog_fd(), true, in)), 0u);
  EXPECT_EQ(outer_label(run(g_inst->tc_prog_fd(), false, in)), 0u);
  set(1);
  uint32_t h = outer_label(run(g_inst->xdp_prog_fd(), true, in));
  EXPECT_NE(h, 0x11111u);
  EXPECT_EQ(outer_label(run(g_inst->tc_prog_fd(), false, in)), h);
  EXPECT_NE(hashed, 0xFFFFFFFFu);
  set(0);
  EXPECT_EQ(outer_label(run(g_inst->xdp_prog_fd(), true, in)), 0x11111u);
  EXPECT_EQ(outer_label(run(g_inst->tc_prog_fd(), false, in)), 0x11111u);
}

// H.Encaps of IPv4 without `hoplimit`: the outer hop limit is the hop_limit
// sysctl of the device the first SID leaves by (the kernel's
// ip6_dst_hoplimit of its route's device), followed by sync_sysctls.
TEST(HopLimit, IPv4OuterFollowsTheEgressDevice) {
  pkt::Packet p;
  p.eth(kInMac, kSenderMac).ipv4({.src = pkt::ip4("192.0.2.1"), .dst = pkt::ip4("10.72.0.1"), .ttl = 30});
  auto in = p.udp(1, 2).payload("v4").build();
  auto outer_hl = [&](bool xdp) {
    Result r = run(xdp ? g_inst->xdp_prog_fd() : g_inst->tc_prog_fd(), xdp, in);
    EXPECT_EQ(r.verdict, xdp ? XDP_REDIRECT : TC_ACT_REDIRECT);
    return r.out.size() > 21 ? int(r.out[21]) : -1;
  };
  EXPECT_EQ(outer_hl(true), 63);  // out0's default 64, less this hop
  std::ofstream("/proc/sys/net/ipv6/conf/out0/hop_limit") << 20;
  g_inst->sync_sysctls();
  EXPECT_EQ(outer_hl(true), 19);
  EXPECT_EQ(outer_hl(false), 19);
  std::ofstream("/proc/sys/net/ipv6/conf/out0/hop_limit") << 64;
  g_inst->sync_sysctls();
  EXPECT_EQ(outer_hl(false), 63);
}

// tunsrc as `ip sr tunsrc`: set, shown, cleared with ::.
TEST(Tunsrc, SetShowClear) {
  std::string cli = std::string(SRV6CTL) + " --instance " + g_inst->name() + " ";
  EXPECT_EQ(sh_out(cli + "tunsrc show"), "tunsrc fc00:77::77\n");
  EXPECT_EQ(system((cli + "tunsrc set fd00:1::1").c_str()), 0);
  EXPECT_EQ(sh_out(cli + "-j tunsrc show"), "{\"tunsrc\":\"fd00:1::1\"}\n");
  EXPECT_NE(system((cli + "tunsrc set ff02::1 2>/dev/null").c_str()), 0);
  EXPECT_EQ(sh_out(cli + "tunsrc show"), "tunsrc fd00:1::1\n") << "refused: unchanged";
  EXPECT_EQ(system((cli + "tunsrc set ::").c_str()), 0);
  EXPECT_FALSE(g_inst->tunsrc());
  g_inst->set_tunsrc(srv6::parse_addr6("fc00:77::77"));  // the fixture's, for the cases
}

// `link set DEV table ID` binds a device to a table: the datapath (the
// Tenant* cases) and the kernel's rules, which route what the datapath
// leaves to the kernel in the table and never fall through to main.
TEST(LinkTable, RulesFollowTheBinding) {
  std::string cli = std::string(SRV6CTL) + " --instance " + g_inst->name() + " ";
  auto rules = [](const char* fam) { return sh_out(std::string("ip ") + fam + " rule show"); };
  for (const char* fam : {"-4", "-6"}) {
    EXPECT_NE(rules(fam).find("1000:\tfrom all iif ten1 lookup 100"), std::string::npos) << fam << rules(fam);
    EXPECT_NE(rules(fam).find("1001:\tfrom all iif ten1 unreachable"), std::string::npos) << fam;
    EXPECT_NE(rules(fam).find("iif ten2 lookup 200"), std::string::npos) << fam;
  }
  // the kernel's path: ten1's traffic in table 100 (out1), ten2's table 200
  // has no route, and main (which has one, out0) is never asked
  EXPECT_NE(sh_out("ip route get 10.20.0.5 from 192.0.2.9 iif ten1 2>&1").find("dev out1"), std::string::npos);
  EXPECT_NE(sh_out("ip route get 10.20.0.5 from 192.0.2.9 iif in0 2>&1").find("dev out0"), std::string::npos);
  EXPECT_EQ(sh_out("ip route get 10.20.0.5 from 192.0.2.9 iif ten2 2>&1").find("dev out"), std::string::npos);
  EXPECT_EQ(sh_out("ip -6 route get 2001:db8:b::1 from 2001:db8:a::9 iif ten2 2>&1").find("dev out"),
            std::string::npos);

  std::string shown = sh_out(cli + "-j link show");
  EXPECT_NE(shown.find(R"({"dev":"ten1","ifindex":)"), std::string::npos) << shown;
  EXPECT_NE(shown.find(R"("hook":"none","table":100)"), std::string::npos) << shown;
  // rebinding moves the rules; main removes them
  EXPECT_EQ(system((cli + "link set ten2 table 300").c_str()), 0);
  for (const char* fam : {"-4", "-6"}) {
    EXPECT_EQ(rules(fam).find("iif ten2 lookup 200"), std::string::npos) << fam;
    EXPECT_NE(rules(fam).find("iif ten2 lookup 300"), std::string::npos) << fam;
  }
  EXPECT_EQ(system((cli + "link set ten2 table main").c_str()), 0);
  for (const char* fam : {"-4", "-6"}) EXPECT_EQ(rules(fam).find("iif ten2"), std::string::npos) << fam;
  EXPECT_EQ(sh_out(cli + "-j link show").find("ten2"), std::string::npos);
  // refusals change nothing
  EXPECT_NE(sh_out(cli + "link set ten2 table local 2>&1").find("table local cannot take a device"), std::string::npos);
  EXPECT_NE(sh_out(cli + "link set nosuch0 table 5 2>&1").find("nosuch0"), std::string::npos);
  EXPECT_EQ(rules("-4").find("iif ten2"), std::string::npos);
  g_inst->set_link_table("ten2", 200);  // the fixture's, for the cases
  EXPECT_NE(rules("-6").find("iif ten2 lookup 200"), std::string::npos);
  // the kernel's rules are the source of truth: a rule taken away takes
  // the binding with it at the next sync (every change, srv6d each second)
  auto bound = [] {
    for (const auto& t : g_inst->link_tables())
      if (t.dev == "ten2") return t.table;
    return uint32_t{0};
  };
  EXPECT_EQ(bound(), 200u);
  ASSERT_EQ(system("ip -6 rule del pref 1000 iif ten2"), 0);
  g_inst->sync_sysctls();
  EXPECT_EQ(bound(), 0u);
  g_inst->set_link_table("ten2", 200);
  EXPECT_EQ(bound(), 200u);
  EXPECT_NE(rules("-6").find("iif ten2 lookup 200"), std::string::npos);
}

TEST(LocalAddresses, NeverListedASidOnOneMarked) {
  const std::map<std::string, bool> want_sids = {
      {"fc00:1::e/128", false}, {"fc00:1::a/128", false},    {"fc00:1::b/128", false}, {"fc00:1::7/128", false},
      {"fc00:1:100::/48", false}, {"fd00:1::/64", false}, {"fd00:2::1/128", true},
      {"fc00:1::d4/128", false},  {"fc00:1::d40/128", false}, {"fc00:1::d6/128", false}, {"fc00:1::d60/128", false},
      {"fc00:1::74/128", false},  {"fc00:1::76/128", false},  {"fc00:1::46/128", false}};
  std::map<std::string, bool> sids;
  for (auto& s : g_inst->sids()) {
    EXPECT_NE(s.config.action, SRV6_ACTION_UNSPEC) << srv6::format_prefix6(s.config.sid);
    sids[srv6::format_prefix6(s.config.sid)] = s.local;
  }
  EXPECT_EQ(sids, want_sids);
  // the local table's prefixes (ip route show table local), never policies
  const std::set<std::string> locals = {"127.0.0.0/8", "127.0.0.1/32", "127.255.255.255/32", "198.18.1.1/32",
                                        "198.18.1.255/32"};
  size_t n = 0;
  for (auto& p : g_inst->policies()) {
    std::string name = srv6::format_prefix(p.config.prefix);
    EXPECT_EQ(locals.count(name), 0u) << name;
    EXPECT_FALSE(p.local) << name;
    n += name == "198.18.0.0/15" || name == "fd00:3::/64";
  }
  EXPECT_EQ(n, 2u) << "the policies covering local addresses are listed";

  // srv6ctl, in this namespace, on this instance
  std::string cli = std::string(SRV6CTL) + " --instance " + g_inst->name() + " -j ";
  auto js = nlohmann::json::parse(sh_out(cli + "sid show"));
  std::map<std::string, bool> cli_sids;
  for (auto& s : js) cli_sids[s.at("sid").get<std::string>()] = s.value("local", false);
  EXPECT_EQ(cli_sids, want_sids);
  // each behaviour's attributes, as its row names them
  std::map<std::string, nlohmann::json> by_sid;
  for (auto& s : js) by_sid[s.at("sid").get<std::string>()] = s;
  EXPECT_EQ(by_sid["fc00:1::d4/128"].value("action", ""), "End.DX4");
  EXPECT_EQ(by_sid["fc00:1::d4/128"].value("nh4", ""), "198.18.2.2");
  EXPECT_EQ(by_sid["fc00:1::d40/128"].value("nh4", ""), "0.0.0.0");
  EXPECT_EQ(by_sid["fc00:1::d60/128"].value("nh6", ""), "::");
  EXPECT_FALSE(by_sid["fc00:1::d60/128"].contains("nh4"));
  EXPECT_EQ(by_sid["fc00:1::46/128"].value("action", ""), "End.DT46");
  EXPECT_EQ(by_sid["fc00:1::46/128"].value("table", 0), 100);
  EXPECT_NE(sh_out(std::string(SRV6CTL) + " --instance " + g_inst->name() + " sid show fc00:1::d4")
                .find("nh4 198.18.2.2"),
            std::string::npos);
  auto jp = nlohmann::json::parse(sh_out(cli + "policy show"));
  EXPECT_EQ(jp.size(), g_inst->policies().size());
  for (auto& p : jp) {
    EXPECT_EQ(locals.count(p.at("prefix").get<std::string>()), 0u) << p.dump();
    EXPECT_FALSE(p.value("local", false)) << p.dump();
  }
}

// The builder's checksums, against values computed by hand (a separate
// implementation) and against the rules a receiver applies.
TEST(Builder, Checksums) {
  // RFC 1071 1.(4)'s example: 0001 f203 f4f5 f6f7 sums to ddf2
  const uint8_t rfc1071[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(pkt::ones_sum(rfc1071, 8), 0xddf2);
  EXPECT_EQ(pkt::checksum(rfc1071, 8), 0x220d);
  auto field = [](const pkt::Bytes& b, size_t off) { return uint16_t(b[off] << 8 | b[off + 1]); };
  // IPv4 TCP 192.0.2.1:443 -> 203.0.113.9:50000, seq 1, ack 2, PSH ACK, "abc"
  auto tcp4 = [](bool partial) {
    pkt::Packet p;
    p.ipv4({.src = pkt::ip4("192.0.2.1"), .dst = pkt::ip4("203.0.113.9")});
    p.tcp({.sport = 443, .dport = 50000, .seq = 1, .ack = 2, .partial = partial}).payload("abc");
    return p.build();
  };
  EXPECT_EQ(field(tcp4(false), 20 + 16), 0x284d);
  EXPECT_EQ(field(tcp4(true), 20 + 16), 0xfe28);
  EXPECT_EQ(tcp4(false)[20 + 12], 5 << 4) << "data offset";
  // IPv6 UDP 2001:db8:a::1:1111 -> 2001:db8:b::1:2222, "hello"
  auto udp6 = [](bool partial) {
    pkt::Packet p;
    p.ipv6({.src = pkt::ip6("2001:db8:a::1"), .dst = pkt::ip6("2001:db8:b::1")});
    p.udp({.sport = 1111, .dport = 2222, .partial = partial}).payload("hello");
    return p.build();
  };
  EXPECT_EQ(field(udp6(false), 40 + 6), 0x5374);
  EXPECT_EQ(field(udp6(true), 40 + 6), 0x5ba7);
  // a device finishing a partial checksum (sum from the transport header
  // on, field included, complemented) gives the complete one
  auto done = tcp4(true);
  EXPECT_EQ(pkt::checksum(done.data() + 20, done.size() - 20), 0x284d);
  done = udp6(true);
  EXPECT_EQ(pkt::checksum(done.data() + 40, done.size() - 40), 0x5374);
  // the fixed point survives such a device
  for (size_t len : {8, 9, 20, 101, 1232}) {
    pkt::Bytes b(len);
    for (size_t i = 0; i < len; i++) b[i] = uint8_t(i * 37 + len);
    uint16_t f = pkt::offload_fixed_point(b.data(), len, 6);
    b[6] = uint8_t(f >> 8), b[7] = uint8_t(f);
    EXPECT_EQ(pkt::checksum(b.data(), len), f) << len << " bytes";
  }
  // a Packet Too Big verifies as ICMPv6 (pseudo header included), a
  // Fragmentation Needed as ICMP
  pkt::Packet ptb;
  ptb.ipv6({.src = pkt::ip6("fd00:1::1"), .dst = pkt::ip6("2001:db8:a::1")}).icmp6_too_big({.mtu = 1216}).payload("quote");
  auto b = ptb.build();
  pkt::Bytes pseudo(b.begin() + 8, b.begin() + 40);
  for (int x : {0, 0, 0, int(b.size() - 40), 0, 0, 0, 58}) pseudo.push_back(uint8_t(x));
  pseudo.insert(pseudo.end(), b.begin() + 40, b.end());
  EXPECT_EQ(pkt::ones_sum(pseudo.data(), pseudo.size()), 0xffff);
  EXPECT_EQ(b[40], 2);
  EXPECT_EQ(field(b, 44) << 16 | field(b, 46), 1216);
  pkt::Packet fn;
  fn.ipv4({.src = pkt::ip4("198.18.1.1"), .dst = pkt::ip4("192.0.2.1")}).icmp_frag_needed({.mtu = 1216}).payload("quote");
  b = fn.build();
  EXPECT_EQ(pkt::ones_sum(b.data() + 20, b.size() - 20), 0xffff);
  EXPECT_EQ(b[20], 3);
  EXPECT_EQ(b[21], 4);
  EXPECT_EQ(field(b, 24), 0);
  EXPECT_EQ(field(b, 26), 1216);
}


}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(
      new cases::FixtureEnv(
          "pkttest",
          [](srv6::Instance& inst) {
            g_inst = &inst;
            g_watch = std::make_unique<srv6::FibWatch>(inst);
          },
          [] {
            auto st = g_inst->fwd_cache();
            std::printf("forwarding cache: %llu hits, %llu misses\n", (unsigned long long)st.hits,
                        (unsigned long long)st.misses);
            g_watch.reset();
          }));
  return RUN_ALL_TESTS();
}
