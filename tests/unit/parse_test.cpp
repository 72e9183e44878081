// srv6ctl's parser: every accepted form and every refusal.
#include <gtest/gtest.h>

#include <sstream>

#include "parse.hpp"

using namespace srv6;
using namespace srv6::cli;

namespace {

// "sid add fc00::1 action End" -> tokens.
std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> v;
  for (std::string tok; in >> tok;) v.push_back(tok);
  return v;
}

Command P(const std::string& line) { return parse(split(line)); }

template <typename T>
T as(const std::string& line) {
  Command c = P(line);
  EXPECT_TRUE(std::holds_alternative<T>(c.action)) << line << ": action index " << c.action.index();
  return std::holds_alternative<T>(c.action) ? std::get<T>(c.action) : T{};
}

// The parser refuses `line` with a message containing every needle.
void refuses(const std::string& line, std::initializer_list<std::string> needles) {
  try {
    P(line);
    ADD_FAILURE() << "accepted: " << line;
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "multi-line message: " << msg;
    for (const auto& n : needles)
      EXPECT_NE(msg.find(n), std::string::npos) << line << " -> \"" << msg << "\" lacks \"" << n << "\"";
  }
}

Addr6 a6(const char* s) { return parse_addr6(s); }

}  // namespace

// ---- global options ----

TEST(Globals, Defaults) {
  Command c = P("stats");
  EXPECT_EQ(c.globals, Globals{});
  EXPECT_FALSE(c.globals.json);
  EXPECT_FALSE(c.globals.stats);
  EXPECT_EQ(c.globals.netns, "");
  EXPECT_EQ(c.globals.instance, "default");
}

TEST(Globals, AllSpellings) {
  for (const char* j : {"-j", "-json", "--json"}) EXPECT_TRUE(P(std::string(j) + " stats").globals.json) << j;
  for (const char* s : {"-s", "-stats", "--stats"})
    EXPECT_TRUE(P(std::string(s) + " sid show").globals.stats) << s;
  Command c = P("-j -s -n blue --instance lab policy show");
  EXPECT_TRUE(c.globals.json);
  EXPECT_TRUE(c.globals.stats);
  EXPECT_EQ(c.globals.netns, "blue");
  EXPECT_EQ(c.globals.instance, "lab");
  EXPECT_TRUE(std::holds_alternative<PolicyShow>(c.action));
  EXPECT_EQ(P("-netns /proc/1/ns/net stats").globals.netns, "/proc/1/ns/net");
}

TEST(Globals, Help) {
  for (const char* h : {"help", "-h", "--help", "-j -h", "sid help", "policy help"})
    EXPECT_TRUE(std::holds_alternative<Help>(P(h).action)) << h;
  EXPECT_NE(std::string(usage()).find("sid add"), std::string::npos);
}

TEST(Globals, Refusals) {
  refuses("", {"missing command"});
  refuses("-j", {"missing command"});
  refuses("-x stats", {"unknown option -x"});
  refuses("-n", {"missing value for -n"});
  refuses("-n a -n b stats", {"duplicate option -n"});
  refuses("--instance", {"missing value for --instance"});
  refuses("--instance ../x stats", {"invalid instance name ../x"});
  refuses("--instance a --instance b stats", {"duplicate option --instance"});
  refuses("frobnicate", {"unknown command frobnicate"});
  refuses("stats -j", {"stats: unexpected argument -j"});  // options only before the command
}

TEST(Parse, ArgcArgv) {
  const char* argv[] = {"srv6ctl", "-j", "sid", "del", "fc00::1"};
  Command c = parse(5, argv);
  EXPECT_TRUE(c.globals.json);
  EXPECT_EQ(std::get<SidDel>(c.action).sid, parse_prefix6("fc00::1/128"));
}

// ---- attach / detach ----

TEST(Attach, Defaults) {
  Attach a = as<Attach>("attach eth0");
  EXPECT_EQ(a.dev, "eth0");
  EXPECT_EQ(a.hook, Hook::Xdp);
  EXPECT_EQ(a.mode, XdpMode::Auto);
  EXPECT_EQ(a.egress, Egress::Auto);
}

