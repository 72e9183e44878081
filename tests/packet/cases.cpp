#include "cases.hpp"

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "case_kit.hpp"
#include "net_fixture.hpp"

using namespace fixture;
using namespace cases::kit;
using pkt::ip4;
using pkt::ip6;

namespace cases {
namespace {

// ---------------------------------------------------------------- packets


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


// ------------------------------------------------------------ ICMP errors

// The ICMPv6 Packet Too Big the head-end sends for `inner` (an IPv6
// packet caught by a policy, too big once encapsulated) to its source, out
// of in0 toward the sender (the fixture's route back): from in0's
// address, hop limit 64, class and label 0, the tunnel MTU, quoting what
// fits in 1280 bytes.
// The way back to a sender: the FIB's MACs and our source address on it.
struct Back {
  pkt::Mac dmac, smac;
  pkt::Ip6 src;
};
const Back kBackIn0{kSenderMac, kInMac, ip6(kIn0Addr6)};

pkt::Bytes packet_too_big(const pkt::Packet& inner, uint32_t mtu, std::optional<CsumAt> at = CsumAt{40, kUdpCsum},
                          const Back& back = kBackIn0) {
  auto l3 = inner.build();
  pkt::Ip6 src;
  std::copy_n(l3.begin() + 8, 16, src.begin());
  pkt::Packet p;
  p.eth(back.dmac, back.smac).ipv6({.src = back.src, .dst = src, .hop_limit = 64});
  p.icmp6_too_big({.mtu = mtu}).payload(quote_of(l3, 1280 - 40 - 8, at));
  return p.build();
}

// The ICMPv4 Fragmentation Needed for `inner` (an IPv4 packet with DF):
// from in0's IPv4 address, TTL 64, TOS the inner one's TOS bits with
// precedence "internetwork control" (RFC 1812 4.3.2.5), the tunnel MTU as
// next-hop MTU, quoting what fits in 576 bytes. Its IPv4 id is random (id
// 0 here): compare with frag_needed_mask.
pkt::Bytes frag_needed(const pkt::Packet& inner, uint16_t mtu, std::optional<CsumAt> at = CsumAt{20, kUdpCsum}) {
  auto l3 = inner.build();
  pkt::Ip4 src;
  std::copy_n(l3.begin() + 12, 4, src.begin());
  uint8_t tos = uint8_t((l3[1] & 0x1e) | 0xc0);
  pkt::Packet p;
  p.eth(kSenderMac, kInMac).ipv4({.src = ip4(kIn0Addr4), .dst = src, .tos = tos, .ttl = 64, .id = 0, .frag = 0});
  p.icmp_frag_needed({.mtu = mtu}).payload(quote_of(l3, 576 - 20 - 8, at));
  return p.build();
}

// The random IPv4 id and the header checksum over it are not compared;
// the checksum must verify.
void frag_needed_mask(Expect& e) {
  e.masked = {{14 + 4, 2}, {14 + 10, 2}};
  e.check = [](const pkt::Bytes& f) -> std::string {
    if (f.size() < 34) return "no IPv4 header";
    return pkt::ones_sum(f.data() + 14, 20) == 0xffff ? "" : "the IPv4 header checksum does not verify";
  };
}

// ------------------------------------------------------------------ cases

const pkt::Ip6 kEnd = ip6("fc00:1::e");
const pkt::Ip6 kEndX = ip6("fc00:1::a");
const pkt::Ip6 kEndXll = ip6("fc00:1::b");
const pkt::Ip6 kEndT = ip6("fc00:1::7");
const pkt::Ip6 kS2 = ip6("fc00:2::2"), kS3 = ip6("fc00:3::3");


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
  // IPv6 inner with hop limit 1 (or 0): the outer copy is the same, so
  // forwarding must fail: TC hands the encapsulated packet to the kernel.
  for (uint8_t hl : {0, 1}) {
    auto segs = policy_segs(2);
    pkt::Packet inner;
    inner.ipv6({.src = kHostA, .dst = policy_dst6(false, 2), .hop_limit = hl}).udp(1, 2).payload("hl1");
    auto in = with_eth(kInMac, kSenderMac, inner);
    pkt::Packet outp;
    outp.eth(kInMac, kSenderMac).ipv6({.src = kTunSrc, .dst = segs[0], .hop_limit = hl});
    pkt::Srh srh;
    srh.segments = {segs[1], segs[0]};
    outp.srh(srh).append(inner);
    v.push_back(handed("HEncaps_inner_hop_limit_" + std::to_string(hl), policy_prefix6(false, 2), in, SRV6_PASS_HOP_LIMIT, kTcOk,
                       outp.build(), {0, 0, 1}, {{SRV6_PASS_HOP_LIMIT, 1}}));
  }
  // Too big for out2 (MTU 1280) once encapsulated: XDP hands it up
  // unchanged; TC answers the inner source with a Packet Too Big carrying
  // the tunnel MTU (1280 - 40 - 24 of SRH), as from any router on its path
  // (more PMTUD cases in add_pmtud_cases).
  {
    pkt::Packet inner;
    inner.ipv6({.src = kHostA, .dst = ip6("2001:db8:ff::1")}).udp(1, 2).payload(std::string(1200, 'b'));
    auto in = with_eth(kInMac, kSenderMac, inner);
    v.push_back(handed("HEncaps_too_big_for_egress_MTU", "2001:db8:ff::/64", in, SRV6_PASS_TOO_BIG, kTcRedirect,
                       packet_too_big(inner, 1280 - 40 - 24), {0, 0, 1}, {{SRV6_DROP_PMTU_ICMP, 1}}));
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

// ------------------------------------------------------------- checksums

// Frames from in1, whose XDP (native, on a veth) sees the skbs its peer
// sends: a TCP or UDP checksum may be left to offload (CHECKSUM_PARTIAL:
// the field holds the pseudo-header sum). Once XDP redirects the frame
// nobody finishes it, so XDP does: a field that holds exactly the
// pseudo-header sum (RFC 8200 8.1 with the final destination, RFC 768 /
// RFC 9293) is completed; TCP with any other value goes as it is; UDP
// must then verify, else (and for IPv4 UDP without a checksum) the frame
// takes the skb path (XDP_PASS, csum_offload), where TC processes it as
// usual. TC never touches a checksum (the skb keeps its state).

pkt::Packet eth_in1() {
  pkt::Packet p;
  p.eth(kIn1Mac, kIn1SenderMac);
  return p;
}

// The transport of the checksum cases, in one of the states a sender's
// checksum can be in.
enum class Sum { Partial, Complete, Corrupt, Zero };
struct L4 {
  bool tcp;
  Sum sum;
  size_t payload = 21;  // odd: the checksum's tail pads a byte
  // the payload's first word makes the complete checksum 0 (UDP sends 0xffff)
  bool sum_to_zero = false;
};

// Appends the transport to p (whose layers so far end with its IP header).
void add_l4(pkt::Packet& p, const L4& t) {
  pkt::Bytes data(t.payload);
  for (size_t i = 0; i < data.size(); i++) data[i] = uint8_t('a' + i % 26);
  if (t.sum_to_zero) {
    // the complete checksum with a first word of 0 is ~S; a first word of
    // ~S brings the sum to 0xffff, whose complement is 0 (0xffff = S
    // already: keep 0)
    data[0] = data[1] = 0;
    pkt::Packet q = p;
    if (t.tcp) q.tcp({.sport = 443, .dport = 50000, .seq = 1, .ack = 2}).payload(data);
    else q.udp({.sport = 4789, .dport = 50000}).payload(data);
    auto b = q.build();
    size_t at = b.size() - data.size() - (t.tcp ? 20 : 8) + (t.tcp ? kTcpCsum : kUdpCsum);
    uint16_t c = uint16_t(b[at] << 8 | b[at + 1]);
    if (!(c == 0xffff && !t.tcp)) data[0] = uint8_t(c >> 8), data[1] = uint8_t(c);
  }
  if (t.tcp) {
    pkt::Tcp h{.sport = 443, .dport = 50000, .seq = 1, .ack = 2, .partial = t.sum == Sum::Partial};
    if (t.sum == Sum::Corrupt) h.checksum = 0x1234;
    p.tcp(h).payload(data);
  } else {
    pkt::Udp h{.sport = 4789, .dport = 50000, .partial = t.sum == Sum::Partial};
    if (t.sum == Sum::Corrupt) h.checksum = 0x1234;
    if (t.sum == Sum::Zero) h.checksum = 0;
    p.udp(h).payload(data);
  }
}

// An inner IPv6 / IPv4 packet from the test host, with transport t.
pkt::Packet l3_with(bool v6, const pkt::Ip6& dst6, const pkt::Ip4& dst4, const L4& t) {
  pkt::Packet p;
  if (v6) p.ipv6({.src = kHostA, .dst = dst6, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 64});
  else p.ipv4({.src = ip4("192.0.2.1"), .dst = dst4, .tos = 0xb8, .ttl = 64, .id = 7, .frag = 0x4000});
  add_l4(p, t);
  return p;
}

// End on fc00:1::e (SL 1 -> 0, forwarded to out0) of an SRv6 packet
// carrying `inner`, as received from `from` or as forwarded.
pkt::Bytes end_frame(const pkt::Packet& inner, bool forwarded, pkt::Packet from = eth_in1()) {
  pkt::Packet p;
  if (forwarded) p.eth(kNh0Mac, kOut0Mac);
  else p = from;
  p.ipv6({.src = kHostA, .dst = forwarded ? kS2 : kEnd, .traffic_class = 0x2c, .flow_label = 0x12345,
          .hop_limit = uint8_t(forwarded ? 63 : 64)});
  pkt::Srh srh;
  srh.segments = {kS2, kEnd};
  srh.segments_left = forwarded ? 0 : 1;
  p.srh(srh).append(inner);
  return p.build();
}

// XDP redirects `xdp_out`, TC `tc_out`; the entry counts one packet of
// `bytes` at both.
Case partial_case(std::string name, std::string entry, pkt::Bytes in, pkt::Bytes xdp_out, pkt::Bytes tc_out,
                  size_t bytes) {
  srv6::Counters c{1, bytes, 0};
  Case k{name, entry, in, {kXdpRedirect, xdp_out, {}, c}, {kTcRedirect, tc_out, {}, c}};
  k.ingress = kInPartial;
  return k;
}

// XDP hands it to the skb path unchanged (csum_offload); TC processes it.
Case csum_pass_case(std::string name, std::string entry, pkt::Bytes in, pkt::Bytes tc_out, size_t bytes) {
  Case k = handed(name, entry, in, SRV6_PASS_CSUM, kTcRedirect, tc_out, {1, bytes, 0}, {});
  k.ingress = kInPartial;
  return k;
}

void add_checksum_cases(std::vector<Case>& v) {
  const std::string end = "fc00:1::e/128";
  const std::string pol6 = policy_prefix6(false, 1), pol4 = policy_prefix4(false, 1);
  const auto dst6 = policy_dst6(false, 1);
  const auto dst4 = policy_dst4(false, 1);
  const auto segs = policy_segs(1);

  // One behaviour's frames around an inner L3 packet: End (inner after the
  // SRH), H.Encaps of IPv6 and of IPv4 (inner = the frame's L3).
  struct Way {
    std::string name, entry;
    bool v6;
    std::function<pkt::Bytes(const pkt::Packet&)> in, out;
  };
  const std::vector<Way> ways = {
      {"End", end, true, [](const pkt::Packet& i) { return end_frame(i, false); },
       [](const pkt::Packet& i) { return end_frame(i, true); }},
      {"HEncaps_IPv6", pol6, true, [](const pkt::Packet& i) { return with_eth(kIn1Mac, kIn1SenderMac, i); },
       [=](const pkt::Packet& i) { return encapsulated(false, segs, i, true, 0xb9, 0xabcde, 63); }},
      {"HEncaps_IPv4", pol4, false, [](const pkt::Packet& i) { return with_eth(kIn1Mac, kIn1SenderMac, i); },
       [=](const pkt::Packet& i) { return encapsulated(false, segs, i, false, 0, 0, 63); }},
  };
  auto bytes_of = [&](const Way& w, const pkt::Bytes& in, const pkt::Bytes& out) {
    return w.entry == end ? l3_len(in) : l3_len(out);  // End: its input; a policy: its output
  };
  for (const Way& w : ways) {
    const bool is_end = w.entry == end;
    auto inner = [&](const L4& t) {
      return l3_with(w.v6, is_end ? kHostB : dst6, is_end ? ip4("198.51.100.1") : dst4, t);
    };
    for (bool tcp : {true, false}) {
      std::string l4 = tcp ? "TCP" : "UDP";
      // left to offload: completed at XDP, the same frame as if the sender
      // had completed it; TC forwards it as it came
      {
        auto in = w.in(inner({tcp, Sum::Partial}));
        auto done = w.out(inner({tcp, Sum::Complete}));
        auto as_is = w.out(inner({tcp, Sum::Partial}));
        v.push_back(partial_case(w.name + "_partial_" + l4 + "_completed", w.entry, in, done, as_is,
                                 bytes_of(w, in, done)));
      }
      // complete: unchanged
      {
        auto in = w.in(inner({tcp, Sum::Complete}));
        auto out = w.out(inner({tcp, Sum::Complete}));
        v.push_back(partial_case(w.name + "_complete_" + l4 + "_unchanged", w.entry, in, out, out,
                                 bytes_of(w, in, out)));
      }
    }
    // TCP whose checksum is neither: forwarded as it is (the receiver drops it)
    {
      auto in = w.in(inner({true, Sum::Corrupt}));
      auto out = w.out(inner({true, Sum::Corrupt}));
      v.push_back(partial_case(w.name + "_corrupt_TCP_forwarded_as_is", w.entry, in, out, out, bytes_of(w, in, out)));
    }
    // UDP that does not verify: a tunnel inside may carry the checksum
    // left to offload (only the skb knows): the skb path
    {
      auto in = w.in(inner({false, Sum::Corrupt}));
      auto out = w.out(inner({false, Sum::Corrupt}));
      v.push_back(csum_pass_case(w.name + "_corrupt_UDP_skb_path", w.entry, in, out, bytes_of(w, in, out)));
    }
    // a long odd-sized TCP segment (sums in 512-byte chunks, then a tail)
    {
      auto in = w.in(inner({true, Sum::Partial, 1001}));
      auto done = w.out(inner({true, Sum::Complete, 1001}));
      auto as_is = w.out(inner({true, Sum::Partial, 1001}));
      v.push_back(partial_case(w.name + "_partial_TCP_1001_bytes_completed", w.entry, in, done, as_is,
                               bytes_of(w, in, done)));
    }
  }
  // A completed UDP checksum of 0 is sent as 0xffff (RFC 768); TCP's stays 0.
  for (bool tcp : {false, true}) {
    auto inner = l3_with(true, kHostB, {}, {tcp, Sum::Partial, 21, true});
    auto done = l3_with(true, kHostB, {}, {tcp, Sum::Complete, 21, true});
    auto in = end_frame(inner, false);
    auto out = end_frame(done, true);
    size_t at = out.size() - 21 - (tcp ? 20 - kTcpCsum : 8 - kUdpCsum);
    uint16_t want = tcp ? 0x0000 : 0xffff;
    if (uint16_t(out[at] << 8 | out[at + 1]) != want) throw std::logic_error("sum_to_zero did not sum to zero");
    v.push_back(partial_case(std::string("End_partial_") + (tcp ? "TCP_completing_to_0_stays_0" : "UDP_completing_to_0_sent_as_ffff"),
                             end, in, out, end_frame(inner, true), l3_len(in)));
  }
  // IPv4 UDP without a checksum (0): nothing to verify a tunnel inside by
  {
    auto inner = l3_with(false, {}, dst4, {false, Sum::Zero});
    auto in = with_eth(kIn1Mac, kIn1SenderMac, inner);
    auto out = encapsulated(false, segs, inner, false, 0, 0, 63);
    v.push_back(csum_pass_case("HEncaps_IPv4_UDP_without_checksum_skb_path", pol4, in, out, l3_len(out)));
    auto in_end = end_frame(l3_with(false, {}, ip4("198.51.100.1"), {false, Sum::Zero}), false);
    auto out_end = end_frame(l3_with(false, {}, ip4("198.51.100.1"), {false, Sum::Zero}), true);
    v.push_back(csum_pass_case("End_IPv4_UDP_without_checksum_skb_path", end, in_end, out_end, l3_len(in_end)));
  }
  // The pseudo-header's destination is the final one: segments[0] of an
  // SRH before the transport (RFC 8200 8.1), not the current DA.
  {
    // End of a packet whose SRH carries TCP itself: fc00:1::e -> fc00:2::2, final fc00:3::3
    auto frame = [](bool forwarded, bool partial) {
      pkt::Packet p;
      if (forwarded) p.eth(kNh0Mac, kOut0Mac);
      else p = eth_in1();
      p.ipv6({.src = kHostA, .dst = forwarded ? kS2 : kEnd, .hop_limit = uint8_t(forwarded ? 63 : 64)});
      pkt::Srh srh;
      srh.segments = {kS3, kS2, kEnd};
      srh.segments_left = forwarded ? 1 : 2;
      p.srh(srh);
      add_l4(p, {true, partial ? Sum::Partial : Sum::Complete});
      return p.build();
    };
    auto in = frame(false, true);
    v.push_back(partial_case("End_partial_TCP_after_the_SRH_final_destination", end, in, frame(true, false),
                             frame(true, true), l3_len(in)));
    // H.Encaps of an SRv6 packet: the inner SRH's last segment is the final destination
    auto inner = [&](bool partial) {
      pkt::Packet p;
      p.ipv6({.src = kHostA, .dst = dst6, .hop_limit = 64});
      pkt::Srh srh;
      srh.segments = {kHostB, dst6};
      p.srh(srh);
      add_l4(p, {false, partial ? Sum::Partial : Sum::Complete});
      return p;
    };
    auto in2 = with_eth(kIn1Mac, kIn1SenderMac, inner(true));
    auto done = encapsulated(false, segs, inner(false), true, 0, 0, 63);
    v.push_back(partial_case("HEncaps_partial_UDP_behind_an_inner_SRH_final_destination", pol6, in2, done,
                             encapsulated(false, segs, inner(true), true, 0, 0, 63), l3_len(done)));
  }
  // The policy's first SID is our End: encapsulated, End, then completed.
  {
    auto inner = [&](Sum s) {
      pkt::Packet p;
      p.ipv6({.src = kHostA, .dst = ip6("2001:db8:ee::1"), .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 64});
      add_l4(p, {true, s});
      return p;
    };
    auto out = [&](Sum s) {
      pkt::Packet o;
      o.eth(kNh0Mac, kOut0Mac)
          .ipv6({.src = kTunSrc, .dst = kS2, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 63});
      pkt::Srh srh;
      srh.segments = {kS2, kEnd};
      srh.segments_left = 0;
      o.srh(srh).append(inner(s));
      return o.build();
    };
    auto in = with_eth(kIn1Mac, kIn1SenderMac, inner(Sum::Partial));
    v.push_back(partial_case("HEncaps_first_SID_own_End_partial_TCP_completed", "2001:db8:ee::/64", in,
                             out(Sum::Complete), out(Sum::Partial), l3_len(out(Sum::Complete))));
  }
  // 11 SIDs do not fit XDP's headroom: the frame goes up unchanged, its
  // checksum still left to offload (the device finishes it after TC's
  // encapsulation: completed here already, it would come out wrong)
  for (bool v6 : {true, false}) {
    auto inner = l3_with(v6, policy_dst6(false, 11), policy_dst4(false, 11), {true, Sum::Partial});
    auto in = with_eth(kIn1Mac, kIn1SenderMac, inner);
    auto out = encapsulated(false, policy_segs(11), inner, v6, v6 ? 0xb9 : 0, v6 ? 0xabcde : 0, 63);
    Case k = handed(std::string("HEncaps_11_SIDs_partial_TCP_") + (v6 ? "IPv6" : "IPv4") + "_up_unchanged",
                    v6 ? policy_prefix6(false, 11) : policy_prefix4(false, 11), in, SRV6_PASS_NO_HEADROOM, kTcRedirect,
                    out, {1, l3_len(out), 0}, {});
    k.ingress = kInPartial;
    v.push_back(k);
  }
  // The same partial TCP from in0, whose frames XDP gets from a driver that
  // finishes checksums itself: left as it is.
  {
    auto inner = l3_with(true, kHostB, {}, {true, Sum::Partial});
    auto in = end_frame(inner, false, eth_in());
    auto out = end_frame(inner, true);
    v.push_back(forwarded("End_partial_TCP_from_in0_not_touched", end, in, out));
  }
  // Never left to offload, whatever their checksum says: ICMP, ICMPv6,
  // fragments, ESP, no next header: forwarded as they are.
  auto untouched = [&](std::string name, const pkt::Packet& inner, bool v6) {
    auto in = with_eth(kIn1Mac, kIn1SenderMac, inner);
    auto out = encapsulated(false, segs, inner, v6, v6 ? 0xb9 : 0, v6 ? 0xabcde : 0, 63);
    v.push_back(partial_case(name, v6 ? pol6 : pol4, in, out, out, l3_len(out)));
  };
  auto inner6 = [&](uint8_t tc = 0xb9) {
    pkt::Packet p;
    p.ipv6({.src = kHostA, .dst = dst6, .traffic_class = tc, .flow_label = 0xabcde, .hop_limit = 64});
    return p;
  };
  auto inner4 = [&](uint16_t frag = 0x4000) {
    pkt::Packet p;
    p.ipv4({.src = ip4("192.0.2.1"), .dst = dst4, .ttl = 64, .id = 9, .frag = frag});
    return p;
  };
  {
    auto p = inner6();
    p.icmp6_echo({.id = 1, .seq = 2, .checksum = 0x1234}).payload("icmpv6, any checksum");
    untouched("HEncaps_ICMPv6_untouched", p, true);
  }
  {
    auto p = inner4();
    p.icmp_echo({.id = 1, .seq = 2, .checksum = 0x1234}).payload("icmp, any checksum");
    untouched("HEncaps_ICMP_untouched", p, false);
  }
  {
    // a first fragment: the sender completed the checksum before fragmenting
    auto p = inner6();
    p.frag({.offset = 0, .more = true, .id = 77});
    add_l4(p, {false, Sum::Corrupt});
    untouched("HEncaps_IPv6_fragment_untouched", p, true);
    auto q = inner6();
    q.frag({.offset = 100, .more = false, .id = 77});
    add_l4(q, {true, Sum::Partial});
    untouched("HEncaps_IPv6_later_fragment_untouched", q, true);
    auto r = inner4(0x2000);  // MF
    add_l4(r, {false, Sum::Corrupt});
    untouched("HEncaps_IPv4_fragment_untouched", r, false);
  }
  {
    pkt::Packet esp;
    esp.ipv6({.src = kHostA, .dst = dst6, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 64,
              .next_header = pkt::kEsp})
        .payload(pkt::Bytes{0, 0, 0x10, 0x01, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 0x12, 0x34, 0x56, 0x78});
    untouched("HEncaps_ESP_untouched", esp, true);
    untouched("HEncaps_no_next_header_untouched", inner6(), true);
  }
  // Transports that may hide a checksum left to offload deeper in (a tunnel),
  // or that we do not finish (SCTP's CRC32c), or IP in IP in IP: the skb path.
  {
    auto pass = [&](std::string name, const pkt::Packet& inner, bool v6) {
      auto in = with_eth(kIn1Mac, kIn1SenderMac, inner);
      auto out = encapsulated(false, segs, inner, v6, v6 ? 0xb9 : 0, v6 ? 0xabcde : 0, 63);
      v.push_back(csum_pass_case(name, v6 ? pol6 : pol4, in, out, l3_len(out)));
    };
    pkt::Packet gre;
    gre.ipv6({.src = kHostA, .dst = dst6, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 64,
              .next_header = pkt::kGre})
        .payload(pkt::Bytes{0, 0, 0x86, 0xdd});
    {
      pkt::Packet in6;
      in6.ipv6({.src = kHostA, .dst = kHostB});
      add_l4(in6, {false, Sum::Partial});
      gre.payload(in6.build());
    }
    pass("HEncaps_GRE_skb_path", gre, true);
    pkt::Packet gre4;
    gre4.ipv4({.src = ip4("192.0.2.1"), .dst = dst4, .ttl = 64, .frag = 0x4000, .protocol = pkt::kGre})
        .payload(pkt::Bytes{0, 0, 0x08, 0x00, 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 59, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8});
    pass("HEncaps_IPv4_GRE_skb_path", gre4, false);
    pkt::Packet sctp;
    sctp.ipv6({.src = kHostA, .dst = dst6, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 64,
               .next_header = pkt::kSctp})
        .payload(pkt::Bytes(28, 0x5c));
    pass("HEncaps_SCTP_skb_path", sctp, true);
    // IPv6 in IPv6 in IPv6: the transport is deeper than the one
    // IP-in-IP looked into
    pkt::Packet deep = inner6();
    deep.ipv6({.src = kHostA, .dst = kHostB}).ipv6({.src = kHostA, .dst = kHostB});
    add_l4(deep, {false, Sum::Partial});
    pass("HEncaps_IPv6_in_IPv6_in_IPv6_skb_path", deep, true);
    // a routing header other than the SRH: another final-destination rule
    pkt::Packet rpl = inner6();
    pkt::Srh rh;
    rh.routing_type = 3;
    rh.segments = {kHostB};
    rh.segments_left = 0;
    rpl.srh(rh);
    add_l4(rpl, {false, Sum::Partial});
    pass("HEncaps_routing_header_type_3_skb_path", rpl, true);
    // End of IPv6 in IPv6 (after the SRH) carrying IPv4: IP in IP in IP
    pkt::Packet v4in6;
    v4in6.ipv6({.src = kHostA, .dst = kHostB});
    v4in6.ipv4({.src = ip4("192.0.2.1"), .dst = ip4("198.51.100.1"), .frag = 0x4000});
    add_l4(v4in6, {true, Sum::Partial});
    auto in = end_frame(v4in6, false);
    v.push_back(csum_pass_case("End_IP_in_IP_in_IP_skb_path", end, in, end_frame(v4in6, true), l3_len(in)));
  }
}

// ------------------------------------------------------------------ PMTUD

// Too big for the tunnel at TC (out2, MTU 1280): the inner source gets an
// ICMPv6 Packet Too Big or an ICMPv4 Fragmentation Needed with the tunnel
// MTU (the egress MTU less 40 and the SRH), sent back out of in0 toward it
// (redirected with the FIB's MACs), quoting what fits, the quoted
// transport checksum set to the value a device finishing a checksum left
// to offload keeps; counted as an error of the policy, reason pmtu_icmp.
// XDP hands such packets up unchanged (too_big). IPv4 without DF, ICMP
// errors and later IPv4 fragments are owed no error: dropped
// (too_big_no_icmp); no route back to the source: dropped (no_route).
void add_pmtud_cases(std::vector<Case>& v) {
  const std::string pol6 = "2001:db8:ff::/64", red6 = "2001:db8:fe::/64", pol4 = "203.0.113.0/24";
  const uint32_t mtu = 1280 - 40 - 24, mtu_red = 1280 - 40;
  auto icmp_case = [&](std::string name, std::string entry, const pkt::Packet& inner, pkt::Bytes icmp,
                       bool v4 = false) {
    auto in = with_eth(kInMac, kSenderMac, inner);
    Case c = handed(name, entry, in, SRV6_PASS_TOO_BIG, kTcRedirect, icmp, {0, 0, 1}, {{SRV6_DROP_PMTU_ICMP, 1}});
    if (v4) frag_needed_mask(c.tc);
    v.push_back(c);
  };
  auto drop_case = [&](std::string name, std::string entry, const pkt::Packet& inner, srv6_reason r) {
    auto in = with_eth(kInMac, kSenderMac, inner);
    v.push_back({name, entry, in, {kXdpPass, {}, {{SRV6_PASS_TOO_BIG, 1}}, {}}, {kTcShot, {}, {{r, 1}}, {0, 0, 1}}});
  };
  auto udp6 = [&](const pkt::Ip6& src, const pkt::Ip6& dst, size_t payload) {
    pkt::Packet p;
    p.ipv6({.src = src, .dst = dst, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 64});
    p.udp(1, 2).payload(std::string(payload, 'q'));
    return p;
  };
  // the whole packet fits in the quote (1224 <= 1232 bytes), checksum and all
  icmp_case("HEncaps_too_big_whole_packet_quoted", pol6, udp6(kHostA, ip6("2001:db8:ff::2"), 1176),
            packet_too_big(udp6(kHostA, ip6("2001:db8:ff::2"), 1176), mtu));
  // a partial checksum left in the quote, as a sender's CHECKSUM_PARTIAL skb has it
  {
    pkt::Packet p;
    p.ipv6({.src = kHostA, .dst = ip6("2001:db8:ff::3"), .hop_limit = 64});
    p.tcp({.sport = 22, .dport = 40000, .seq = 7, .ack = 8, .partial = true}).payload(std::string(1400, 't'));
    icmp_case("HEncaps_too_big_TCP_quote_keeps_its_checksum", pol6, p, packet_too_big(p, mtu, CsumAt{40, kTcpCsum}));
  }
  // no transport checksum to fix in an ICMPv6 quote
  {
    pkt::Packet p;
    p.ipv6({.src = kHostA, .dst = ip6("2001:db8:ff::4"), .hop_limit = 64});
    p.icmp6_echo({.id = 3, .seq = 4}).payload(std::string(1300, 'e'));
    icmp_case("HEncaps_too_big_ICMPv6_quoted_as_is", pol6, p, packet_too_big(p, mtu, std::nullopt));
  }
  // the source address and MACs are the FIB's toward the sender: a sender
  // behind out3 gets its error from out3's address
  icmp_case("HEncaps_too_big_error_from_the_way_back", pol6, udp6(ip6("2001:db8:c::1"), ip6("2001:db8:ff::6"), 1300),
            packet_too_big(udp6(ip6("2001:db8:c::1"), ip6("2001:db8:ff::6"), 1300), mtu, CsumAt{40, kUdpCsum},
                           {pkt::mac("02:00:00:00:05:02"), pkt::mac("02:00:00:00:05:01"), ip6("fd00:5::1")}));
  // ... and one whose neighbour is not resolved goes through the kernel's
  // neighbour code (bpf_redirect_neigh), which writes the MACs
  {
    auto inner = udp6(ip6("2001:db8:d::1"), ip6("2001:db8:ff::7"), 1300);
    auto in = with_eth(kInMac, kSenderMac, inner);
    Case c = handed("HEncaps_too_big_error_to_an_unresolved_neighbour", pol6, in, SRV6_PASS_TOO_BIG, kTcRedirect,
                    packet_too_big(inner, mtu), {0, 0, 1}, {{SRV6_DROP_PMTU_ICMP, 1}});
    c.tc.masked = {{0, 12}};
    v.push_back(c);
  }
  // H.Encaps.Red with one SID has no SRH: the tunnel takes 40 bytes
  icmp_case("HEncapsRed_too_big_MTU_without_SRH", red6, udp6(kHostA, ip6("2001:db8:fe::1"), 1300),
            packet_too_big(udp6(kHostA, ip6("2001:db8:fe::1"), 1300), mtu_red));
  // IPv4 with DF: Fragmentation Needed (its id random: masked)
  auto udp4 = [&](const pkt::Ip4& src, uint16_t frag, size_t payload) {
    pkt::Packet p;
    p.ipv4({.src = src, .dst = ip4("203.0.113.9"), .tos = 0xbb, .ttl = 64, .id = 0x4242, .frag = frag});
    p.udp(53, 5353).payload(std::string(payload, 'f'));
    return p;
  };
  icmp_case("HEncaps_too_big_IPv4_DF_frag_needed", pol4, udp4(ip4("192.0.2.1"), 0x4000, 1300),
            frag_needed(udp4(ip4("192.0.2.1"), 0x4000, 1300), uint16_t(mtu)), true);
  drop_case("HEncaps_too_big_IPv4_without_DF_dropped", pol4, udp4(ip4("192.0.2.1"), 0, 1300), SRV6_DROP_TOO_BIG);
  // no error about an error (RFC 4443 2.4 e.1, RFC 1122 3.2.2), nor about a
  // later IPv4 fragment: dropped (too_big_no_icmp)
  {
    pkt::Packet p;
    p.ipv6({.src = kHostA, .dst = ip6("2001:db8:ff::8"), .hop_limit = 64});
    p.icmp6_too_big({.mtu = 1400}).payload(std::string(1300, 'x'));
    drop_case("HEncaps_too_big_ICMPv6_error_gets_none", pol6, p, SRV6_DROP_TOO_BIG);
    pkt::Packet q;
    q.ipv4({.src = ip4("192.0.2.1"), .dst = ip4("203.0.113.9"), .ttl = 64, .frag = 0x4000});
    q.icmp_frag_needed({.mtu = 1400}).payload(std::string(1300, 'x'));
    drop_case("HEncaps_too_big_ICMPv4_error_gets_none", pol4, q, SRV6_DROP_TOO_BIG);
  }
  drop_case("HEncaps_too_big_IPv4_later_fragment_gets_none", pol4, udp4(ip4("192.0.2.1"), 0x4000 | 50, 1300),
            SRV6_DROP_TOO_BIG);
  // no route back to the source
  drop_case("HEncaps_too_big_no_route_to_IPv6_source", pol6, udp6(ip6("2001:db8:dead::1"), ip6("2001:db8:ff::5"), 1300),
            SRV6_DROP_NO_ROUTE);
  drop_case("HEncaps_too_big_no_route_to_IPv4_source", pol4, udp4(ip4("198.51.100.7"), 0x4000, 1300),
            SRV6_DROP_NO_ROUTE);
}

// ------------------------------------------------- the router's addresses

// A destination that is one of the router's own addresses (the kernel's
// local table: local and anycast routes; IPv4 local and broadcast) is the
// kernel's, whatever SID or policy prefix covers it, and even with a SID on
// that very address: both hooks leave it untouched, nothing counted. End
// whose next segment is one drops the packet as seg6local's blackhole
// (next_local), a packet processed for the SID.
void add_local_cases(std::vector<Case>& v) {
  auto untouched = [&](std::string name, std::string entry, pkt::Bytes in) {
    v.push_back({name, entry, in, {kXdpPass, {}, {}, {}}, {kTcOk, {}, {}, {}}});
  };
  const pkt::Ip6 local = ip6(kIn0Addr6), anycast = ip6("fd00:1::"), in_locator = ip6("fd00:1::9");
  const pkt::Ip6 sid_on_local = ip6("fd00:2::1");
  const std::string locator = "fd00:1::/64";
  untouched("Locator_covering_a_local_address", locator, sr_packet(local, {.sl = 1, .segs = {kS2, local}}));
  untouched("Locator_covering_a_subnet_anycast_address", locator,
            sr_packet(anycast, {.sl = 1, .segs = {kS2, anycast}}));
  v.push_back(forwarded("Locator_next_to_a_local_address", locator,
                        sr_packet(in_locator, {.sl = 1, .segs = {kS2, in_locator}}),
                        sr_packet(kS2, {.sl = 0, .segs = {kS2, in_locator}, .hop_limit = 63, .dmac = kNh0Mac,
                                        .smac = kOut0Mac})));
  untouched("SID_on_a_local_address", "fd00:2::1/128", sr_packet(sid_on_local, {.sl = 1, .segs = {kS2, sid_on_local}}));
  {
    pkt::Packet p = eth_in();
    p.ipv6({.src = kHostA, .dst = ip6("fd00:3::1")}).udp(1, 2).payload("to the router");
    untouched("IPv6_policy_covering_a_local_address", "fd00:3::/64", p.build());
    auto inner = inner6(ip6("fd00:3::9"));
    auto out = encapsulated(false, policy_segs(1), inner, true, 0xb9, 0xabcde, 63);
    v.push_back(encap_case("IPv6_policy_next_to_a_local_address", "fd00:3::/64", with_eth(kInMac, kSenderMac, inner), out));
  }
  const std::string pol4 = "198.18.0.0/15";
  for (auto [name, dst] : {std::pair{"IPv4_policy_covering_a_local_address", kIn0Addr4},
                           std::pair{"IPv4_policy_covering_a_broadcast_address", kIn0Bcast4}}) {
    pkt::Packet p = eth_in();
    p.ipv4({.src = ip4("192.0.2.1"), .dst = ip4(dst)}).udp(1, 2).payload("to the router");
    untouched(name, pol4, p.build());
  }
  {
    auto inner = inner4(ip4("198.18.1.9"));
    auto out = encapsulated(false, policy_segs(1), inner, false, 0, 0, 63);
    v.push_back(encap_case("IPv4_policy_next_to_a_local_address", pol4, with_eth(kInMac, kSenderMac, inner), out));
  }
  // End whose next segment is local: blackholed, a packet processed
  const std::string end = "fc00:1::e/128";
  for (auto [name, next] : {std::pair{"End_next_segment_a_local_address", local},
                            std::pair{"End_next_segment_a_subnet_anycast_address", anycast},
                            std::pair{"End_next_segment_a_SID_on_a_local_address", sid_on_local},
                            std::pair{"End_next_segment_loopback", ip6("::1")}}) {
    auto in = sr_packet(kEnd, {.sl = 1, .segs = {next, kEnd}});
    srv6::Counters c{1, l3_len(in), 0};
    v.push_back({name, end, in, {kXdpDrop, {}, {{SRV6_DROP_NEXT_LOCAL, 1}}, c},
                 {kTcShot, {}, {{SRV6_DROP_NEXT_LOCAL, 1}}, c}});
  }
  // ... but an address of the locator that is not local is our SID: chained
  {
    std::vector<pkt::Ip6> segs = {kS2, in_locator, kEnd};
    v.push_back(forwarded("End_next_segment_in_the_locator_chained", end, sr_packet(kEnd, {.sl = 2, .segs = segs}),
                          sr_packet(kS2, {.sl = 0, .segs = segs, .hop_limit = 63, .dmac = kNh0Mac, .smac = kOut0Mac})));
  }
}

// -------------------------------------------------------------------- GSO

// TC sees GSO packets (a local TCP sender on a veth, GRO): one skb standing
// for gso_segs packets of gso_size bytes of payload each, the headers
// repeated in every one. The MTU applies to each packet, the counters count
// each, bytes as they go on the wire (bpf/gso.h). BPF_PROG_TEST_RUN takes
// gso_size and gso_segs from the context (no GSO type, but those two are
// what the datapath reads); these frames are too big for XDP, which never
// sees GSO.
void add_gso_cases(std::vector<Case>& v) {
  auto tcp_inner = [](const pkt::Ip6& dst, size_t payload) {
    pkt::Packet p;
    p.ipv6({.src = kHostA, .dst = dst, .traffic_class = 0xb9, .flow_label = 0xabcde, .hop_limit = 64});
    p.tcp({.sport = 443, .dport = 50000, .seq = 1, .ack = 2}).payload(std::string(payload, 'g'));
    return p;
  };
  auto gso = [](Case c, uint32_t size, uint32_t segs) {
    c.gso_size = size, c.gso_segs = segs;
    return c;
  };
  const Expect xdp_too_big{kXdpPass, {}, {{SRV6_PASS_TOO_BIG, 1}}, {}};
  const std::string end = "fc00:1::e/128";
  {
    // End: each packet repeats 140 bytes of headers (IPv6, SRH of 2 SIDs, IPv6, TCP)
    const size_t hdr = 40 + 40 + 40 + 20;
    auto inner = tcp_inner(kHostB, 2800);
    auto in = end_frame(inner, false, eth_in());
    auto out = end_frame(inner, true);
    // 140 + 1300 fits out0's 1500: forwarded, 3 packets
    srv6::Counters c{3, l3_len(in) + 2 * hdr, 0};
    v.push_back(gso({"End_GSO_segments_fit_the_MTU", end, in, xdp_too_big, {kTcRedirect, out, {}, c}}, 1300, 3));
    // a GSO packet whose headers must be checked has no gso_segs: computed
    v.push_back(gso({"End_GSO_segment_count_unknown", end, in, xdp_too_big, {kTcRedirect, out, {}, c}}, 1300, 0));
    // 140 + 1400 does not: the kernel answers (Packet Too Big), 2 errors
    pkt::Packet kp;
    kp.eth(kInMac, kSenderMac).ipv6({.src = kHostA, .dst = kS2, .traffic_class = 0x2c, .flow_label = 0x12345});
    pkt::Srh srh;
    srh.segments = {kS2, kEnd};
    srh.segments_left = 0;
    kp.srh(srh).append(inner);
    v.push_back(gso({"End_GSO_segments_too_big", end, in, xdp_too_big,
                     {kTcOk, kp.build(), {{SRV6_PASS_TOO_BIG, 1}}, {0, 0, 2}}},
                    1400, 2));
    // a transport whose segments it cannot measure: the kernel forwards it
    pkt::Packet icmp;
    icmp.ipv6({.src = kHostA, .dst = kHostB}).icmp6_echo({.id = 1, .seq = 1}).payload(std::string(2800, 'i'));
    pkt::Packet kq;
    kq.eth(kInMac, kSenderMac).ipv6({.src = kHostA, .dst = kS2, .traffic_class = 0x2c, .flow_label = 0x12345});
    kq.srh(srh).append(icmp);
    auto in_icmp = end_frame(icmp, false, eth_in());
    v.push_back(gso({"End_GSO_unknown_transport_to_the_kernel", end, in_icmp, xdp_too_big,
                     {kTcOk, kq.build(), {{SRV6_PASS_KERNEL_ROUTE, 1}}, {1, l3_len(in_icmp), 0}}},
                    1300, 3));
  }
  {
    // H.Encaps (1 SID, 64 bytes) of IPv6 whose packets (60 bytes of headers
    // + 1420) are too big once encapsulated: a Packet Too Big for the tunnel
    // MTU (1436), itself one packet (bpf_skb_change_tail drops the GSO
    // state); each packet an error. (A GSO packet that fits cannot be run:
    // bpf_skb_adjust_room refuses a GSO skb that is not TCP or UDP, and a
    // test run's has no GSO type.)
    const std::string pol = policy_prefix6(false, 1);
    pkt::Packet big = tcp_inner(ip6("2001:db8:1::2"), 2840);
    v.push_back(gso({"HEncaps_GSO_segments_too_big_Packet_Too_Big", pol, with_eth(kInMac, kSenderMac, big), xdp_too_big,
                     {kTcRedirect, packet_too_big(big, 1500 - 64, CsumAt{40, kTcpCsum}), {{SRV6_DROP_PMTU_ICMP, 1}},
                      {0, 0, 2}}},
                    1420, 2));
  }
}

}  // namespace

std::vector<Case> all_cases() {
  std::vector<Case> v;
  add_endpoint_cases(v);
  add_refusal_cases(v);
  add_passthrough_cases(v);
  add_encap_cases(v);
  add_checksum_cases(v);
  add_pmtud_cases(v);
  add_local_cases(v);
  add_gso_cases(v);
  add_decap_cases(v);
  add_headend_cases(v);
  add_route_cases(v);
  add_tenant_cases(v);
  return v;
}

void enter_fixture_namespace() {
  if (unshare(CLONE_NEWNET) != 0)
    throw std::runtime_error(std::string("unshare(CLONE_NEWNET): ") + strerror(errno));
  if (std::system(fixture::kSetup) != 0) throw std::runtime_error("fixture namespace setup failed");
}

// The fixture's configuration, through the loader's typed API.
void configure(srv6::Instance& inst) {
  auto policy_addrs = [](int n) {
    std::vector<srv6::Addr6> segs;
    for (auto& s : policy_segs(n)) segs.push_back(s);
    return segs;
  };
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
  // the router's own addresses: a locator covering in0's, a SID on out0's
  inst.add_sid({.sid = parse_prefix6("fd00:1::/64"), .action = SRV6_ACTION_END});
  inst.add_sid({.sid = parse_prefix6("fd00:2::1"), .action = SRV6_ACTION_END});
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
  // PMTUD: more tunnels through out2 (MTU 1280)
  inst.add_policy({srv6::parse_prefix("2001:db8:fe::/64"), SRV6_ENCAP_RED, {ip6("fc00:12::1")}, kTunSrc});
  inst.add_policy({srv6::parse_prefix("203.0.113.0/24"), SRV6_ENCAP, {ip6("fc00:12::1")}, kTunSrc});
  // policies covering the router's own addresses (fd00:3::1 on out1, 198.18.1.1 and its broadcast on in0)
  inst.add_policy({srv6::parse_prefix("fd00:3::/64"), SRV6_ENCAP, policy_addrs(1), kTunSrc});
  inst.add_policy({srv6::parse_prefix("198.18.0.0/15"), SRV6_ENCAP, policy_addrs(1), kTunSrc});
  configure_decap(inst);
  configure_headend(inst);
  configure_route(inst);
  configure_tenant(inst);
  // XDP may redirect to out0..out2 (vouched for: the runs are not live);
  // out3 stands for an egress that cannot take XDP frames.
  for (const char* dev : {"out0", "out1", "out2"})
    inst.attach(dev, srv6::Hook::Xdp, srv6::XdpMode::Auto, srv6::Egress::Xdp);
  // in1: an ingress whose native XDP may see checksums left to offload
  inst.attach(kInPartial, srv6::Hook::Xdp, srv6::XdpMode::Native);
}

std::string compare(const Expect& e, const pkt::Bytes& want, const pkt::Bytes& out) {
  pkt::Bytes w = want;
  if (out.size() == w.size())
    for (auto [off, len] : e.masked)
      for (size_t i = off; i < off + len && i < w.size(); i++) w[i] = out[i];
  std::string d = pkt::diff(w, out);
  if (d.empty() && e.check) d = e.check(out);
  return d;
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
