#include "cases.hpp"

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <sched.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "net_fixture.hpp"

using namespace fixture;
using pkt::ip4;
using pkt::ip6;

namespace cases {
namespace {

// ---------------------------------------------------------------- packets

const pkt::Ip6 kHostA = ip6("2001:db8:a::1");
const pkt::Ip6 kHostB = ip6("2001:db8:b::1");

pkt::Packet eth_in() {
  pkt::Packet p;
  p.eth(kInMac, kSenderMac);
  return p;
}

// An SRv6 packet for `da` carrying an SRH with the given wire-order segments.
struct SrOpts {
  uint8_t sl;
  std::vector<pkt::Ip6> segs;  // wire order
  uint8_t hop_limit = 64;
  bool hbh = false;
  pkt::Mac dmac = kInMac, smac = kSenderMac;
};

pkt::Bytes sr_packet(const pkt::Ip6& da, const SrOpts& o) {
  pkt::Packet p;
  p.eth(o.dmac, o.smac);
  p.ipv6({.src = kHostA, .dst = da, .traffic_class = 0x2c, .flow_label = 0x12345, .hop_limit = o.hop_limit});
  if (o.hbh) p.hbh({.options = {0x05, 0x02, 0x00, 0x00}});  // router alert
  pkt::Srh srh;
  srh.segments = o.segs;
  srh.segments_left = o.sl;
  p.srh(srh);
  p.ipv6({.src = kHostA, .dst = kHostB, .hop_limit = 50});
  p.udp(1234, 5678).payload("srv6 test payload");
  return p.build();
}

pkt::Packet inner6(const pkt::Ip6& dst = kHostB) {
  pkt::Packet p;
  p.ipv6({.src = kHostA, .dst = dst, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 64});
  p.udp(1111, 2222).payload(std::string(16, 'x'));
  return p;
}

pkt::Packet inner4(const pkt::Ip4& dst, uint8_t ttl = 64) {
  pkt::Packet p;
  p.ipv4({.src = ip4("192.0.2.1"), .dst = dst, .tos = 0xb8, .ttl = ttl, .id = 7});
  p.udp(1111, 2222).payload("ipv4 inner payload");
  return p;
}

pkt::Bytes with_eth(const pkt::Mac& d, const pkt::Mac& s, const pkt::Packet& l3) {
  pkt::Packet p;
  p.eth(d, s).append(l3);
  return p.build();
}

size_t l3_len(const pkt::Bytes& frame) { return frame.size() - 14; }

// ------------------------------------------------------------------ cases

const pkt::Ip6 kEnd = ip6("fc00:1::e");
const pkt::Ip6 kEndX = ip6("fc00:1::a");
const pkt::Ip6 kEndXll = ip6("fc00:1::b");
const pkt::Ip6 kEndT = ip6("fc00:1::7");
const pkt::Ip6 kS2 = ip6("fc00:2::2"), kS3 = ip6("fc00:3::3");

constexpr int kXdpPass = XDP_PASS, kXdpDrop = XDP_DROP, kXdpRedirect = XDP_REDIRECT;
constexpr int kTcOk = TC_ACT_OK, kTcShot = TC_ACT_SHOT, kTcRedirect = TC_ACT_REDIRECT;

// A SID packet forwarded by both hooks with the same output.
Case forwarded(std::string name, std::string entry, pkt::Bytes in, pkt::Bytes out) {
  srv6::Counters c{1, l3_len(in), 0};
  return {name, entry, in, {kXdpRedirect, out, {}, c}, {kTcRedirect, out, {}, c}};
}

// A malformed SID packet: both hooks drop it and count the reason.
Case dropped(std::string name, std::string entry, pkt::Bytes in, srv6_reason r) {
  srv6::Counters c{0, 0, 1};
  return {name, entry, in, {kXdpDrop, {}, {{r, 1}}, c}, {kTcShot, {}, {{r, 1}}, c}};
}

// XDP hands the frame up unchanged; TC processes it into `tc_out`.
Case handed(std::string name, std::string entry, pkt::Bytes in, srv6_reason r, int tc_verdict,
            pkt::Bytes tc_out, srv6::Counters tc_counters, std::map<srv6_reason, uint64_t> tc_reasons) {
  return {name, entry, in, {kXdpPass, {}, {{r, 1}}, {}}, {tc_verdict, tc_out, tc_reasons, tc_counters}};
}

void add_endpoint_cases(std::vector<Case>& v) {
  const std::string end = "fc00:1::e/128";
  // End, SL 2 -> 1: DA becomes segments[1], hop limit 64 -> 63, MACs of out0.
  std::vector<pkt::Ip6> segs3 = {kS3, kS2, kEnd};
  v.push_back(forwarded("End_SL2_to_1", end, sr_packet(kEnd, {.sl = 2, .segs = segs3}),
                        sr_packet(kS2, {.sl = 1, .segs = segs3, .hop_limit = 63, .dmac = kNh0Mac, .smac = kOut0Mac})));
  std::vector<pkt::Ip6> segs2 = {kS2, kEnd};
  v.push_back(forwarded("End_SL1_to_0", end, sr_packet(kEnd, {.sl = 1, .segs = segs2}),
                        sr_packet(kS2, {.sl = 0, .segs = segs2, .hop_limit = 63, .dmac = kNh0Mac, .smac = kOut0Mac})));
  v.push_back(forwarded("End_after_HopByHop", end, sr_packet(kEnd, {.sl = 1, .segs = segs2, .hbh = true}),
                        sr_packet(kS2, {.sl = 0, .segs = segs2, .hop_limit = 63, .hbh = true, .dmac = kNh0Mac,
                                        .smac = kOut0Mac})));
  v.push_back(forwarded("End_hop_limit_2", end, sr_packet(kEnd, {.sl = 1, .segs = segs2, .hop_limit = 2}),
                        sr_packet(kS2, {.sl = 0, .segs = segs2, .hop_limit = 1, .dmac = kNh0Mac, .smac = kOut0Mac})));
  // Hop limit 1: the kernel must send Time Exceeded. TC hands it over
  // processed (SL and DA advanced, hop limit untouched); counted as an error
  // as the kernel's seg6local counts ip6_forward's failure.
  v.push_back(handed("End_hop_limit_1", end, sr_packet(kEnd, {.sl = 1, .segs = segs2, .hop_limit = 1}),
                     SRV6_PASS_HOP_LIMIT, kTcOk, sr_packet(kS2, {.sl = 0, .segs = segs2, .hop_limit = 1}),
                     {0, 0, 1}, {{SRV6_PASS_HOP_LIMIT, 1}}));
  // Neighbour of the next hop unresolved: TC redirects through the kernel's
  // neighbour code (bpf_redirect_neigh), MACs left to it.
  const pkt::Ip6 far = ip6("fc00:99::1");
  std::vector<pkt::Ip6> segs_far = {far, kEnd};
  auto in_far = sr_packet(kEnd, {.sl = 1, .segs = segs_far});
  v.push_back(handed("End_neighbour_unresolved", end, in_far, SRV6_PASS_NO_NEIGH, kTcRedirect,
                     sr_packet(far, {.sl = 0, .segs = segs_far, .hop_limit = 63}), {1, l3_len(in_far), 0}, {}));
  // Egress without XDP redirect support: the TC program forwards it.
  const pkt::Ip6 skb_only = ip6("fc00:77::1");
  std::vector<pkt::Ip6> segs_skb = {skb_only, kEnd};
  auto in_skb = sr_packet(kEnd, {.sl = 1, .segs = segs_skb});
  v.push_back(handed("End_egress_not_xdp_capable", end, in_skb, SRV6_PASS_SKB_EGRESS, kTcRedirect,
                     sr_packet(skb_only, {.sl = 0, .segs = segs_skb, .hop_limit = 63,
                                          .dmac = pkt::mac("02:00:00:00:05:02"), .smac = pkt::mac("02:00:00:00:05:01")}),
                     {1, l3_len(in_skb), 0}, {}));

  // The next segment is another SID of ours (End, then End.T): as the
  // kernel's seg6local, we run it at once, with no hop-limit decrement in
  // between, and forward by its route (table 100, out1).
  std::vector<pkt::Ip6> segs_chain = {kS2, kEndT, kEnd};
  v.push_back(forwarded("End_then_own_EndT", end, sr_packet(kEnd, {.sl = 2, .segs = segs_chain}),
                        sr_packet(kS2, {.sl = 0, .segs = segs_chain, .hop_limit = 63, .dmac = kNh1Mac,
                                        .smac = kOut1Mac})));

  // A locator: every address in fc00:1:100::/48 is an End SID.
  const pkt::Ip6 in_locator = ip6("fc00:1:100::5");
  std::vector<pkt::Ip6> segs_loc = {kS2, in_locator};
  v.push_back(forwarded("End_locator_prefix", "fc00:1:100::/48", sr_packet(in_locator, {.sl = 1, .segs = segs_loc}),
                        sr_packet(kS2, {.sl = 0, .segs = segs_loc, .hop_limit = 63, .dmac = kNh0Mac, .smac = kOut0Mac})));

  // End.X: to a global next hop and to a link-local one through oif out1.
  std::vector<pkt::Ip6> segsx = {kS2, kEndX};
  v.push_back(forwarded("EndX_global_nh6", "fc00:1::a/128", sr_packet(kEndX, {.sl = 1, .segs = segsx}),
                        sr_packet(kS2, {.sl = 0, .segs = segsx, .hop_limit = 63, .dmac = kNh1Mac, .smac = kOut1Mac})));
  std::vector<pkt::Ip6> segsxl = {kS2, kEndXll};
  // bpf_fib_lookup refuses link-local next hops: XDP hands the packet to TC,
  // which sends it out of oif through the kernel's neighbour table.
  auto in_ll = sr_packet(kEndXll, {.sl = 1, .segs = segsxl});
  v.push_back(handed("EndX_link_local_nh6", "fc00:1::b/128", in_ll, SRV6_PASS_NO_NEIGH, kTcRedirect,
                     sr_packet(kS2, {.sl = 0, .segs = segsxl, .hop_limit = 63}), {1, l3_len(in_ll), 0}, {}));
  // End.T: table 100 sends fc00::/16 to out1 (the main table to out0).
  std::vector<pkt::Ip6> segst = {kS2, kEndT};
  v.push_back(forwarded("EndT_table_100", "fc00:1::7/128", sr_packet(kEndT, {.sl = 1, .segs = segst}),
                        sr_packet(kS2, {.sl = 0, .segs = segst, .hop_limit = 63, .dmac = kNh1Mac, .smac = kOut1Mac})));
}

void add_refusal_cases(std::vector<Case>& v) {
  const std::string end = "fc00:1::e/128";
  std::vector<pkt::Ip6> segs2 = {kS2, kEnd};
  v.push_back(dropped("End_SL0", end, sr_packet(kEnd, {.sl = 0, .segs = segs2}), SRV6_DROP_SL_ZERO));
  {
    pkt::Packet p = eth_in();
    p.ipv6({.src = kHostA, .dst = kEnd}).udp(1, 2).payload("no srh");
    v.push_back(dropped("End_no_SRH", end, p.build(), SRV6_DROP_NO_SRH));
  }
  auto bad_srh = [&](std::string name, auto mutate) {
    pkt::Srh srh;
    srh.segments = segs2;
    srh.segments_left = 1;
    mutate(srh);
    pkt::Packet p = eth_in();
    p.ipv6({.src = kHostA, .dst = kEnd}).srh(srh).append(inner6());
    v.push_back(dropped(name, end, p.build(), SRV6_DROP_MALFORMED_SRH));
  };
  // One case per rule of seg6_validate_srh.
  bad_srh("SRH_routing_type_not_4", [](pkt::Srh& s) { s.routing_type = 2; });
  bad_srh("SRH_last_entry_beyond_hdrlen", [](pkt::Srh& s) { s.last_entry = 2; });
  bad_srh("SRH_SL_above_last_entry_plus_1", [](pkt::Srh& s) { s.segments_left = 3; });
  bad_srh("SRH_TLV_overruns_header", [](pkt::Srh& s) { s.tlvs = {0x04, 0x07, 0, 0, 0, 0, 0, 0}; });
  bad_srh("SRH_TLV_one_byte_left", [](pkt::Srh& s) {
    s.tlvs = {0x04, 0x05, 0, 0, 0, 0, 0, 0};  // 7 bytes used, 1 left: no room for a TLV header
  });
  {
    // Valid TLV padding: processed like any SRH.
    pkt::Srh srh;
    srh.segments = segs2;
    srh.segments_left = 1;
    srh.tlvs = {0x04, 0x06, 0, 0, 0, 0, 0, 0};  // PadN filling 8 bytes
    pkt::Packet in = eth_in(), out;
    in.ipv6({.src = kHostA, .dst = kEnd}).srh(srh).append(inner6());
    srh.segments_left = 0;
    out.eth(kNh0Mac, kOut0Mac).ipv6({.src = kHostA, .dst = kS2, .hop_limit = 63}).srh(srh).append(inner6());
    v.push_back(forwarded("SRH_with_padding_TLV", end, in.build(), out.build()));
  }
  // The SRH claims more bytes than the packet has (found by tests/diff).
  {
    pkt::Srh srh;
    srh.segments = {kS2, kS2, kEnd};
    srh.segments_left = 2;
    srh.hdr_ext_len = 60;
    srh.next_header = 59;
    pkt::Packet p = eth_in();
    p.ipv6({.src = kHostA, .dst = kEnd}).srh(srh);
    v.push_back(dropped("SRH_longer_than_packet", end, p.build(), SRV6_DROP_TRUNCATED));
  }
  // What the kernel's ipv6_rcv drops before seg6local sees it (tests/diff).
  auto bad_ip6 = [&](std::string name, pkt::Ipv6 h) {
    pkt::Srh srh;
    srh.segments = segs2;
    srh.segments_left = 1;
    pkt::Packet p = eth_in();
    p.ipv6(h).srh(srh).append(inner6());
    auto b = p.build();
    if (name == "IPv6_version_4") b[14] = (b[14] & 0x0f) | 0x40;
    v.push_back(dropped(name, end, b, SRV6_DROP_BAD_IP_HEADER));
  };
  bad_ip6("IPv6_version_4", {.src = kHostA, .dst = kEnd});
  bad_ip6("IPv6_multicast_source", {.src = ip6("ff02::1"), .dst = kEnd});
  bad_ip6("IPv6_loopback_source", {.src = ip6("::1"), .dst = kEnd});
  bad_ip6("IPv6_v4mapped_source", {.src = ip6("::ffff:192.0.2.1"), .dst = kEnd});
  bad_ip6("End_unspecified_source", {.src = ip6("::"), .dst = kEnd});
  {
    // A link-local source: ip6_forward answers "not a neighbour", so the
    // kernel gets the processed packet; an error, as the kernel counts it.
    pkt::Srh srh;
    srh.segments = segs2;
    srh.segments_left = 1;
    pkt::Packet in = eth_in(), out;
    in.ipv6({.src = ip6("fe80::9"), .dst = kEnd}).srh(srh).append(inner6());
    srh.segments_left = 0;
    out.eth(kInMac, kSenderMac).ipv6({.src = ip6("fe80::9"), .dst = kS2}).srh(srh).append(inner6());
    v.push_back(handed("End_link_local_source", end, in.build(), SRV6_PASS_KERNEL_ROUTE, kTcOk, out.build(),
                       {0, 0, 1}, {{SRV6_PASS_KERNEL_ROUTE, 1}}));
  }
  // Hop-by-Hop options ipv6_rcv must answer (Parameter Problem) go to the
  // kernel unprocessed from both hooks; unknown "skip" options do not stop us.
  {
    pkt::Packet p = eth_in();
    p.ipv6({.src = kHostA, .dst = kEnd}).hbh({.options = {0x9e, 0x02, 0, 0}});
    pkt::Srh srh;
    srh.segments = segs2;
    srh.segments_left = 1;
    p.srh(srh).append(inner6());
    auto in = p.build();
    v.push_back({"HopByHop_option_to_answer", end, in, {kXdpPass, {}, {{SRV6_PASS_KERNEL_INPUT, 1}}, {}},
                 {kTcOk, {}, {{SRV6_PASS_KERNEL_INPUT, 1}}, {}}});
  }
  {
    pkt::Srh srh;
    srh.segments = segs2;
    srh.segments_left = 1;
    pkt::Packet in = eth_in(), out;
    in.ipv6({.src = kHostA, .dst = kEnd}).hbh({.options = {0x1e, 0x02, 0, 0}}).srh(srh).append(inner6());
    srh.segments_left = 0;
    out.eth(kNh0Mac, kOut0Mac).ipv6({.src = kHostA, .dst = kS2, .hop_limit = 63});
    out.hbh({.options = {0x1e, 0x02, 0, 0}}).srh(srh).append(inner6());
    v.push_back(forwarded("HopByHop_unknown_option_skipped", end, in.build(), out.build()));
  }
  // Truncated: the frame ends inside the SRH (payload length says more).
  v.push_back(dropped("SID_packet_truncated_in_SRH", end,
                      [&] {
                        auto b = sr_packet(kEnd, {.sl = 1, .segs = segs2});
                        b.resize(14 + 40 + 12);
                        return b;
                      }(),
                      SRV6_DROP_TRUNCATED));
}

void add_passthrough_cases(std::vector<Case>& v) {
  auto untouched = [&](std::string name, pkt::Bytes in, bool xdp_only = false) {
    v.push_back({name, "", in, {kXdpPass, {}, {}, {}}, {kTcOk, {}, {}, {}}, xdp_only});
  };
  {
    pkt::Packet p = eth_in();
    p.ipv6({.src = kHostA, .dst = ip6("2001:db8:99::1")}).udp(1, 2).payload("not ours");
    untouched("IPv6_not_ours", p.build());
  }
  {
    pkt::Packet p = eth_in();
    p.ipv4({.src = ip4("192.0.2.1"), .dst = ip4("198.51.100.1")}).udp(1, 2).payload("not ours");
    untouched("IPv4_not_ours", p.build());
  }
  // An SRv6 packet whose DA is not one of our SIDs is not ours either.
  untouched("SRv6_for_another_node", sr_packet(kS3, {.sl = 1, .segs = {kS2, kS3}}));
  pkt::Bytes arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 1, 2, 0x08, 0x06};
  arp.resize(60, 0);
  untouched("ARP", arp);
  {
    pkt::Bytes eth_only(kInMac.begin(), kInMac.end());
    eth_only.insert(eth_only.end(), kSenderMac.begin(), kSenderMac.end());
    eth_only.insert(eth_only.end(), {0x86, 0xdd});  // says IPv6, carries nothing
    untouched("Ethernet_header_only", eth_only, true);
  }
  {
    auto b = sr_packet(kEnd, {.sl = 1, .segs = {kS2, kEnd}});
    b.resize(14 + 30);  // cut inside the IPv6 header: the DA is not there
    untouched("IPv6_header_truncated", b, true);
  }
}

// Policies of the fixture: per mode and SID count, one IPv6 and one IPv4
// prefix. Segments are fc00:2::1, fc00:2::2, ... (all via out0).
std::vector<pkt::Ip6> policy_segs(int n) {
  std::vector<pkt::Ip6> s;
  for (int i = 1; i <= n; i++) {
    char buf[32];
    snprintf(buf, sizeof buf, "fc00:2::%x", i);
    s.push_back(ip6(buf));
  }
  return s;
}
std::string policy_prefix6(bool red, int n) { return "2001:db8:" + std::to_string(red ? 100 + n : n) + "::/64"; }
std::string policy_prefix4(bool red, int n) { return "10." + std::to_string(red ? 100 + n : n) + ".0.0/24"; }
pkt::Ip6 policy_dst6(bool red, int n) { return ip6("2001:db8:" + std::to_string(red ? 100 + n : n) + "::1"); }
pkt::Ip4 policy_dst4(bool red, int n) { return ip4("10." + std::to_string(red ? 100 + n : n) + ".0.9"); }
const pkt::Ip6 kTunSrc = ip6("fd00:1::1");
// 10 and 11 SIDs: the last H.Encaps that fits XDP's headroom and the first that does not.
const int kSidCounts[] = {1, 2, 10, 11, 16};

// The frame the kernel's seg6 encap would put on the wire (see
// tests/kernel: the builder is checked against the kernel there).
pkt::Bytes encapsulated(bool red, const std::vector<pkt::Ip6>& segs, const pkt::Packet& inner, bool v6,
                        uint8_t tc, uint32_t fl, uint8_t hl, pkt::Mac dmac = kNh0Mac,
                        pkt::Mac smac = kOut0Mac) {
  pkt::Packet p;
  p.eth(dmac, smac);
  p.ipv6({.src = kTunSrc, .dst = segs[0], .traffic_class = tc, .flow_label = fl, .hop_limit = hl});
  if (!red || segs.size() > 1) {
    pkt::Srh srh;
    srh.segments.assign(segs.rbegin(), segs.rend() - (red ? 1 : 0));
    srh.segments_left = segs.size() - 1;
    srh.last_entry = srh.segments.size() - 1;
    p.srh(srh);
  }
  p.append(inner);
  (void)v6;
  return p.build();
}

// Encapsulated and forwarded by both hooks. XDP frames have 256 bytes of
// headroom, of which the kernel keeps 40 for its xdp_frame: a larger
// encapsulation (11 SIDs and more with H.Encaps) is handed to TC.
Case encap_case(std::string name, std::string entry, pkt::Bytes in, pkt::Bytes out) {
  srv6::Counters c{1, l3_len(out), 0};
  if (out.size() - in.size() > 216)
    return handed(name, entry, in, SRV6_PASS_NO_HEADROOM, kTcRedirect, out, c, {});
  return {name, entry, in, {kXdpRedirect, out, {}, c}, {kTcRedirect, out, {}, c}};
}

void add_encap_cases(std::vector<Case>& v) {
  for (bool red : {false, true}) {
    for (int n : kSidCounts) {
      auto segs = policy_segs(n);
      std::string mode = red ? "HEncapsRed_" : "HEncaps_";
      {
        auto inner = inner6(policy_dst6(red, n));
        auto in = with_eth(kInMac, kSenderMac, inner);
        auto out = encapsulated(red, segs, inner, true, 0xb9, 0xabcde, 63);
        v.push_back(encap_case(mode + std::to_string(n) + "_SIDs_IPv6_inner", policy_prefix6(red, n), in, out));
      }
      {
        auto inner = inner4(policy_dst4(red, n));
        auto in = with_eth(kInMac, kSenderMac, inner);
        auto out = encapsulated(red, segs, inner, false, 0, 0, 63);
        v.push_back(encap_case(mode + std::to_string(n) + "_SIDs_IPv4_inner", policy_prefix4(red, n), in, out));
      }
    }
  }
  // The policy's first SID is our own End: encapsulate, run End, forward.
  {
    auto inner = inner6(ip6("2001:db8:ee::1"));
    auto in = with_eth(kInMac, kSenderMac, inner);
    pkt::Packet outp;
    outp.eth(kNh0Mac, kOut0Mac)
        .ipv6({.src = kTunSrc, .dst = kS2, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 63});
    pkt::Srh srh;
    srh.segments = {kS2, kEnd};
    srh.segments_left = 0;
    outp.srh(srh).append(inner);
    auto out = outp.build();
    srv6::Counters c{1, l3_len(out), 0};
    v.push_back({"HEncaps_first_SID_is_own_End", "2001:db8:ee::/64", in, {kXdpRedirect, out, {}, c},
                 {kTcRedirect, out, {}, c}});
  }
  // IPv6 inner with hop limit 1: the outer copy is 1 too, so forwarding must
  // fail: TC hands the encapsulated packet to the kernel.
  {
    auto segs = policy_segs(2);
    pkt::Packet inner;
    inner.ipv6({.src = kHostA, .dst = policy_dst6(false, 2), .hop_limit = 1}).udp(1, 2).payload("hl1");
    auto in = with_eth(kInMac, kSenderMac, inner);
    pkt::Packet outp;
    outp.eth(kInMac, kSenderMac).ipv6({.src = kTunSrc, .dst = segs[0], .hop_limit = 1});
    pkt::Srh srh;
    srh.segments = {segs[1], segs[0]};
    outp.srh(srh).append(inner);
    v.push_back(handed("HEncaps_inner_hop_limit_1", policy_prefix6(false, 2), in, SRV6_PASS_HOP_LIMIT, kTcOk,
                       outp.build(), {0, 0, 1}, {{SRV6_PASS_HOP_LIMIT, 1}}));
  }
  // Too big for out2 (MTU 1280) once encapsulated: the kernel sends Packet
  // Too Big; TC hands it over encapsulated.
  {
    auto segs = std::vector<pkt::Ip6>{ip6("fc00:12::1")};
    pkt::Packet inner;
    inner.ipv6({.src = kHostA, .dst = ip6("2001:db8:ff::1")}).udp(1, 2).payload(std::string(1200, 'b'));
    auto in = with_eth(kInMac, kSenderMac, inner);
    pkt::Packet outp;
    outp.eth(kInMac, kSenderMac).ipv6({.src = kTunSrc, .dst = segs[0], .hop_limit = 64});
    pkt::Srh srh;
    srh.segments = segs;
    outp.srh(srh).append(inner);
    v.push_back(handed("HEncaps_too_big_for_egress_MTU", "2001:db8:ff::/64", in, SRV6_PASS_TOO_BIG, kTcOk,
                       outp.build(), {0, 0, 1}, {{SRV6_PASS_TOO_BIG, 1}}));
  }
  // A short IPv4 packet arrives padded to Ethernet's 60 bytes: the padding
  // is not part of it and must not be carried inside the tunnel.
  {
    pkt::Packet inner;
    inner.ipv4({.src = ip4("192.0.2.1"), .dst = policy_dst4(false, 2), .ttl = 64}).udp(1, 2).payload("p");
    auto in = with_eth(kInMac, kSenderMac, inner);
    in.resize(60, 0);
    auto out = encapsulated(false, policy_segs(2), inner, false, 0, 0, 63);
    v.push_back(encap_case("HEncaps_IPv4_with_Ethernet_padding", policy_prefix4(false, 2), in, out));
  }
  // ip_rcv / ip_route_input drops: bad header checksum, martian source.
  {
    pkt::Packet p = eth_in();
    p.ipv4({.src = ip4("192.0.2.1"), .dst = policy_dst4(false, 1), .checksum = 0x1234}).udp(1, 2).payload("x");
    v.push_back(dropped("HEncaps_IPv4_bad_checksum", policy_prefix4(false, 1), p.build(), SRV6_DROP_BAD_IP_HEADER));
  }
  {
    pkt::Packet p = eth_in();
    p.ipv4({.src = ip4("127.0.0.1"), .dst = policy_dst4(false, 1)}).udp(1, 2).payload("x");
    v.push_back(dropped("HEncaps_IPv4_loopback_source", policy_prefix4(false, 1), p.build(), SRV6_DROP_BAD_IP_HEADER));
  }
  // IPv4 header claiming more bytes than the frame has.
  {
    pkt::Packet p = eth_in();
    p.ipv4({.src = ip4("192.0.2.1"), .dst = policy_dst4(false, 1), .total_length = 400}).udp(1, 2).payload("x");
    v.push_back(dropped("HEncaps_IPv4_truncated", policy_prefix4(false, 1), p.build(), SRV6_DROP_TRUNCATED));
  }
}

}  // namespace