TEST(Attach, AllForms) {
  EXPECT_EQ(as<Attach>("attach eth0 xdp").hook, Hook::Xdp);
  Attach tc = as<Attach>("attach veth1 tc");
  EXPECT_EQ(tc.dev, "veth1");
  EXPECT_EQ(tc.hook, Hook::Tc);
  EXPECT_EQ(as<Attach>("attach eth0 xdp mode native").mode, XdpMode::Native);
  EXPECT_EQ(as<Attach>("attach eth0 mode generic").mode, XdpMode::Generic);
  EXPECT_EQ(as<Attach>("attach eth0 egress skb").egress, Egress::Skb);
  EXPECT_EQ(as<Attach>("attach eth0 egress xdp").egress, Egress::Xdp);
  EXPECT_EQ(as<Attach>("attach eth0 egress auto").egress, Egress::Auto);
  Attach any = as<Attach>("attach eth0 egress skb mode generic xdp");
  EXPECT_EQ(any.hook, Hook::Xdp);
  EXPECT_EQ(any.mode, XdpMode::Generic);
  EXPECT_EQ(any.egress, Egress::Skb);
}

TEST(Attach, Refusals) {
  refuses("attach", {"attach: missing DEV"});
  refuses("attach eth0 tc mode native", {"attach", "mode is only valid with xdp"});
  refuses("attach eth0 tc egress skb", {"egress is only valid with xdp"});
  refuses("attach eth0 mode turbo", {"unknown mode turbo"});
  refuses("attach eth0 egress tc", {"unknown egress tc"});
  refuses("attach eth0 mode", {"missing value for mode"});
  refuses("attach eth0 xdp tc", {"duplicate keyword tc"});
  refuses("attach eth0 mode native mode generic", {"duplicate keyword mode"});
  refuses("attach eth0 bogus", {"unknown keyword bogus"});
  refuses("attach averyveryverylongname", {"invalid device name averyveryverylongname"});
  refuses("attach a/b", {"invalid device name a/b"});
}

TEST(Detach, Forms) {
  EXPECT_EQ(as<Detach>("detach eth0").dev, "eth0");
  refuses("detach", {"detach: missing DEV"});
  refuses("detach eth0 xdp", {"detach: unexpected argument xdp"});
}

// ---- sid ----

TEST(SidAdd, End) {
  SidAdd s = as<SidAdd>("sid add fc00::1 action End");
  EXPECT_EQ(s.config.sid, parse_prefix6("fc00::1/128"));
  EXPECT_EQ(s.config.action, SRV6_ACTION_END);
  EXPECT_FALSE(s.config.nh6);
  EXPECT_EQ(s.config.oif, 0u);
  EXPECT_EQ(s.config.oif_name, "");
  EXPECT_EQ(s.config.table, 0u);
  EXPECT_FALSE(s.count);
  EXPECT_TRUE(as<SidAdd>("sid add fc00::1 action End count").count);
  SidAdd loc = as<SidAdd>("sid add fc00:1::/48 action End");
  EXPECT_EQ(loc.config.sid.len, 48);
  EXPECT_EQ(loc.config.sid.addr, a6("fc00:1::"));
}

TEST(SidAdd, EndX) {
  SidAdd s = as<SidAdd>("sid add fc00::2 action End.X nh6 fc00::12");
  EXPECT_EQ(s.config.action, SRV6_ACTION_END_X);
  ASSERT_TRUE(s.config.nh6);
  EXPECT_EQ(*s.config.nh6, a6("fc00::12"));
  EXPECT_EQ(s.config.oif_name, "");

  SidAdd o = as<SidAdd>("sid add fc00::2/128 action End.X nh6 fe80::1 oif eth1 count");
  EXPECT_EQ(*o.config.nh6, a6("fe80::1"));
  EXPECT_EQ(o.config.oif_name, "eth1");
  EXPECT_EQ(o.config.oif, 0u);  // the parser does no lookups
  EXPECT_TRUE(o.count);

  // Keywords in any order.
  SidAdd r = as<SidAdd>("sid add fc00::2 action End.X oif veth0 nh6 fc00::1");
  EXPECT_EQ(r.config.oif_name, "veth0");
  EXPECT_EQ(*r.config.nh6, a6("fc00::1"));
  SidAdd c = as<SidAdd>("sid add fc00::2 count action End.X nh6 fc00::1");
  EXPECT_TRUE(c.count);
}

