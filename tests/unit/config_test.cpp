// Parsers, formatters, names and every refusal of validate().
#include <gtest/gtest.h>

#include <set>

#include "srv6/config.hpp"

using namespace srv6;

namespace {

// Asserts that `f` throws srv6::Error whose message contains `needle`.
template <typename F>
void expect_error(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no Error thrown; expected one containing \"" << needle << "\"";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message \"" << e.what() << "\" lacks \"" << needle << "\"";
  }
}

Addr6 a6(const char* s) { return parse_addr6(s); }

SidConfig sid(const char* s, srv6_action a) {
  SidConfig c;
  c.sid = parse_prefix6(s);
  c.action = a;
  return c;
}

PolicyConfig policy(const char* prefix, srv6_encap_mode m, std::vector<Addr6> segs) {
  PolicyConfig p;
  p.prefix = parse_prefix(prefix);
  p.mode = m;
  p.segs = std::move(segs);
  return p;
}

}  // namespace

TEST(ParseAddr6, ParsesAndFormats) {
  Addr6 a = a6("fc00::1");
  EXPECT_EQ(a[0], 0xfc);
  EXPECT_EQ(a[15], 0x01);
  for (int i = 1; i < 15; i++) EXPECT_EQ(a[i], 0) << i;
  EXPECT_EQ(format_addr6(a), "fc00::1");
  EXPECT_EQ(format_addr6(a6("2001:DB8:0:0:0:0:0:1")), "2001:db8::1");
}

TEST(ParseAddr6, RefusesNonAddresses) {
  expect_error([] { parse_addr6("fc00::zz"); }, "fc00::zz");
  expect_error([] { parse_addr6("10.0.0.1"); }, "10.0.0.1");
  expect_error([] { parse_addr6(""); }, "invalid IPv6 address");
  expect_error([] { parse_addr6("fc00::1/128"); }, "fc00::1/128");
}

