// Head-end options: the outer hop limit, traffic class and flow label a
// policy sets or inherits, and tunsrc as the outer source of a policy
// without `src`. Expected bytes from the builder: the outer header as
// RFC 8986 5.1 and the options say, the inner packet as it was sent.
#include "case_kit.hpp"

using namespace fixture;
using namespace cases::kit;
using pkt::ip4;
using pkt::ip6;

namespace cases {

const pkt::Ip6 kOptsSid = ip6("fc00:2::1");  // main: out0
const pkt::Ip6 kTunsrc = ip6("fc00:77::77");   // `tunsrc set`
const pkt::Ip6 kOptsSrc = ip6(kIn0Addr6);

namespace {

pkt::Packet in6(const pkt::Ip6& dst) {
  pkt::Packet p;
  p.ipv6({.src = kHostA, .dst = dst, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 64});
  p.udp(1111, 2222).payload(std::string(16, 'h'));
  return p;
}

pkt::Packet in4(const pkt::Ip4& dst) {
  pkt::Packet p;
  p.ipv4({.src = ip4("192.0.2.1"), .dst = dst, .tos = 0xb9, .ttl = 30, .id = 7});
  p.udp(1111, 2222).payload("ipv4 inner payload");
  return p;
}

// H.Encaps.Red to one SID (no SRH), forwarded out of out0: the outer
// header's fields as given (hop limit already decremented by one).
pkt::Bytes red1(const pkt::Packet& inner, const pkt::Ip6& src, uint8_t tc, uint32_t fl, uint8_t hl) {
  pkt::Packet p;
  p.eth(kNh0Mac, kOut0Mac).ipv6({.src = src, .dst = kOptsSid, .traffic_class = tc, .flow_label = fl, .hop_limit = hl});
  return p.append(inner).build();
}

Case encap(std::string name, std::string entry, const pkt::Packet& inner, pkt::Bytes out) {
  pkt::Packet in;
  in.eth(kInMac, kSenderMac).append(inner);
  auto frame = in.build();
  srv6::Counters c{1, l3_len(out), 0};
  return {name, entry, frame, {kXdpRedirect, out, {}, c}, {kTcRedirect, out, {}, c}};
}

}  // namespace

void add_headend_cases(std::vector<Case>& v) {
  auto i71 = in6(ip6("2001:db8:71::1"));
  v.push_back(encap("HEncaps_hoplimit_tclass_flowlabel_set", "2001:db8:71::/64", i71,
                    red1(i71, kOptsSrc, 0x20, 0x12345, 8)));
  auto i72 = in6(ip6("2001:db8:72::1"));
  v.push_back(encap("HEncaps_IPv6_all_inherited", "2001:db8:72::/64", i72, red1(i72, kOptsSrc, 0xb9, 0xabcde, 63)));
  // IPv4: TOS (ECN bits included) and TTL inherited; an IPv4 packet has no label
  auto i4 = in4(ip4("10.71.0.1"));
  v.push_back(encap("HEncaps_IPv4_tclass_hoplimit_inherited", "10.71.0.0/16", i4, red1(i4, kOptsSrc, 0xb9, 0, 29)));
  // IPv4 by default: class 0, hop limit 64 (the kernel's), label 0
  auto i4d = in4(ip4("10.72.0.1"));
  v.push_back(encap("HEncaps_IPv4_defaults", "10.72.0.0/16", i4d, red1(i4d, kOptsSrc, 0, 0, 63)));
  // hop limit 1 set: the outer packet's own; the kernel sends Time Exceeded
  // (an error of the policy, as the inner hop limit 1 case)
  {
    pkt::Packet in;
    auto i73 = in6(ip6("2001:db8:75::1"));
    in.eth(kInMac, kSenderMac).append(i73);
    auto frame = in.build();
    pkt::Packet k;
    k.eth(kInMac, kSenderMac).ipv6({.src = kOptsSrc, .dst = kOptsSid, .traffic_class = 0xb9, .flow_label = 0xabcde,
                                     .hop_limit = 1});
    k.append(i73);
    v.push_back(handed("HEncaps_hoplimit_1_set", "2001:db8:75::/64", frame, SRV6_PASS_HOP_LIMIT, kTcOk, k.build(),
                       {0, 0, 1}, {{SRV6_PASS_HOP_LIMIT, 1}}));
  }
  // no src: tunsrc
  auto i74 = in6(ip6("2001:db8:74::1"));
  v.push_back(encap("HEncaps_source_from_tunsrc", "2001:db8:74::/64", i74, red1(i74, kTunsrc, 0xb9, 0xabcde, 63)));
}

void configure_headend(srv6::Instance& inst) {
  using srv6::OuterField;
  auto pol = [&](const char* prefix, std::optional<srv6::Addr6> src, OuterField hl, OuterField tc, OuterField fl) {
    srv6::PolicyConfig c{srv6::parse_prefix(prefix), SRV6_ENCAP_RED, {kOptsSid}, src};
    c.hoplimit = hl, c.tclass = tc, c.flowlabel = fl;
    inst.add_policy(c);
  };
  const OuterField inherit{OuterField::Inherit, 0};
  pol("2001:db8:71::/64", kOptsSrc, {OuterField::Value, 9}, {OuterField::Value, 0x20}, {OuterField::Value, 0x12345});
  pol("2001:db8:72::/64", kOptsSrc, inherit, inherit, inherit);
  pol("10.71.0.0/16", kOptsSrc, inherit, inherit, {});
  pol("10.72.0.0/16", kOptsSrc, {}, {}, {});
  pol("2001:db8:75::/64", kOptsSrc, {OuterField::Value, 1}, {}, {});
  pol("2001:db8:74::/64", std::nullopt, {}, {}, {});
  pol("2001:db8:76::/64", kOptsSrc, {}, {}, {OuterField::Hash, 0});  // datapath_test.cpp: FlowLabel.*
  pol("2001:db8:78::/64", kOptsSrc, {}, {}, {});                      // the default label
  inst.set_tunsrc(kTunsrc);
}

}  // namespace cases