TEST(SidAdd, EndT) {
  SidAdd s = as<SidAdd>("sid add fc00::3 action End.T table 100");
  EXPECT_EQ(s.config.action, SRV6_ACTION_END_T);
  EXPECT_EQ(s.config.table, 100u);
  EXPECT_EQ(as<SidAdd>("sid add fc00::3 table 4294967295 action End.T").config.table, 4294967295u);
  EXPECT_EQ(as<SidAdd>("sid add fc00::3 action End.T table main").config.table, 254u);
}

TEST(SidAdd, Decap) {
  SidAdd s = as<SidAdd>("sid add fc00::4 action End.DX4 nh4 10.0.0.2 oif eth0");
  EXPECT_EQ(s.config.action, SRV6_ACTION_END_DX4);
  EXPECT_EQ(s.config.nh4, (srv6::Addr4{10, 0, 0, 2}));
  EXPECT_EQ(s.config.oif_name, "eth0");
  EXPECT_EQ(as<SidAdd>("sid add fc00::4 action End.DX4 nh4 0.0.0.0").config.nh4, (srv6::Addr4{}));
  s = as<SidAdd>("sid add fc00::5 action End.DX6 nh6 ::");
  EXPECT_EQ(s.config.action, SRV6_ACTION_END_DX6);
  EXPECT_EQ(s.config.nh6, srv6::Addr6{});
  EXPECT_EQ(as<SidAdd>("sid add fc00::5 action End.DX6 nh6 fe80::1 oif eth1").config.oif_name, "eth1");
  for (std::string a : {"End.DT4", "End.DT6", "End.DT46"}) {
    EXPECT_EQ(as<SidAdd>("sid add fc00::6 action " + a + " table 100").config.table, 100u);
    // iproute2's vrftable: the same table, looked up without a VRF device
    EXPECT_EQ(as<SidAdd>("sid add fc00::6 action " + a + " vrftable 200").config.table, 200u);
  }
  EXPECT_EQ(as<SidAdd>("sid add fc00::6 action End.DT46 table 7").config.action, SRV6_ACTION_END_DT46);
}

