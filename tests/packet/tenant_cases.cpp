// Tenants at the head-end: ten1 is bound to table 100, ten2 to table 200
// (`link set DEV table ID`), and the three tables hold a policy for the same
// prefix with different SID lists. A tenant's packet meets only its table's
// policies; the outer packet is the core's, routed in main (where table
// 100 would send fc00::/16 out of out1, main sends it out of out0); what
// no policy of the table catches, our SIDs and the router's own addresses
// included, is left untouched to the kernel, whose rules route it in the
// table. Expected bytes from the builder, as RFC 8986 5.1/5.2 and the
// kernel's defaults give them (tunsrc as source, class, label and hop limit
// copied from IPv6; class 0, label 0, hop limit 64 for IPv4).
#include "case_kit.hpp"

using namespace fixture;
using namespace cases::kit;
using pkt::ip4;
using pkt::ip6;

namespace cases {
namespace {

const pkt::Ip6 kTunsrcT = ip6("fc00:77::77");  // headend_cases.cpp's tunsrc
const pkt::Ip6 kSid100 = ip6("fc00:2::100");    // main: out0; table 100: out1
const pkt::Ip6 kSid200a = ip6("fc00:2::200"), kSid200b = ip6("fc00:2::201");
const pkt::Ip6 kSidMain = ip6("fc00:12::1");    // main: out2
const pkt::Ip6 kEndT = ip6("fc00:1::e");        // our End

pkt::Packet in6(const pkt::Ip6& dst, uint8_t hop_limit = 64) {
  pkt::Packet p;
  p.ipv6({.src = kHostA, .dst = dst, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = hop_limit});
  p.udp(1111, 2222).payload(std::string(20, 't'));
  return p;
}

pkt::Packet in4(const pkt::Ip4& dst) {
  pkt::Packet p;
  p.ipv4({.src = ip4("192.0.2.1"), .dst = dst, .tos = 0xb9, .ttl = 30, .id = 7});
  p.udp(1111, 2222).payload("tenant ipv4");
  return p;
}

// A frame arriving on a tenant's device (or in0).
pkt::Bytes from(const std::string& dev, const pkt::Packet& inner) {
  pkt::Mac peer = dev == "ten1" ? pkt::mac("02:00:00:00:07:02") : dev == "ten2" ? pkt::mac("02:00:00:00:08:02") : kSenderMac;
  pkt::Mac own = dev == "ten1" ? pkt::mac("02:00:00:00:07:01") : dev == "ten2" ? pkt::mac("02:00:00:00:08:01") : kInMac;
  return with_eth(own, peer, inner);
}

// The outer header (decremented hop limit), SRH with `segs` in travel order
// when there are two or more, then the inner packet.
pkt::Bytes encapsulated(const pkt::Mac& dmac, const pkt::Mac& smac, std::vector<pkt::Ip6> segs,
                        const pkt::Packet& inner, bool v6) {
  pkt::Packet p;
  p.eth(dmac, smac).ipv6({.src = kTunsrcT, .dst = segs[0], .traffic_class = uint8_t(v6 ? 0xb9 : 0),
                          .flow_label = v6 ? 0xabcdeu : 0u, .hop_limit = 63});
  if (segs.size() > 1) {
    pkt::Srh srh;
    srh.segments.assign(segs.rbegin(), segs.rend());
    p.srh(srh);
  }
  return p.append(inner).build();
}

Case tenant_encap(std::string name, std::string dev, std::string entry, const pkt::Packet& inner, pkt::Bytes out) {
  srv6::Counters c{1, l3_len(out), 0};
  Case k{name, entry, from(dev, inner), {kXdpRedirect, out, {}, c}, {kTcRedirect, out, {}, c}};
  k.ingress = dev;
  return k;
}

// Left untouched by both hooks, nothing counted: the kernel's.
Case untouched(std::string name, std::string dev, std::string entry, const pkt::Packet& inner) {
  Case k{name, entry, from(dev, inner), {kXdpPass, {}, {}, {}}, {kTcOk, {}, {}, {}}};
  k.ingress = dev;
  return k;
}

}  // namespace

void add_tenant_cases(std::vector<Case>& v) {
  const std::string pfx = "2001:db8:50::/64";
  auto i50 = in6(ip6("2001:db8:50::1"));
  v.push_back(tenant_encap("Tenant100_encap_red_outer_routed_in_main", "ten1", pfx + " table 100", i50,
                           encapsulated(kNh0Mac, kOut0Mac, {kSid100}, i50, true)));
  v.push_back(tenant_encap("Tenant200_same_prefix_its_own_SID_list", "ten2", pfx + " table 200", i50,
                           encapsulated(kNh0Mac, kOut0Mac, {kSid200a, kSid200b}, i50, true)));
  v.push_back(tenant_encap("Main_same_prefix_main_policy", kIn, pfx, i50,
                           encapsulated(kNh2Mac, kOut2Mac, {kSidMain}, i50, true)));
  auto i4 = in4(ip4("10.50.0.1"));
  v.push_back(tenant_encap("Tenant100_IPv4_encap_red", "ten1", "10.50.0.0/16 table 100", i4,
                           encapsulated(kNh0Mac, kOut0Mac, {kSid100}, i4, false)));

  // what no policy of the table catches: the kernel's (rules: the table)
  v.push_back(untouched("Tenant200_IPv4_no_policy_in_its_table", "ten2", "10.50.0.0/16 table 100", i4));
  v.push_back(untouched("Tenant100_main_policy_prefix_not_matched", "ten1", "2001:db8:74::/64",
                        in6(ip6("2001:db8:74::1"))));
  {
    // a tenant never reaches our SIDs: an SRv6 packet to End passes as it is
    pkt::Packet sr;
    pkt::Srh srh;
    srh.segments = {ip6("fc00:2::2"), kEndT};
    sr.ipv6({.src = kHostA, .dst = kEndT}).srh(srh).append(in6(kHostB));
    v.push_back(untouched("Tenant100_SRv6_to_our_End_not_processed", "ten1", "fc00:1::e/128", sr));
  }
  // multicast (ND among it) is the local table's, before a default policy
  v.push_back(untouched("Tenant200_multicast_not_caught_by_default_policy", "ten2", "::/0 table 200",
                        in6(ip6("ff02::1:ff00:2"))));
  auto i99 = in6(ip6("2001:db8:99::1"));
  v.push_back(tenant_encap("Tenant200_default_policy_catches_unicast", "ten2", "::/0 table 200", i99,
                           encapsulated(kNh0Mac, kOut0Mac, {kSid100}, i99, true)));
  {
    pkt::Packet m;
    m.ipv4({.src = ip4("192.0.2.1"), .dst = ip4("224.0.0.5"), .ttl = 1}).udp(1, 2).payload("multicast");
    v.push_back(untouched("Main_IPv4_multicast_not_caught_by_its_policy", kIn, "224.0.0.0/4", m));
  }
  // the router's own addresses come first, as the kernel's local table
  // (out3's fd00:5::1, out2's 198.18.4.1)
  v.push_back(untouched("Tenant100_local_address_under_its_policy", "ten1", "fd00:5::/64 table 100",
                        in6(ip6("fd00:5::1"))));
  v.push_back(untouched("Tenant100_local_IPv4_under_its_policy", "ten1", "198.18.4.0/24 table 100",
                        in4(ip4("198.18.4.1"))));

  // the kernel would route the encapsulated packet in the tenant's table
  // (its Time Exceeded to ourselves): dropped, an error of the policy
  {
    Case k{"Tenant100_hop_limit_1_dropped", pfx + " table 100", from("ten1", in6(ip6("2001:db8:50::2"), 1)),
           {kXdpPass, {}, {{SRV6_PASS_HOP_LIMIT, 1}}, {}},
           {kTcShot, {}, {{SRV6_DROP_HOP_LIMIT, 1}}, {0, 0, 1}}};
    k.ingress = "ten1";
    v.push_back(k);
  }
  {
    // main has no way to fc00:68::/32 (unreachable); table 100 would have
    Case k{"Tenant100_first_SID_unreachable_in_main", "2001:db8:51::/64 table 100",
           from("ten1", in6(ip6("2001:db8:51::1"))), {kXdpPass, {}, {{SRV6_PASS_KERNEL_ROUTE, 1}}, {}},
           {kTcShot, {}, {{SRV6_DROP_ROUTE_UNREACHABLE, 1}}, {0, 0, 1}}};
    k.ingress = "ten1";
    v.push_back(k);
  }
  {
    // the first SID is our End: the chained run is the core's (SIDs first)
    auto i52 = in6(ip6("2001:db8:52::1"));
    pkt::Packet outp;
    outp.eth(kNh0Mac, kOut0Mac)
        .ipv6({.src = kTunsrcT, .dst = kSid100, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 63});
    pkt::Srh srh;
    srh.segments = {kSid100, kEndT};
    srh.segments_left = 0;
    auto out = outp.srh(srh).append(i52).build();
    v.push_back(tenant_encap("Tenant100_first_SID_our_End_chained", "ten1", "2001:db8:52::/64 table 100", i52, out));
  }
}

void configure_tenant(srv6::Instance& inst) {
  auto pol = [&](const char* prefix, uint32_t table, srv6_encap_mode mode, std::vector<srv6::Addr6> segs) {
    srv6::PolicyConfig c{srv6::parse_prefix(prefix), mode, std::move(segs)};
    c.table = table;
    inst.add_policy(c);
  };
  pol("2001:db8:50::/64", 100, SRV6_ENCAP_RED, {kSid100});
  pol("2001:db8:50::/64", 200, SRV6_ENCAP, {kSid200a, kSid200b});
  pol("2001:db8:50::/64", SRV6_TABLE_MAIN, SRV6_ENCAP_RED, {kSidMain});
  pol("10.50.0.0/16", 100, SRV6_ENCAP_RED, {kSid100});
  pol("fd00:5::/64", 100, SRV6_ENCAP_RED, {kSid100});
  pol("198.18.4.0/24", 100, SRV6_ENCAP_RED, {kSid100});
  pol("2001:db8:51::/64", 100, SRV6_ENCAP_RED, {ip6("fc00:68::1")});
  pol("2001:db8:52::/64", 100, SRV6_ENCAP, {kEndT, kSid100});
  pol("::/0", 200, SRV6_ENCAP_RED, {kSid100});
  pol("224.0.0.0/4", SRV6_TABLE_MAIN, SRV6_ENCAP_RED, {kSid100});
  inst.set_link_table("ten1", 100);
  inst.set_link_table("ten2", 200);
}

}  // namespace cases