// The parsers hand inet_pton a copy on the stack: the longest address
// still parses, anything longer or with a NUL is refused with its text.
TEST(ParseAddr6, LengthsAndNuls) {
  EXPECT_EQ(format_addr6(a6("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(parse_prefix6("0000:0000:0000:0000:0000:0000:0000:0001/128").addr, a6("::1"));
  std::string longer(100, '1');
  expect_error([&] { parse_addr6(longer); }, "invalid IPv6 address: " + longer);
  expect_error([&] { parse_prefix6(longer + "/64"); }, longer);
  expect_error([&] { parse_prefix(std::string(70, '1') + "/8"); }, "invalid IPv4 prefix");
  using namespace std::string_literals;
  expect_error([] { parse_addr6("fc00::1\0junk"s); }, "invalid IPv6 address");
  expect_error([] { parse_prefix6("fc00::\0/64"s); }, "invalid IPv6 prefix");
  expect_error([] { parse_prefix("10.0.0.0\0/8"s); }, "invalid prefix");
  // a view into a larger text parses only its own characters
  std::string_view line = "fc00::1 action End";
  EXPECT_EQ(parse_addr6(line.substr(0, 7)), a6("fc00::1"));
  EXPECT_EQ(parse_prefix6(std::string_view("fc00::/16xyz").substr(0, 9)).len, 16);
}

TEST(ParsePrefix6, DefaultsTo128) {
  Prefix6 p = parse_prefix6("fc00::1");
  EXPECT_EQ(p.len, 128);
  EXPECT_EQ(p.addr, a6("fc00::1"));
  EXPECT_EQ(format_prefix6(p), "fc00::1/128");
}

TEST(ParsePrefix6, ParsesLengths) {
  EXPECT_EQ(parse_prefix6("fc00::/64").len, 64);
  EXPECT_EQ(parse_prefix6("fc00:0:0:1::/64").addr, a6("fc00:0:0:1::"));
  EXPECT_EQ(parse_prefix6("::/0").len, 0);
  EXPECT_EQ(parse_prefix6("fc00::1/128").len, 128);
  EXPECT_EQ(format_prefix6(parse_prefix6("fc00:1::/48")), "fc00:1::/48");
  // Bit 63 set is fine at /64, refused at /63.
  EXPECT_EQ(parse_prefix6("fc00:0:0:1::/64").len, 64);
  expect_error([] { parse_prefix6("fc00:0:0:1::/63"); }, "fc00:0:0:1::/63");
}

TEST(ParsePrefix6, RefusesHostBits) {
  expect_error([] { parse_prefix6("fc00::1/64"); }, "fc00::1/64");
  expect_error([] { parse_prefix6("fc00::1/64"); }, "host bits");
  expect_error([] { parse_prefix6("fc00::1/127"); }, "fc00::1/127");
}

TEST(ParsePrefix6, RefusesBadLengths) {
  expect_error([] { parse_prefix6("fc00::/129"); }, "129");
  expect_error([] { parse_prefix6("fc00::/"); }, "fc00::/");
  expect_error([] { parse_prefix6("fc00::/-1"); }, "fc00::/-1");
  expect_error([] { parse_prefix6("fc00::/6x"); }, "fc00::/6x");
  expect_error([] { parse_prefix6("fc00::/ 64"); }, "fc00::/ 64");
  expect_error([] { parse_prefix6("fc00::/99999999999"); }, "99999999999");
  expect_error([] { parse_prefix6("fcg0::/64"); }, "fcg0::/64");
  expect_error([] { parse_prefix6("10.0.0.0/8"); }, "10.0.0.0/8");
}

TEST(ParsePrefix, IPv4) {
  Prefix p = parse_prefix("10.0.0.0/24");
  ASSERT_TRUE(std::holds_alternative<Prefix4>(p));
  EXPECT_EQ(std::get<Prefix4>(p).len, 24);
  EXPECT_EQ(std::get<Prefix4>(p).addr, (Addr4{10, 0, 0, 0}));
  EXPECT_EQ(format_prefix(p), "10.0.0.0/24");

  Prefix host = parse_prefix("192.0.2.7");
  EXPECT_EQ(std::get<Prefix4>(host).len, 32);
  EXPECT_EQ(format_prefix(host), "192.0.2.7/32");
  EXPECT_EQ(format_prefix(parse_prefix("0.0.0.0/0")), "0.0.0.0/0");
}

TEST(ParsePrefix, IPv6) {
  Prefix p = parse_prefix("2001:db8::/32");
  ASSERT_TRUE(std::holds_alternative<Prefix6>(p));
  EXPECT_EQ(std::get<Prefix6>(p).len, 32);
  EXPECT_EQ(format_prefix(p), "2001:db8::/32");
  EXPECT_EQ(std::get<Prefix6>(parse_prefix("2001:db8::1")).len, 128);
}

TEST(ParsePrefix, RefusesBadIPv4) {
  expect_error([] { parse_prefix("10.0.0.1/24"); }, "10.0.0.1/24");
  expect_error([] { parse_prefix("10.0.0.0/33"); }, "33");
  expect_error([] { parse_prefix("10.0.0/24"); }, "10.0.0/24");
  expect_error([] { parse_prefix("10.0.0.256"); }, "10.0.0.256");
  expect_error([] { parse_prefix("10.0.0.0/"); }, "10.0.0.0/");
  expect_error([] { parse_prefix("eth0"); }, "eth0");
}

TEST(Names, Actions) {
  EXPECT_EQ(action_name(SRV6_ACTION_END), "End");
  EXPECT_EQ(action_name(SRV6_ACTION_END_X), "End.X");
  EXPECT_EQ(action_name(SRV6_ACTION_END_T), "End.T");
  EXPECT_EQ(action_from_name("End"), SRV6_ACTION_END);
  EXPECT_EQ(action_from_name("End.X"), SRV6_ACTION_END_X);
  EXPECT_EQ(action_from_name("End.T"), SRV6_ACTION_END_T);
  EXPECT_FALSE(action_from_name("end"));
  EXPECT_EQ(action_from_name("End.DX4"), SRV6_ACTION_END_DX4);
  EXPECT_EQ(action_from_name("End.DX6"), SRV6_ACTION_END_DX6);
  EXPECT_EQ(action_from_name("End.DT4"), SRV6_ACTION_END_DT4);
  EXPECT_EQ(action_from_name("End.DT6"), SRV6_ACTION_END_DT6);
  EXPECT_EQ(action_from_name("End.DT46"), SRV6_ACTION_END_DT46);
  // the kernel's numbers, so mirrored seg6local routes map as they are
  EXPECT_EQ(SRV6_ACTION_END_DX6, 5);
  EXPECT_EQ(SRV6_ACTION_END_DT46, 16);
  EXPECT_FALSE(action_from_name("End.DX2"));  // not written yet
  EXPECT_FALSE(action_from_name("End.dt6"));
  EXPECT_FALSE(action_from_name("unknown"));
  EXPECT_FALSE(action_from_name(""));
}

TEST(Names, EncapModes) {
  EXPECT_EQ(encap_mode_name(SRV6_ENCAP), "encap");
  EXPECT_EQ(encap_mode_name(SRV6_ENCAP_RED), "encap.red");
  EXPECT_EQ(encap_mode_from_name("encap"), SRV6_ENCAP);
  EXPECT_EQ(encap_mode_from_name("encap.red"), SRV6_ENCAP_RED);
  EXPECT_FALSE(encap_mode_from_name("inline"));
  EXPECT_FALSE(encap_mode_from_name("unknown"));
}

TEST(Names, Reasons) {
  EXPECT_EQ(reason_name(SRV6_DROP_TRUNCATED), "truncated");
  EXPECT_EQ(reason_name(SRV6_DROP_BAD_IP_HEADER), "bad_ip_header");
  EXPECT_EQ(reason_name(SRV6_PASS_KERNEL_INPUT), "kernel_input");
  EXPECT_EQ(reason_name(SRV6_DROP_CHAIN_LIMIT), "chain_limit");
  EXPECT_EQ(reason_name(SRV6_DROP_MALFORMED_SRH), "malformed_srh");
  EXPECT_EQ(reason_name(SRV6_DROP_NO_SRH), "no_srh");
  EXPECT_EQ(reason_name(SRV6_DROP_SL_ZERO), "sl_zero");
  EXPECT_EQ(reason_name(SRV6_DROP_NO_ROUTE), "no_route");
  EXPECT_EQ(reason_name(SRV6_DROP_ENCAP_FAILED), "encap_failed");
  EXPECT_EQ(reason_name(SRV6_DROP_BAD_ENTRY), "bad_entry");
  EXPECT_EQ(reason_name(SRV6_DROP_TOO_MANY_EXT), "too_many_ext");
  EXPECT_EQ(reason_name(SRV6_PASS_HOP_LIMIT), "hop_limit");
  EXPECT_EQ(reason_name(SRV6_PASS_TOO_BIG), "too_big");
  EXPECT_EQ(reason_name(SRV6_PASS_NO_NEIGH), "no_neigh");
  EXPECT_EQ(reason_name(SRV6_PASS_KERNEL_ROUTE), "kernel_route");
  EXPECT_EQ(reason_name(SRV6_PASS_SKB_EGRESS), "skb_egress");
  EXPECT_EQ(reason_name(SRV6_PASS_NO_HEADROOM), "no_headroom");
  EXPECT_EQ(reason_name(SRV6_PASS_CSUM), "csum_offload");
  EXPECT_EQ(reason_name(SRV6_DROP_PMTU_ICMP), "pmtu_icmp");
  EXPECT_EQ(reason_name(SRV6_DROP_PMTU_LIMITED), "pmtu_ratelimited");
  EXPECT_EQ(reason_name(SRV6_DROP_TOO_BIG), "too_big_no_icmp");
  EXPECT_EQ(reason_name(SRV6_DROP_NEXT_LOCAL), "next_local");
  // Every reason has its own name (they are JSON keys).
  std::set<std::string_view> names;
  for (int r = 0; r < SRV6_REASON__MAX; r++) names.insert(reason_name(static_cast<srv6_reason>(r)));
  EXPECT_EQ(names.size(), size_t(SRV6_REASON__MAX));
  EXPECT_EQ(names.count("unknown"), 0u);
}

TEST(ValidateSid, AcceptsEachAction) {
  EXPECT_NO_THROW(validate(sid("fc00::1", SRV6_ACTION_END)));
  EXPECT_NO_THROW(validate(sid("fc00:1::/48", SRV6_ACTION_END)));

  SidConfig x = sid("fc00::2", SRV6_ACTION_END_X);
  x.nh6 = a6("fc00::12");
  EXPECT_NO_THROW(validate(x));
  x.oif = 3;
  EXPECT_NO_THROW(validate(x));
  SidConfig ll = sid("fc00::2", SRV6_ACTION_END_X);
  ll.nh6 = a6("fe80::1");
  ll.oif_name = "eth1";  // unresolved name counts as an oif
  EXPECT_NO_THROW(validate(ll));

  SidConfig t = sid("fc00::3", SRV6_ACTION_END_T);
  t.table = 100;
  EXPECT_NO_THROW(validate(t));
  t.table = 0xFFFFFFFF;
  EXPECT_NO_THROW(validate(t));
}

TEST(ValidateSid, RefusesBadSid) {
  expect_error([] { validate(sid("::", SRV6_ACTION_END)); }, "::");
  expect_error([] { validate(sid("ff02::1", SRV6_ACTION_END)); }, "ff02::1");
  expect_error([] { validate(sid("ff02::1", SRV6_ACTION_END)); }, "multicast");
}

TEST(ValidateSid, RefusesUnknownAction) {
  expect_error([] { validate(sid("fc00::1", SRV6_ACTION_UNSPEC)); }, "unknown action");
  expect_error([] { validate(sid("fc00::1", SRV6_ACTION__MAX)); }, "fc00::1");
}

TEST(ValidateSid, EndTakesNoAttributes) {
  SidConfig c = sid("fc00::1", SRV6_ACTION_END);
  c.nh6 = a6("fc00::2");
  expect_error([&] { validate(c); }, "End: nh6 fc00::2");
  c = sid("fc00::1", SRV6_ACTION_END);
  c.oif = 4;
  expect_error([&] { validate(c); }, "End: oif 4");
  c = sid("fc00::1", SRV6_ACTION_END);
  c.oif_name = "eth0";
  expect_error([&] { validate(c); }, "oif eth0");
  c = sid("fc00::1", SRV6_ACTION_END);
  c.table = 100;
  expect_error([&] { validate(c); }, "End: table 100");
}

TEST(ValidateSid, EndXRules) {
  SidConfig c = sid("fc00::1", SRV6_ACTION_END_X);
  expect_error([&] { validate(c); }, "End.X needs nh6");
  c.nh6 = Addr6{};
  expect_error([&] { validate(c); }, "nh6 must not be ::");
  c.nh6 = a6("ff02::2");
  expect_error([&] { validate(c); }, "nh6 ff02::2 must not be multicast");
  c.nh6 = a6("fe80::1");
  expect_error([&] { validate(c); }, "End.X: link-local nh6 fe80::1 needs oif");
  c.nh6 = a6("febf::1");  // still inside fe80::/10
  expect_error([&] { validate(c); }, "febf::1 needs oif");
  c.nh6 = a6("fec0::1");  // outside fe80::/10: oif optional
  EXPECT_NO_THROW(validate(c));
  c.nh6 = a6("fc00::2");
  c.table = 7;
  expect_error([&] { validate(c); }, "End.X: table 7");
}

TEST(ValidateSid, EndTRules) {
  SidConfig c = sid("fc00::1", SRV6_ACTION_END_T);
  expect_error([&] { validate(c); }, "End.T needs table");
  c.table = 10;
  c.nh6 = a6("fc00::2");
  expect_error([&] { validate(c); }, "End.T: nh6 fc00::2");
  c.nh6.reset();
  c.oif = 2;
  expect_error([&] { validate(c); }, "End.T: oif 2");
}

TEST(ValidateSid, DecapRules) {
  auto a4 = [](uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return Addr4{a, b, c, d}; };
  SidConfig c = sid("fc00::1", SRV6_ACTION_END_DX4);
  expect_error([&] { validate(c); }, "End.DX4 needs nh4");
  c.nh4 = a4(0, 0, 0, 0);  // by the inner destination
  EXPECT_NO_THROW(validate(c));
  c.nh4 = a4(10, 0, 0, 1);
  c.oif = 3;
  EXPECT_NO_THROW(validate(c));
  c.nh4 = a4(224, 0, 0, 1);
  expect_error([&] { validate(c); }, "End.DX4: nh4 224.0.0.1 must be unicast");
  c.nh4 = a4(10, 0, 0, 1);
  c.nh6 = a6("fc00::2");
  expect_error([&] { validate(c); }, "End.DX4: nh6 fc00::2 not allowed (End.X, End.DX6 take it)");

  c = sid("fc00::1", SRV6_ACTION_END_DX6);
  expect_error([&] { validate(c); }, "End.DX6 needs nh6");
  c.nh6 = Addr6{};  // by the inner destination
  EXPECT_NO_THROW(validate(c));
  c.nh6 = a6("ff02::1");
  expect_error([&] { validate(c); }, "End.DX6: nh6 ff02::1 must not be multicast");
  c.nh6 = a6("fe80::1");
  expect_error([&] { validate(c); }, "End.DX6: link-local nh6 fe80::1 needs oif");
  c.oif_name = "eth0";
  EXPECT_NO_THROW(validate(c));
  c.nh4 = a4(10, 0, 0, 1);
  expect_error([&] { validate(c); }, "End.DX6: nh4 10.0.0.1 not allowed (End.DX4 take it)");

  for (auto a : {SRV6_ACTION_END_DT4, SRV6_ACTION_END_DT6, SRV6_ACTION_END_DT46}) {
    c = sid("fc00::1", a);
    expect_error([&] { validate(c); }, std::string(action_name(a)) + " needs table");
    c.table = 100;
    EXPECT_NO_THROW(validate(c));
    c.oif = 2;
    expect_error([&] { validate(c); }, std::string(action_name(a)) + ": oif 2 not allowed");
  }
}

TEST(ValidatePolicy, Accepts) {
  EXPECT_NO_THROW(validate(policy("10.0.0.0/24", SRV6_ENCAP, {a6("fc00::1")})));
  EXPECT_NO_THROW(validate(policy("2001:db8::/32", SRV6_ENCAP_RED, {a6("fc00::1"), a6("fc00::2")})));
  std::vector<Addr6> sixteen(16, a6("fc00::1"));
  PolicyConfig p = policy("0.0.0.0/0", SRV6_ENCAP, sixteen);
  p.src = a6("fc00::99");
  EXPECT_NO_THROW(validate(p));
}

TEST(ValidatePolicy, Refusals) {
  expect_error([] { validate(policy("10.0.0.0/24", SRV6_ENCAP_UNSPEC, {a6("fc00::1")})); },
               "unknown mode 0 for policy 10.0.0.0/24");
  expect_error([] { validate(policy("10.0.0.0/24", SRV6_ENCAP, {})); }, "no SIDs (segs is empty) for policy 10.0.0.0/24");
  std::vector<Addr6> seventeen(17, a6("fc00::1"));
  expect_error([&] { validate(policy("10.0.0.0/24", SRV6_ENCAP, seventeen)); },
               "too many SIDs: 17 (at most 16)");
  expect_error([] { validate(policy("10.0.0.0/24", SRV6_ENCAP, {a6("fc00::1"), Addr6{}})); },
               "segs: SID must not be ::");
  expect_error([] { validate(policy("10.0.0.0/24", SRV6_ENCAP, {a6("ff05::1")})); },
               "segs: SID ff05::1 must not be multicast");
  PolicyConfig p = policy("10.0.0.0/24", SRV6_ENCAP, {a6("fc00::1")});
  p.src = Addr6{};
  expect_error([&] { validate(p); }, "src must not be ::");
  p.src = a6("ff02::1");
  expect_error([&] { validate(p); }, "src ff02::1 must not be multicast");
}