TEST(SidAdd, Refusals) {
  refuses("sid add", {"sid add: missing SID"});
  refuses("sid add fc00::1", {"sid add: missing action"});
  refuses("sid add fc00::1 action", {"missing value for action"});
  refuses("sid add fc00::1 action End.Q", {"sid add: unknown action End.Q"});
  refuses("sid add fc00::1 action end", {"unknown action end"});
  refuses("sid add fc00::1 action End.DX2 oif eth0", {"unknown action End.DX2 (End|End.X|End.T|End.DX4"});
  refuses("sid add fc00::1 action End.DX4", {"End.DX4 needs nh4"});
  refuses("sid add fc00::1 action End.DX4 nh4 10.0.0.256", {"invalid IPv4 address: 10.0.0.256"});
  refuses("sid add fc00::1 action End.DX4 nh4 fc00::1", {"invalid IPv4 address: fc00::1"});
  refuses("sid add fc00::1 action End.DX4 nh4 255.255.255.255", {"must be unicast"});
  refuses("sid add fc00::1 action End.DX4 nh4 10.0.0.1 table 5", {"End.DX4: table 5 not allowed"});
  refuses("sid add fc00::1 action End.DX6", {"End.DX6 needs nh6"});
  refuses("sid add fc00::1 action End.DX6 nh6 fe80::1", {"End.DX6: link-local nh6 fe80::1 needs oif"});
  refuses("sid add fc00::1 action End.DT46", {"End.DT46 needs table"});
  refuses("sid add fc00::1 action End.DT6 table 5 vrftable 5", {"duplicate keyword vrftable"});
  refuses("sid add fc00::1 action End.DT4 table 5 nh4 10.0.0.1", {"End.DT4: nh4 10.0.0.1 not allowed"});
  refuses("sid add fc00::1 action End.X", {"sid add: End.X needs nh6"});
  refuses("sid add fc00::1 action End.X nh6", {"missing value for nh6"});
  refuses("sid add fc00::1 action End.X nh6 fc00::zz", {"fc00::zz"});
  refuses("sid add fc00::1 action End.X nh6 fe80::1", {"link-local nh6 fe80::1 needs oif"});
  refuses("sid add fc00::1 action End.X nh6 ff02::1 oif eth0", {"ff02::1", "multicast"});
  refuses("sid add fc00::1 action End.X nh6 :: oif eth0", {"nh6 must not be ::"});
  refuses("sid add fc00::1 action End.X nh6 fc00::2 table 5", {"End.X: table 5"});
  refuses("sid add fc00::1 action End.X nh6 fc00::2 oif x/y", {"invalid device name x/y"});
  refuses("sid add fc00::1 action End table 100", {"sid add: End: table 100"});
  refuses("sid add fc00::1 action End nh6 fc00::2", {"End: nh6 fc00::2"});
  refuses("sid add fc00::1 action End oif eth0", {"End: oif eth0"});
  refuses("sid add fc00::1 action End.T", {"End.T needs table"});
  refuses("sid add fc00::1 action End.T table 0", {"table 0"});
  refuses("sid add fc00::1 action End.T table 4294967296", {"table 4294967296"});
  refuses("sid add fc00::1 action End.T table 99999999999999999999999", {"99999999999999999999999"});
  refuses("sid add fc00::1 action End.T table -1", {"invalid table -1"});
  refuses("sid add fc00::1 action End.T table ten", {"invalid table ten"});
  refuses("sid add fc00::1 action End.T table 10 nh6 fc00::2", {"End.T: nh6 fc00::2"});
  refuses("sid add fc00::1 action End.T table 10 oif eth0", {"End.T: oif eth0"});
  refuses("sid add fc00::1 action End action End", {"duplicate keyword action"});
  refuses("sid add fc00::1 action End count count", {"duplicate keyword count"});
  refuses("sid add fc00::1 action End.X nh6 fc00::2 nh6 fc00::3", {"duplicate keyword nh6"});
  refuses("sid add fc00::1 action End via fc00::2", {"unknown keyword via"});
  refuses("sid add fc00::1 action End extra", {"unknown keyword extra"});
  refuses("sid add fc00::1/129 action End", {"fc00::1/129"});
  refuses("sid add fc00::1/64 action End", {"fc00::1/64", "host bits"});
  refuses("sid add fc00::/abc action End", {"fc00::/abc"});
  refuses("sid add 10.0.0.1 action End", {"10.0.0.1"});
  refuses("sid add ff02::1 action End", {"ff02::1", "multicast"});
  refuses("sid add :: action End", {"::/128", "must not be ::"});
}

TEST(SidDel, Forms) {
  EXPECT_EQ(as<SidDel>("sid del fc00::1").sid, parse_prefix6("fc00::1"));
  EXPECT_EQ(as<SidDel>("sid delete fc00:1::/48").sid.len, 48);
  refuses("sid del", {"sid del: missing SID"});
  refuses("sid del fc00::1 action End", {"sid del: unexpected argument action"});
  refuses("sid del fc00::1/64", {"fc00::1/64"});
}

TEST(SidShow, Forms) {
  EXPECT_FALSE(as<SidShow>("sid show").sid);
  EXPECT_FALSE(as<SidShow>("sid").sid);  // no subcommand: show, as ip does
  EXPECT_FALSE(as<SidShow>("sid list").sid);
  SidShow one = as<SidShow>("sid show fc00::1");
  ASSERT_TRUE(one.sid);
  EXPECT_EQ(*one.sid, parse_prefix6("fc00::1/128"));
  refuses("sid show fc00::1 fc00::2", {"sid show: unexpected argument fc00::2"});
  refuses("sid show nope", {"sid show", "nope"});
  refuses("sid frob", {"sid: unknown command frob"});
}

// ---- policy ----

