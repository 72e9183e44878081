// Routing failures in the main table (blackhole, unreachable, prohibit
// routes): the kernel answers them (TC hands the processed packet over, for
// its ICMP error), and each counts as an error of the SID or policy and by
// the route's kind, which the kernel's own counters hide.
#include "case_kit.hpp"

using namespace fixture;
using namespace cases::kit;
using pkt::ip6;

namespace cases {

void add_route_cases(std::vector<Case>& v) {
  const pkt::Ip6 end = ip6("fc00:1::e");
  for (auto [name, next, why] : {std::tuple{"End_next_segment_blackhole_route", "fc00:66::1", SRV6_DROP_ROUTE_BLACKHOLE},
                                 std::tuple{"End_next_segment_prohibit_route", "fc00:67::1", SRV6_DROP_ROUTE_PROHIBIT},
                                 std::tuple{"End_next_segment_unreachable_route", "fc00:68::1",
                                            SRV6_DROP_ROUTE_UNREACHABLE}}) {
    auto frame = [&](const pkt::Ip6& da, uint8_t sl) {
      pkt::Packet p = eth_in();
      p.ipv6({.src = kHostA, .dst = da});
      pkt::Srh srh;
      srh.segments = {ip6(next), end};
      srh.segments_left = sl;
      p.srh(srh).udp(1, 2).payload("to a failing route");
      return p.build();
    };
    v.push_back(handed(name, "fc00:1::e/128", frame(end, 1), SRV6_PASS_KERNEL_ROUTE, kTcOk, frame(ip6(next), 0),
                       {0, 0, 1}, {{why, 1}}));
  }
  {
    // a policy whose first SID has a prohibit route: encapsulated, handed over
    pkt::Packet inner;
    inner.ipv6({.src = kHostA, .dst = ip6("2001:db8:79::1")}).udp(1, 2).payload("policy to prohibit");
    pkt::Packet in = eth_in(), out = eth_in();
    in.append(inner);
    out.ipv6({.src = ip6(kIn0Addr6), .dst = ip6("fc00:67::1")}).append(inner);
    v.push_back(handed("HEncaps_first_SID_prohibit_route", "2001:db8:79::/64", in.build(), SRV6_PASS_KERNEL_ROUTE,
                       kTcOk, out.build(), {0, 0, 1}, {{SRV6_DROP_ROUTE_PROHIBIT, 1}}));
  }
}

void configure_route(srv6::Instance& inst) {
  inst.add_policy({srv6::parse_prefix("2001:db8:79::/64"), SRV6_ENCAP_RED, {ip6("fc00:67::1")}, ip6(kIn0Addr6)});
}

}  // namespace cases