std::vector<Case> all_cases() {
  std::vector<Case> v;
  add_endpoint_cases(v);
  add_refusal_cases(v);
  add_passthrough_cases(v);
  add_encap_cases(v);
  return v;
}

void enter_fixture_namespace() {
  if (unshare(CLONE_NEWNET) != 0)
    throw std::runtime_error(std::string("unshare(CLONE_NEWNET): ") + strerror(errno));
  if (std::system(fixture::kSetup) != 0) throw std::runtime_error("fixture namespace setup failed");
}

// The fixture's configuration, through the loader's typed API.
void configure(srv6::Instance& inst) {
  using srv6::parse_addr6;
  using srv6::parse_prefix6;
  inst.add_sid({.sid = parse_prefix6("fc00:1::e"), .action = SRV6_ACTION_END});
  inst.add_sid({.sid = parse_prefix6("fc00:1::a"), .action = SRV6_ACTION_END_X, .nh6 = parse_addr6("fd00:3::2")});
  inst.add_sid({.sid = parse_prefix6("fc00:1::b"),
                .action = SRV6_ACTION_END_X,
                .nh6 = parse_addr6("fe80::2"),
                .oif = srv6::ifindex_of("out1")});
  inst.add_sid({.sid = parse_prefix6("fc00:1::7"), .action = SRV6_ACTION_END_T, .table = 100});
  inst.add_sid({.sid = parse_prefix6("fc00:1:100::/48"), .action = SRV6_ACTION_END});
  for (bool red : {false, true}) {
    for (int n : kSidCounts) {
      std::vector<srv6::Addr6> segs;
      for (auto& s : policy_segs(n)) segs.push_back(s);
      auto mode = red ? SRV6_ENCAP_RED : SRV6_ENCAP;
      inst.add_policy({srv6::parse_prefix(policy_prefix6(red, n)), mode, segs, kTunSrc});
      inst.add_policy({srv6::parse_prefix(policy_prefix4(red, n)), mode, segs, kTunSrc});
    }
  }
  inst.add_policy({srv6::parse_prefix("2001:db8:ff::/64"), SRV6_ENCAP, {ip6("fc00:12::1")}, kTunSrc});
  inst.add_policy({srv6::parse_prefix("2001:db8:ee::/64"), SRV6_ENCAP, {ip6("fc00:1::e"), ip6("fc00:2::2")}, kTunSrc});
  // XDP may redirect to out0..out2 (vouched for: the runs are not live);
  // out3 stands for an egress that cannot take XDP frames.
  for (const char* dev : {"out0", "out1", "out2"})
    inst.attach(dev, srv6::Hook::Xdp, srv6::XdpMode::Auto, srv6::Egress::Xdp);
}

namespace {
srv6::Instance fresh_instance(const std::string& name, const srv6::InstanceOptions& opts) {
  enter_fixture_namespace();
  // pins of a crashed run may sit under a reused namespace inode
  srv6::Instance::open(name).destroy();
  return srv6::Instance::open(name, opts);
}
}  // namespace

Fixture::Fixture(const std::string& name, const srv6::InstanceOptions& opts)
    : inst_(fresh_instance(name, opts)) {
  try {
    configure(inst_);
  } catch (...) {
    inst_.destroy();
    throw;
  }
}

Fixture::~Fixture() { inst_.destroy(); }

}  // namespace cases