TEST(PolicyAdd, Forms) {
  PolicyAdd p = as<PolicyAdd>("policy add 10.0.0.0/24 encap segs fc00::1,fc00::2");
  ASSERT_TRUE(std::holds_alternative<Prefix4>(p.config.prefix));
  EXPECT_EQ(std::get<Prefix4>(p.config.prefix), (Prefix4{{10, 0, 0, 0}, 24}));
  EXPECT_EQ(p.config.mode, SRV6_ENCAP);
  EXPECT_EQ(p.config.segs, (std::vector<Addr6>{a6("fc00::1"), a6("fc00::2")}));
  EXPECT_FALSE(p.config.src);

  PolicyAdd r = as<PolicyAdd>("policy add 2001:db8::/32 encap.red src fc00::99 segs fc00::5");
  EXPECT_EQ(std::get<Prefix6>(r.config.prefix), parse_prefix6("2001:db8::/32"));
  EXPECT_EQ(r.config.mode, SRV6_ENCAP_RED);
  EXPECT_EQ(r.config.segs, std::vector<Addr6>{a6("fc00::5")});
  ASSERT_TRUE(r.config.src);
  EXPECT_EQ(*r.config.src, a6("fc00::99"));

  EXPECT_EQ(std::get<Prefix4>(as<PolicyAdd>("policy add 192.0.2.1 encap segs fc00::1").config.prefix).len, 32);

  std::string sixteen = "fc00::1";
  for (int i = 2; i <= 16; i++) sixteen += ",fc00::" + std::to_string(i);
  PolicyAdd many = as<PolicyAdd>("policy add 10.0.0.0/8 encap segs " + sixteen);
  ASSERT_EQ(many.config.segs.size(), 16u);
  EXPECT_EQ(many.config.segs[15], a6("fc00::16"));
}

// A policy lives in a table: `table ID` after the prefix, main without it.
TEST(PolicyAdd, Tables) {
  EXPECT_EQ(as<PolicyAdd>("policy add 10.0.0.0/24 encap segs fc00::1").config.table, SRV6_TABLE_MAIN);
  auto p = as<PolicyAdd>("policy add 10.0.0.0/24 table 100 encap.red segs fc00::1");
  EXPECT_EQ(p.config.table, 100u);
  EXPECT_EQ(p.config.mode, SRV6_ENCAP_RED);
  EXPECT_EQ(as<PolicyAdd>("policy add 2001:db8::/32 table main encap segs fc00::1").config.table, SRV6_TABLE_MAIN);
  EXPECT_EQ(as<PolicyAdd>("policy add 2001:db8::/32 table 4294967295 encap segs fc00::1").config.table, 4294967295u);
  refuses("policy add 10.0.0.0/24 table encap segs fc00::1", {"invalid table encap"});
  refuses("policy add 10.0.0.0/24 table 0 encap segs fc00::1", {"table 0 out of range"});
  refuses("policy add 10.0.0.0/24 table local encap segs fc00::1", {"table local cannot hold policies"});
  refuses("policy add 10.0.0.0/24 table", {"missing table ID"});
  EXPECT_EQ(as<PolicyDel>("policy del 10.0.0.0/24 table 200").table, 200u);
  EXPECT_EQ(as<PolicyDel>("policy del 10.0.0.0/24").table, SRV6_TABLE_MAIN);
  refuses("policy del 10.0.0.0/24 table 200 extra", {"unexpected argument extra"});
}

TEST(LinkSet, Forms) {
  auto l = as<LinkSet>("link set eth1 table 100");
  EXPECT_EQ(l.dev, "eth1");
  EXPECT_EQ(l.table, 100u);
  EXPECT_EQ(as<LinkSet>("link set eth1 table main").table, SRV6_TABLE_MAIN);
  refuses("link set eth1", {"link set: needs table ID|main"});
  refuses("link set eth1 table", {"missing table ID"});
  refuses("link set eth1 table local", {"table local cannot take a device"});
  refuses("link set eth1 table 7 extra", {"unexpected argument extra"});
  refuses("link set", {"missing DEV"});
}

