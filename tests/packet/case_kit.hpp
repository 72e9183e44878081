// The shapes of a case that every group of cases uses (forwarded by both
// hooks, dropped by both, handed by XDP to TC), and the fixture's packet
// basics. Shared by cases.cpp and the groups in files of their own.
#pragma once

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "cases.hpp"
#include "net_fixture.hpp"

namespace cases::kit {

inline const pkt::Ip6 kHostA = pkt::ip6("2001:db8:a::1");
inline const pkt::Ip6 kHostB = pkt::ip6("2001:db8:b::1");

constexpr int kXdpPass = XDP_PASS, kXdpDrop = XDP_DROP, kXdpRedirect = XDP_REDIRECT;
constexpr int kTcOk = TC_ACT_OK, kTcShot = TC_ACT_SHOT, kTcRedirect = TC_ACT_REDIRECT;

inline pkt::Packet eth_in() {
  pkt::Packet p;
  p.eth(fixture::kInMac, fixture::kSenderMac);
  return p;
}

inline pkt::Bytes with_eth(const pkt::Mac& d, const pkt::Mac& s, const pkt::Packet& l3) {
  pkt::Packet p;
  p.eth(d, s).append(l3);
  return p.build();
}

inline size_t l3_len(const pkt::Bytes& frame) { return frame.size() - 14; }

// Where an L3 packet's transport checksum is: the transport header's
// offset in it and the field's offset in that header (UDP 6, TCP 16).
struct CsumAt {
  size_t l4, field;
};
constexpr size_t kUdpCsum = 6, kTcpCsum = 16;

// The quote of an ICMP error (RFC 4443 2.4 (c), RFC 1812 4.3.2.3): as much
// of the offending L3 packet as fits in `max` bytes. Its transport
// checksum, when quoted, holds the value that a device finishing a
// checksum left to offload over the quote keeps as it is.
inline pkt::Bytes quote_of(const pkt::Bytes& l3, size_t max, std::optional<CsumAt> at) {
  pkt::Bytes q(l3.begin(), l3.begin() + std::min(l3.size(), max));
  if (at && at->l4 + at->field + 2 <= q.size()) {
    uint16_t f = pkt::offload_fixed_point(q.data() + at->l4, q.size() - at->l4, at->field);
    q[at->l4 + at->field] = uint8_t(f >> 8);
    q[at->l4 + at->field + 1] = uint8_t(f);
  }
  return q;
}


// A SID packet forwarded by both hooks with the same output.
inline Case forwarded(std::string name, std::string entry, pkt::Bytes in, pkt::Bytes out) {
  srv6::Counters c{1, l3_len(in), 0};
  return {name, entry, in, {kXdpRedirect, out, {}, c}, {kTcRedirect, out, {}, c}};
}

// A SID packet both hooks drop, counting the reason.
inline Case dropped(std::string name, std::string entry, pkt::Bytes in, srv6_reason r) {
  srv6::Counters c{0, 0, 1};
  return {name, entry, in, {kXdpDrop, {}, {{r, 1}}, c}, {kTcShot, {}, {{r, 1}}, c}};
}

// XDP hands the frame up unchanged; TC processes it into `tc_out`.
inline Case handed(std::string name, std::string entry, pkt::Bytes in, srv6_reason r, int tc_verdict,
                   pkt::Bytes tc_out, srv6::Counters tc_counters, std::map<srv6_reason, uint64_t> tc_reasons) {
  return {name, entry, in, {kXdpPass, {}, {{r, 1}}, {}}, {tc_verdict, tc_out, tc_reasons, tc_counters}};
}

}  // namespace cases::kit
