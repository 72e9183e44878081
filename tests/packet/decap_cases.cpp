// The decapsulating behaviours (End.DX4, End.DX6, End.DT4, End.DT6,
// End.DT46): inner IPv4 and IPv6, with and without an SRH (SL 0), the
// refusals (SL > 0, the wrong inner family), and the inner packet routed
// as a plain packet of its family: hop limit, MTU, no route, local
// delivery in main, the table kept apart from main, a SID of ours inside. Expected
// bytes from the builder: the inner packet as it was sent, its hop limit
// or TTL one less (the builder recomputes the IPv4 checksum).
#include "case_kit.hpp"

using namespace fixture;
using namespace cases::kit;
using pkt::ip4;
using pkt::ip6;

namespace cases {
namespace {

const pkt::Ip6 kDX4 = ip6("fc00:1::d4"), kDX4any = ip6("fc00:1::d40");
const pkt::Ip6 kDX6 = ip6("fc00:1::d6"), kDX6any = ip6("fc00:1::d60");
const pkt::Ip6 kDT4 = ip6("fc00:1::74"), kDT6 = ip6("fc00:1::76"), kDT46 = ip6("fc00:1::46");
const pkt::Ip6 kEndSid = ip6("fc00:1::e"), kNext = ip6("fc00:2::2");

std::string entry(const pkt::Ip6& sid) { return srv6::format_addr6(sid) + "/128"; }

struct Outer {
  std::optional<uint8_t> sl{};  // an SRH with this SL; none without
  bool hbh = false;             // a Hop-by-Hop header first
};

// The packet an ingress PE sends to `sid`: outer IPv6 (its own class and
// label), optional extension headers, then the inner packet.
pkt::Bytes outer(const pkt::Ip6& sid, const pkt::Packet& inner, Outer o = {}) {
  pkt::Packet p = eth_in();
  p.ipv6({.src = ip6("fc00:9::1"), .dst = sid, .traffic_class = 0x2c, .flow_label = 0x12345});
  if (o.hbh) p.hbh({.options = {0x05, 0x02, 0x00, 0x00}});  // router alert
  if (o.sl) {
    pkt::Srh srh;
    srh.segments = {sid, ip6("fc00:9::9")};
    srh.segments_left = *o.sl;
    p.srh(srh);
  }
  return p.append(inner).build();
}

pkt::Packet in6(const pkt::Ip6& dst, uint8_t hop_limit = 64, size_t payload = 16) {
  pkt::Packet p;
  p.ipv6({.src = kHostA, .dst = dst, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = hop_limit});
  p.udp(1111, 2222).payload(std::string(payload, 'x'));
  return p;
}

pkt::Packet in4(const pkt::Ip4& dst, uint8_t ttl = 64, uint16_t frag = 0, size_t payload = 18,
                const pkt::Ip4& src = ip4("192.0.2.1")) {
  pkt::Packet p;
  p.ipv4({.src = src, .dst = dst, .tos = 0xb8, .ttl = ttl, .id = 7, .frag = frag});
  p.udp(1111, 2222).payload(std::string(payload, 'y'));
  return p;
}

// The inner packet as the kernel gets it from TC: the ingress frame's MACs.
pkt::Bytes decapsulated(const pkt::Packet& inner) { return with_eth(kInMac, kSenderMac, inner); }

// Handed to the kernel by TC, decapsulated: ICMP errors and local delivery
// are the kernel's. ok: counted as a packet processed, else an error.
Case to_kernel(std::string name, const pkt::Ip6& sid, const pkt::Packet& inner, srv6_reason r, bool ok) {
  auto in = outer(sid, inner);
  srv6::Counters c = ok ? srv6::Counters{1, l3_len(in), 0} : srv6::Counters{0, 0, 1};
  return handed(name, entry(sid), in, r, kTcOk, decapsulated(inner), c, {{r, 1}});
}

// Our ICMP errors for a packet decapsulated into table 100, routed back
// to its source in that table: out of out1 (next hop fd00:3::2 /
// 198.18.3.2), from out1's address, hop limit / TTL 64, quoting what fits
// (1280 / 576 bytes) with the quoted UDP checksum at the value a device
// finishing an offloaded checksum keeps (cases.cpp's PMTUD cases).
pkt::Bytes icmp6_back(const pkt::Packet& inner, bool too_big, uint32_t mtu) {
  auto l3 = inner.build();
  pkt::Ip6 src;
  std::copy_n(l3.begin() + 8, 16, src.begin());
  pkt::Packet p;
  p.eth(kNh1Mac, kOut1Mac).ipv6({.src = ip6("fd00:3::1"), .dst = src, .hop_limit = 64});
  if (too_big) p.icmp6_too_big({.mtu = mtu});
  else p.icmp6_time_exceeded();
  return p.payload(quote_of(l3, 1280 - 40 - 8, CsumAt{40, kUdpCsum})).build();
}
pkt::Bytes icmp4_back(const pkt::Packet& inner, bool too_big, uint16_t mtu) {
  auto l3 = inner.build();
  pkt::Ip4 src;
  std::copy_n(l3.begin() + 12, 4, src.begin());
  uint8_t tos = uint8_t((l3[1] & 0x1e) | 0xc0);  // precedence internetwork control
  pkt::Packet p;
  p.eth(kNh1Mac, kOut1Mac).ipv4({.src = ip4("198.18.3.1"), .dst = src, .tos = tos, .ttl = 64, .id = 0, .frag = 0});
  if (too_big) p.icmp_frag_needed({.mtu = mtu});
  else p.icmp_time_exceeded();
  return p.payload(quote_of(l3, 576 - 20 - 8, CsumAt{20, kUdpCsum})).build();
}
pkt::Bytes time_exceeded6(const pkt::Packet& inner) { return icmp6_back(inner, false, 0); }
pkt::Bytes too_big6(const pkt::Packet& inner, uint32_t mtu) { return icmp6_back(inner, true, mtu); }
pkt::Bytes time_exceeded4(const pkt::Packet& inner) { return icmp4_back(inner, false, 0); }
pkt::Bytes frag_needed4(const pkt::Packet& inner, uint16_t mtu) { return icmp4_back(inner, true, mtu); }

// The IPv4 id of our ICMPv4 errors is random: not compared, and the header
// checksum over it must verify.
void ipv4_id_mask(Expect& e) {
  e.masked = {{14 + 4, 2}, {14 + 10, 2}};
  e.check = [](const pkt::Bytes& f) -> std::string {
    if (f.size() < 34) return "no IPv4 header";
    return pkt::ones_sum(f.data() + 14, 20) == 0xffff ? "" : "the IPv4 header checksum does not verify";
  };
}

// No route for it in the SID's table: XDP leaves it to TC, which drops it
// (never routed in main) and counts the error by the route's kind.
Case no_route(std::string name, const pkt::Ip6& sid, const pkt::Packet& inner, srv6_reason why = SRV6_DROP_NO_ROUTE) {
  auto in = outer(sid, inner);
  return {name, entry(sid), in, {kXdpPass, {}, {{SRV6_PASS_KERNEL_ROUTE, 1}}, {}},
          {kTcShot, {}, {{why, 1}}, {0, 0, 1}}};
}

void add_dt_cases(std::vector<Case>& v) {
  // table 100 sends 2001:db8:b::/64 and 10.20.0.0/16 out of out1; main out of out0
  const pkt::Ip4 v4dst = ip4("10.20.0.5");
  auto out1_6 = with_eth(kNh1Mac, kOut1Mac, in6(kHostB, 63));
  auto out1_4 = with_eth(kNh1Mac, kOut1Mac, in4(v4dst, 63));
  v.push_back(forwarded("EndDT46_IPv6_inner_no_SRH", entry(kDT46), outer(kDT46, in6(kHostB)), out1_6));
  v.push_back(forwarded("EndDT46_IPv4_inner_no_SRH", entry(kDT46), outer(kDT46, in4(v4dst)), out1_4));
  v.push_back(forwarded("EndDT46_IPv6_inner_SRH_SL0", entry(kDT46), outer(kDT46, in6(kHostB), {.sl = 0}), out1_6));
  v.push_back(forwarded("EndDT46_IPv4_inner_SRH_SL0", entry(kDT46), outer(kDT46, in4(v4dst), {.sl = 0}), out1_4));
  v.push_back(forwarded("EndDT46_after_HopByHop_and_SRH_SL0", entry(kDT46),
                        outer(kDT46, in6(kHostB), {.sl = 0, .hbh = true}), out1_6));
  v.push_back(forwarded("EndDT6_IPv6_inner", entry(kDT6), outer(kDT6, in6(kHostB)), out1_6));
  v.push_back(forwarded("EndDT4_IPv4_inner", entry(kDT4), outer(kDT4, in4(v4dst)), out1_4));
  v.push_back(forwarded("EndDT4_inner_TTL_2", entry(kDT4), outer(kDT4, in4(v4dst, 2)),
                        with_eth(kNh1Mac, kOut1Mac, in4(v4dst, 1))));

  // refusals: segments left, the wrong inner family, no inner packet at all
  v.push_back(dropped("EndDT46_SRH_SL1", entry(kDT46), outer(kDT46, in6(kHostB), {.sl = 1}), SRV6_DROP_SL_NOT_ZERO));
  v.push_back(dropped("EndDT4_IPv6_inner", entry(kDT4), outer(kDT4, in6(kHostB)), SRV6_DROP_INNER_PROTO));
  v.push_back(dropped("EndDT6_IPv4_inner", entry(kDT6), outer(kDT6, in4(v4dst)), SRV6_DROP_INNER_PROTO));
  {
    pkt::Packet udp;
    udp.udp(1, 2).payload("not a packet of either family");
    v.push_back(dropped("EndDT46_UDP_inner", entry(kDT46), outer(kDT46, udp), SRV6_DROP_INNER_PROTO));
  }

  // hop limit and MTU in a table of its own: the kernel would route the
  // packet and its ICMP error in main; the error is ours, routed back in
  // the table (table 100 reaches the senders out of out1)
  v.push_back(handed("EndDT6_inner_hop_limit_1", entry(kDT6), outer(kDT6, in6(kHostB, 1)), SRV6_PASS_HOP_LIMIT,
                     kTcRedirect, time_exceeded6(in6(kHostB, 1)), {0, 0, 1}, {{SRV6_DROP_HOP_LIMIT, 1}}));
  {
    Case c = handed("EndDT4_inner_TTL_1", entry(kDT4), outer(kDT4, in4(v4dst, 1)), SRV6_PASS_HOP_LIMIT,
                    kTcRedirect, time_exceeded4(in4(v4dst, 1)), {0, 0, 1}, {{SRV6_DROP_HOP_LIMIT, 1}});
    ipv4_id_mask(c.tc);
    v.push_back(c);
  }
  // table 100 sends 2001:db8:12::/64 and 10.12.0.0/16 out of out2 (MTU 1280)
  {
    auto big = in6(ip6("2001:db8:12::1"), 64, 1300);
    v.push_back(handed("EndDT6_inner_too_big_for_egress", entry(kDT6), outer(kDT6, big), SRV6_PASS_TOO_BIG,
                       kTcRedirect, too_big6(big, 1280), {0, 0, 1}, {{SRV6_DROP_PMTU_ICMP, 1}}));
    auto big4 = in4(ip4("10.12.0.1"), 64, 0x4000, 1300);
    Case c = handed("EndDT4_inner_too_big_DF", entry(kDT4), outer(kDT4, big4), SRV6_PASS_TOO_BIG, kTcRedirect,
                    frag_needed4(big4, 1280), {0, 0, 1}, {{SRV6_DROP_PMTU_ICMP, 1}});
    ipv4_id_mask(c.tc);
    v.push_back(c);
  }
  // without DF the kernel would fragment it, routed in main: dropped instead
  v.push_back(dropped("EndDT4_inner_too_big_no_DF", entry(kDT4), outer(kDT4, in4(ip4("10.12.0.1"), 64, 0, 1300)),
                      SRV6_DROP_TOO_BIG));

  // routing failures in the table are the SID's errors; main is not asked
  v.push_back(no_route("EndDT6_unreachable_in_table", kDT6, in6(ip6("2001:db8:99::1")), SRV6_DROP_ROUTE_UNREACHABLE));
  v.push_back(no_route("EndDT4_blackhole_in_table", kDT4, in4(ip4("10.99.0.1")), SRV6_DROP_ROUTE_BLACKHOLE));
  v.push_back(no_route("EndDT6_route_only_in_main", kDT6, in6(ip6("2001:db8:c::1"))));

  // a local route in the table: the FIB helper answers it as it answers no
  // route, so it is one (docs/semantics.md); never handed to main
  v.push_back(no_route("EndDT6_local_route_in_table", kDT6, in6(ip6(kIn0Addr6))));
  v.push_back(no_route("EndDT4_local_route_in_table", kDT4, in4(ip4(kIn0Addr4))));
  // in main (End.DX4 0.0.0.0) a local destination is the kernel's to deliver
  v.push_back(to_kernel("EndDX4_by_inner_destination_local", kDX4any, in4(ip4(kIn0Addr4)), SRV6_PASS_KERNEL_ROUTE,
                        true));
}

void add_dx_cases(std::vector<Case>& v) {
  // End.DX4 to 198.18.2.2 (out0), whatever the inner destination
  v.push_back(forwarded("EndDX4_nh4", entry(kDX4), outer(kDX4, in4(ip4("10.30.0.1"))),
                        with_eth(kNh0Mac, kOut0Mac, in4(ip4("10.30.0.1"), 63))));
  v.push_back(forwarded("EndDX4_nh4_SRH_SL0", entry(kDX4), outer(kDX4, in4(ip4("10.30.0.1")), {.sl = 0}),
                        with_eth(kNh0Mac, kOut0Mac, in4(ip4("10.30.0.1"), 63))));
  // 0.0.0.0: by the inner destination in main (out0; table 100 says out1)
  v.push_back(forwarded("EndDX4_by_inner_destination", entry(kDX4any), outer(kDX4any, in4(ip4("10.20.0.5"))),
                        with_eth(kNh0Mac, kOut0Mac, in4(ip4("10.20.0.5"), 63))));
  v.push_back(dropped("EndDX4_IPv6_inner", entry(kDX4), outer(kDX4, in6(kHostB)), SRV6_DROP_INNER_PROTO));
  v.push_back(dropped("EndDX4_martian_inner_source", entry(kDX4),
                      outer(kDX4, in4(ip4("10.30.0.1"), 64, 0, 18, ip4("127.0.0.1"))), SRV6_DROP_BAD_IP_HEADER));
  // the destination is the route's business: nh4 forwards even multicast
  v.push_back(forwarded("EndDX4_nh4_multicast_inner_destination", entry(kDX4), outer(kDX4, in4(ip4("224.1.1.1"))),
                        with_eth(kNh0Mac, kOut0Mac, in4(ip4("224.1.1.1"), 63))));
  v.push_back(to_kernel("EndDX4_inner_TTL_1", kDX4any, in4(ip4("10.20.0.5"), 1), SRV6_PASS_HOP_LIMIT, false));
  // routed by the inner destination: ip_route_input's martian destinations
  v.push_back(dropped("EndDX4_by_inner_destination_loopback", entry(kDX4any), outer(kDX4any, in4(ip4("127.0.0.1"))),
                      SRV6_DROP_BAD_IP_HEADER));
  v.push_back(dropped("EndDX4_by_inner_destination_zeronet", entry(kDX4any), outer(kDX4any, in4(ip4("0.1.2.3"))),
                      SRV6_DROP_BAD_IP_HEADER));

  // End.DX6 to fd00:3::2 (out1), and with :: by the inner destination (main: out0)
  v.push_back(forwarded("EndDX6_nh6", entry(kDX6), outer(kDX6, in6(ip6("2001:db8:77::1"))),
                        with_eth(kNh1Mac, kOut1Mac, in6(ip6("2001:db8:77::1"), 63))));
  v.push_back(forwarded("EndDX6_by_inner_destination", entry(kDX6any), outer(kDX6any, in6(kHostB)),
                        with_eth(kNh0Mac, kOut0Mac, in6(kHostB, 63))));
  v.push_back(dropped("EndDX6_IPv4_inner", entry(kDX6), outer(kDX6, in4(ip4("10.30.0.1"))), SRV6_DROP_INNER_PROTO));
  {
    // ip6_forward's source check: loopback (and ::, multicast) dropped
    pkt::Packet lo;
    lo.ipv6({.src = ip6("::1"), .dst = kHostB}).udp(1, 2).payload("from loopback");
    v.push_back(dropped("EndDX6_loopback_inner_source", entry(kDX6), outer(kDX6, lo), SRV6_DROP_BAD_IP_HEADER));
  }
  v.push_back(dropped("EndDX6_SRH_SL1", entry(kDX6), outer(kDX6, in6(kHostB), {.sl = 1}), SRV6_DROP_SL_NOT_ZERO));
  v.push_back(to_kernel("EndDX6_inner_hop_limit_1", kDX6any, in6(kHostB, 1), SRV6_PASS_HOP_LIMIT, false));
  {
    // seg6_lookup_nexthop without local delivery: a local address is a
    // blackhole, the packet counted as processed
    auto in = outer(kDX6any, in6(ip6(kIn0Addr6)));
    srv6::Counters c{1, l3_len(in), 0};
    v.push_back({"EndDX6_inner_to_a_local_address", entry(kDX6any), in,
                 {kXdpDrop, {}, {{SRV6_DROP_NEXT_LOCAL, 1}}, c}, {kTcShot, {}, {{SRV6_DROP_NEXT_LOCAL, 1}}, c}});
  }
  {
    // the inner packet is for our End SID: processed next, in the same pass
    auto srv6_inner = [](const pkt::Ip6& da, uint8_t sl, uint8_t hl) {
      pkt::Packet p;
      p.ipv6({.src = kHostA, .dst = da, .hop_limit = hl});
      pkt::Srh srh;
      srh.segments = {kNext, kEndSid};
      srh.segments_left = sl;
      p.srh(srh).append(in6(kHostB));
      return p;
    };
    v.push_back(forwarded("EndDX6_inner_for_our_End_SID", entry(kDX6any), outer(kDX6any, srv6_inner(kEndSid, 1, 64)),
                          with_eth(kNh0Mac, kOut0Mac, srv6_inner(kNext, 0, 63))));
  }
}

// The misconfiguration that overflows the kernel's stack: a policy for
// 2001:db8:77::/64 whose one SID (End.DX6 ::) decapsulates back to it.
// Each turn is one program (the policy, then the SID, by tail call); the
// kernel allows 33 tail calls, so 34 programs run, 17 of each, and the last
// one's chain is refused: dropped, counted chain_limit once. At TC the
// second turn's encapsulation is refused (bpf_skb_adjust_room takes one
// level: the skb stays marked encapsulated through our decapsulation):
// dropped, encap_failed. Either way the router goes on (every later case
// still passes).
void add_nested_cases(std::vector<Case>& v) {
  pkt::Packet p = eth_in();
  p.ipv6({.src = kHostA, .dst = ip6("2001:db8:77::1")}).udp(1, 2).payload("around and around");
  auto in = p.build();
  srv6::Counters c{17, 17 * (l3_len(in) + 40), 0};
  v.push_back({"Nested_policy_and_DX6_loop_bounded", "2001:db8:77::/64", in,
               {kXdpDrop, {}, {{SRV6_DROP_CHAIN_LIMIT, 1}}, c},
               {kTcShot, {}, {{SRV6_DROP_ENCAP_FAILED, 1}}, {1, l3_len(in) + 40, 1}}});
}

}  // namespace

void add_decap_cases(std::vector<Case>& v) {
  add_dt_cases(v);
  add_dx_cases(v);
  add_nested_cases(v);
}

void configure_decap(srv6::Instance& inst) {
  using srv6::parse_addr6;
  using srv6::parse_prefix6;
  inst.add_sid({.sid = parse_prefix6("fc00:1::d4"), .action = SRV6_ACTION_END_DX4, .nh4 = srv6::Addr4{198, 18, 2, 2}});
  inst.add_sid({.sid = parse_prefix6("fc00:1::d40"), .action = SRV6_ACTION_END_DX4, .nh4 = srv6::Addr4{}});
  inst.add_sid({.sid = parse_prefix6("fc00:1::d6"), .action = SRV6_ACTION_END_DX6, .nh6 = parse_addr6("fd00:3::2")});
  inst.add_sid({.sid = parse_prefix6("fc00:1::d60"), .action = SRV6_ACTION_END_DX6, .nh6 = srv6::Addr6{}});
  inst.add_sid({.sid = parse_prefix6("fc00:1::74"), .action = SRV6_ACTION_END_DT4, .table = 100});
  inst.add_sid({.sid = parse_prefix6("fc00:1::76"), .action = SRV6_ACTION_END_DT6, .table = 100});
  inst.add_sid({.sid = parse_prefix6("fc00:1::46"), .action = SRV6_ACTION_END_DT46, .table = 100});
  inst.add_policy({srv6::parse_prefix("2001:db8:77::/64"), SRV6_ENCAP_RED, {ip6("fc00:1::d60")}, ip6(kIn0Addr6)});
}

}  // namespace cases