TEST(PolicyAdd, OuterFields) {
  auto p = as<PolicyAdd>("policy add 10.0.0.0/8 encap.red segs fc00::1 hoplimit 9 tclass 0xb8 flowlabel 74565");
  EXPECT_EQ(p.config.hoplimit, (OuterField{OuterField::Value, 9}));
  EXPECT_EQ(p.config.tclass, (OuterField{OuterField::Value, 0xb8}));
  EXPECT_EQ(p.config.flowlabel, (OuterField{OuterField::Value, 74565}));
  p = as<PolicyAdd>("policy add 2001:db8::/32 encap segs fc00::1 flowlabel hash hoplimit inherit tclass inherit");
  EXPECT_EQ(p.config.flowlabel.kind, OuterField::Hash);
  EXPECT_EQ(p.config.hoplimit.kind, OuterField::Inherit);
  EXPECT_EQ(p.config.tclass.kind, OuterField::Inherit);
  EXPECT_EQ(as<PolicyAdd>("policy add 2001:db8::/32 encap segs fc00::1").config.flowlabel.kind, OuterField::Default);
  EXPECT_EQ(as<PolicyAdd>("policy add 2001:db8::/32 encap segs fc00::1 flowlabel inherit").config.flowlabel.kind,
            OuterField::Inherit);
  refuses("policy add 10.0.0.0/8 encap segs fc00::1 hoplimit 0", {"hoplimit 0 out of range (1..255)"});
  refuses("policy add 10.0.0.0/8 encap segs fc00::1 hoplimit 256", {"hoplimit 256 out of range"});
  refuses("policy add 10.0.0.0/8 encap segs fc00::1 hoplimit hash", {"invalid hoplimit hash (N|inherit)"});
  refuses("policy add 10.0.0.0/8 encap segs fc00::1 tclass 300", {"tclass 300 out of range (0..255)"});
  refuses("policy add 10.0.0.0/8 encap segs fc00::1 flowlabel 0x100000", {"flowlabel 1048576 out of range"});
  refuses("policy add 10.0.0.0/8 encap segs fc00::1 flowlabel -1", {"invalid flowlabel -1 (N|inherit|hash)"});
  refuses("policy add 10.0.0.0/8 encap segs fc00::1 tclass 1 tclass 2", {"duplicate keyword tclass"});
}

TEST(Tunsrc, Forms) {
  EXPECT_EQ(as<TunsrcSet>("tunsrc set fc00::1").addr, parse_addr6("fc00::1"));
  EXPECT_EQ(as<TunsrcSet>("tunsrc set ::").addr, Addr6{});
  as<TunsrcShow>("tunsrc show");
  as<TunsrcShow>("tunsrc");
  refuses("tunsrc set", {"tunsrc set: missing ADDR"});
  refuses("tunsrc set 10.0.0.1", {"invalid IPv6 address: 10.0.0.1"});
  refuses("tunsrc set fc00::1 extra", {"unexpected argument extra"});
}

TEST(PolicyAdd, Refusals) {
  std::string seventeen = "fc00::1";
  for (int i = 2; i <= 17; i++) seventeen += ",fc00::" + std::to_string(i);
  refuses("policy add 10.0.0.0/8 encap segs " + seventeen, {"policy add: too many SIDs: 17 (at most 16)"});
  refuses("policy add", {"policy add: missing PREFIX"});
  refuses("policy add 10.0.0.0/24", {"missing mode"});
  refuses("policy add 10.0.0.0/24 inline segs fc00::1", {"unknown mode inline"});
  refuses("policy add 10.0.0.0/24 encap", {"policy add: missing segs"});
  refuses("policy add 10.0.0.0/24 encap segs", {"missing value for segs"});
  refuses("policy add 10.0.0.0/24 encap segs ,", {"empty SID in segs ,"});
  refuses("policy add 10.0.0.0/24 encap segs fc00::1,,fc00::2", {"fc00::1,,fc00::2"});
  refuses("policy add 10.0.0.0/24 encap segs fc00::1,", {"empty SID in segs fc00::1,"});
  refuses("policy add 10.0.0.0/24 encap segs fc00::1,bogus", {"bogus"});
  refuses("policy add 10.0.0.0/24 encap segs fc00::1,ff02::1", {"ff02::1", "multicast"});
  refuses("policy add 10.0.0.0/24 encap segs ::", {"must not be ::"});
  refuses("policy add 10.0.0.0/24 encap segs fc00::1 src ::", {"src must not be ::"});
  refuses("policy add 10.0.0.0/24 encap segs fc00::1 src ff02::1", {"src ff02::1"});
  refuses("policy add 10.0.0.0/24 encap segs fc00::1 src 10.0.0.1", {"10.0.0.1"});
  refuses("policy add 10.0.0.0/24 encap segs fc00::1 segs fc00::2", {"duplicate keyword segs"});
  refuses("policy add 10.0.0.0/24 encap segs fc00::1 encap", {"unknown keyword encap"});
  refuses("policy add 10.0.0.0/24 encap segs fc00::1 trailing", {"unknown keyword trailing"});
  refuses("policy add 10.0.0.1/24 encap segs fc00::1", {"10.0.0.1/24", "host bits"});
  refuses("policy add 10.0.0.0/33 encap segs fc00::1", {"10.0.0.0/33"});
  refuses("policy add 10.0.0/24 encap segs fc00::1", {"10.0.0/24"});
  refuses("policy add 2001:db8::1/32 encap segs fc00::1", {"2001:db8::1/32"});
}

TEST(PolicyDel, Forms) {
  EXPECT_EQ(std::get<Prefix4>(as<PolicyDel>("policy del 10.0.0.0/24").prefix), (Prefix4{{10, 0, 0, 0}, 24}));
  EXPECT_EQ(std::get<Prefix6>(as<PolicyDel>("policy delete 2001:db8::/32").prefix), parse_prefix6("2001:db8::/32"));
  refuses("policy del", {"policy del: missing PREFIX"});
  refuses("policy del 10.0.0.0/24 encap", {"unexpected argument encap"});
  refuses("policy del 10.0.0.0/40", {"10.0.0.0/40"});
}

TEST(PolicyShow, Forms) {
  as<PolicyShow>("policy show");
  as<PolicyShow>("policy");
  refuses("policy show 10.0.0.0/24", {"policy show: unexpected argument 10.0.0.0/24"});
  refuses("policy flush", {"policy: unknown command flush"});
}

// ---- stats ----

TEST(Stats, Forms) {
  EXPECT_FALSE(as<Stats>("stats").reset);
  EXPECT_TRUE(as<Stats>("stats reset").reset);
  EXPECT_TRUE(P("-j stats").globals.json);
  refuses("stats clear", {"stats: unexpected argument clear"});
  refuses("stats reset now", {"stats: unexpected argument now"});
}

TEST(Batch, Option) {
  Command c = P("-n r1 --instance x -b /tmp/cmds");
  ASSERT_TRUE(std::holds_alternative<Batch>(c.action));
  EXPECT_EQ(std::get<Batch>(c.action).file, "/tmp/cmds");
  EXPECT_EQ(c.globals.netns, "r1");
  EXPECT_EQ(as<Batch>("-batch -").file, "-");
  refuses("-b f sid add fc00::1 action End", {"-b", "sid"});
  refuses("-b", {"-b"});
}

TEST(Batch, Lines) {
  auto lines = parse_batch(
      "# SIDs of r1\n"
      "sid add fc00::1 action End\n"
      "\n"
      "  policy add 10.0.0.0/8 encap.red segs fc00::1,fc00::2\n"
      "sid del fc00::9\n"
      "policy del 2001:db8::/64");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].line, 2u);
  EXPECT_TRUE(std::holds_alternative<SidAdd>(lines[0].action));
  EXPECT_EQ(lines[1].line, 4u);
  EXPECT_EQ(std::get<PolicyAdd>(lines[1].action).config.mode, SRV6_ENCAP_RED);
  EXPECT_TRUE(std::holds_alternative<SidDel>(lines[2].action));
  EXPECT_EQ(lines[3].line, 6u);
  EXPECT_TRUE(std::holds_alternative<PolicyDel>(lines[3].action));
}

TEST(Batch, RefusalsNameTheLine) {
  auto refused = [](const std::string& text, const std::string& needle) {
    try {
      parse_batch(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused("sid add fc00::1 action End\nsid add fc00::2 action End.Q\n", "line 2: sid add: unknown action End.Q");
  refused("\n\nattach eth0 xdp\n", "line 3: only sid/policy add/del");
  refused("sid show\n", "line 1: only sid/policy add/del");
  refused("-n x sid add fc00::1 action End\n", "line 1: options belong on the srv6ctl command line");
}

TEST(Batch, Separators) {
  // Tabs, CRs (a file from Windows) and runs of blanks separate words; the
  // last line needs no newline.
  auto lines = parse_batch("sid add\tfc00::1  action End\r\n\r\n \t# note\r\nsid del fc00::2");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(std::get<SidAdd>(lines[0].action).config.sid, parse_prefix6("fc00::1"));
  EXPECT_EQ(lines[1].line, 4u);
  EXPECT_EQ(std::get<SidDel>(lines[1].action).sid, parse_prefix6("fc00::2"));
  EXPECT_TRUE(parse_batch("").empty());
  EXPECT_TRUE(parse_batch("\n\n# only comments\n").empty());
}

TEST(Batch, EachLineAsParsed) {
  // The callback form: every command in order, with its line; a bad line
  // stops the parse with its number (the caller drops what it collected).
  std::vector<size_t> seen;
  parse_batch("sid add fc00::1 action End\n#\npolicy del 10.0.0.0/8\n",
              [&](size_t line, Action&& a) {
                seen.push_back(line);
                EXPECT_TRUE(std::holds_alternative<SidAdd>(a) || std::holds_alternative<PolicyDel>(a));
              });
  EXPECT_EQ(seen, (std::vector<size_t>{1, 3}));
  seen.clear();
  try {
    parse_batch("sid add fc00::1 action End\nsid add fc00::2 action End oif\n",
                [&](size_t line, Action&&) { seen.push_back(line); });
    ADD_FAILURE() << "a bad line was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2: sid add: missing value for oif"), std::string::npos) << e.what();
  }
  EXPECT_EQ(seen, std::vector<size_t>{1});
}

TEST(Batch, SameAsTheCommandLine) {
  // A batch line and the same words on the command line parse alike, and
  // refuse alike.
  for (const char* line : {"sid add fc00::2/128 action End.X nh6 fe80::1 oif eth1 count",
                           "sid add fc00::3 table main action End.T", "sid delete fc00:1::/48",
                           "policy add 2001:db8::/32 encap.red src fc00::99 segs fc00::5,fc00::6",
                           "policy del 10.0.0.0/24"}) {
    auto batch = parse_batch(line);
    ASSERT_EQ(batch.size(), 1u) << line;
    Command c = P(line);
    ASSERT_EQ(batch[0].action.index(), c.action.index()) << line;
    if (auto* a = std::get_if<SidAdd>(&c.action)) {
      const auto& b = std::get<SidAdd>(batch[0].action);
      EXPECT_EQ(b.config.sid, a->config.sid);
      EXPECT_EQ(b.config.nh6, a->config.nh6);
      EXPECT_EQ(b.config.oif_name, a->config.oif_name);
      EXPECT_EQ(b.config.table, a->config.table);
      EXPECT_EQ(b.count, a->count);
    }
  }
  for (const char* line : {"sid add fc00::1 action End.Q", "sid add fc00::1 action End action End",
                           "policy add 10.0.0.0/24 encap segs fc00::1,,fc00::2", "sid frob",
                           "attach a/b", "sid add fc00::1/64 action End"}) {
    std::string cli, batch;
    try {
      P(line);
    } catch (const Error& e) {
      cli = e.what();
    }
    try {
      parse_batch(line);
    } catch (const Error& e) {
      batch = e.what();
    }
    EXPECT_FALSE(cli.empty()) << line;
    EXPECT_EQ(batch, "line 1: " + cli) << line;
  }
}

TEST(Globals, Capacity) {
  EXPECT_EQ(P("--capacity 1048576 sid show").globals.capacity, 1048576u);
  EXPECT_EQ(P("sid show").globals.capacity, 0u);
  refuses("--capacity 0 sid show", {"capacity 0"});
  refuses("--capacity 12x sid show", {"12x"});
  refuses("--capacity 99999999999 sid show", {"99999999999"});
}
