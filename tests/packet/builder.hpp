// Independent test packet builder.
//
// Expected bytes in the packet tests come from here, never from the datapath
// code: this file deliberately uses only the C++ standard library and libc
// (no include/, no bpf/ headers).
//
// A packet is a stack of layers, outermost first:
//
//   pkt::Packet p;
//   p.eth(pkt::mac("02:00:00:00:00:02"), pkt::mac("02:00:00:00:00:01"))
//    .ipv6({.src = pkt::ip6("fc00::1"), .dst = pkt::ip6("fc00::a")})
//    .srh(pkt::Srh::from_path({pkt::ip6("fc00::a"), pkt::ip6("fc00::b")}))
//    .ipv6({.src = pkt::ip6("fd00::1"), .dst = pkt::ip6("fd00::2")})
//    .udp(1000, 2000)
//    .payload("hello");
//   pkt::Bytes bytes = p.build();
//
// build() serialises innermost first and fills in everything that was left
// unset: ethertype, next header / protocol (the protocol number of the layer
// that follows), IPv6 payload length, IPv4 total length and header checksum,
// extension header lengths, UDP length, TCP data offset and the UDP, TCP,
// ICMP and ICMPv6 checksums.  Every computed field has an override
// (std::optional) so tests can build malformed packets on purpose.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pkt {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using Ip4 = std::array<uint8_t, 4>;
using Ip6 = std::array<uint8_t, 16>;

// Text parsers; throw std::invalid_argument on malformed input.
Mac mac(std::string_view text);  // "02:00:00:00:00:01"
Ip4 ip4(std::string_view text);  // "10.0.0.1"
Ip6 ip6(std::string_view text);  // "fc00::1"

// Protocol numbers (IANA), spelled out here instead of taken from headers.
inline constexpr uint8_t kHopByHop = 0;
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kIpIp = 4;  // IPv4 encapsulated
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
inline constexpr uint8_t kIpv6 = 41;  // IPv6 encapsulated
inline constexpr uint8_t kRouting = 43;
inline constexpr uint8_t kFragment = 44;
inline constexpr uint8_t kGre = 47;
inline constexpr uint8_t kEsp = 50;
inline constexpr uint8_t kIcmp6 = 58;
inline constexpr uint8_t kNoNext = 59;
inline constexpr uint8_t kSctp = 132;
inline constexpr uint16_t kEthIpv4 = 0x0800;
inline constexpr uint16_t kEthIpv6 = 0x86dd;

struct Eth {
  Mac dst{};
  Mac src{};
  std::optional<uint16_t> type{};  // default: from the next layer
};

struct Ipv6 {
  Ip6 src{};
  Ip6 dst{};
  uint8_t traffic_class = 0;  // DSCP << 2 | ECN
  uint32_t flow_label = 0;    // low 20 bits used
  uint8_t hop_limit = 64;
  std::optional<uint8_t> next_header{};      // default: from the next layer
  std::optional<uint16_t> payload_length{};  // default: bytes that follow
};

struct Ipv4 {
  Ip4 src{};
  Ip4 dst{};
  uint8_t tos = 0;
  uint8_t ttl = 64;
  uint16_t id = 0;
  uint16_t frag = 0;  // flags (3 bits) and fragment offset; 0x4000 = DF
  std::optional<uint8_t> protocol{};       // default: from the next layer
  std::optional<uint16_t> total_length{};  // default: 20 + bytes that follow
  std::optional<uint16_t> checksum{};      // default: computed
};

// Hop-by-Hop options header.  `options` holds raw option TLVs; build() pads
// the header to a multiple of 8 bytes with Pad1/PadN.
struct HopByHop {
  Bytes options{};
  std::optional<uint8_t> next_header{};
  std::optional<uint8_t> hdr_ext_len{};  // default: computed
};

// Segment Routing Header (RFC 8754, routing type 4).
struct Srh {
  // Wire order: segments[0] is the LAST segment of the path,
  // segments[last_entry] the first one.
  std::vector<Ip6> segments{};
  std::optional<uint8_t> segments_left{};  // default: segments.size() - 1
  std::optional<uint8_t> last_entry{};     // default: segments.size() - 1
  uint8_t flags = 0;
  uint16_t tag = 0;
  Bytes tlvs{};  // appended after the segment list; keep a multiple of 8
  uint8_t routing_type = 4;
  std::optional<uint8_t> next_header{};
  std::optional<uint8_t> hdr_ext_len{};  // default: (8 + 16n + tlvs) / 8 - 1

  // From the list in travel order (first segment to visit first); the
  // result points at the first segment (segments_left = n - 1).
  static Srh from_path(std::vector<Ip6> travel_order);
};

// IPv6 Fragment header (RFC 8200 4.5).
struct Fragment {
  uint16_t offset = 0;  // in 8-octet units (13 bits)
  bool more = false;    // M flag
  uint32_t id = 0;
  std::optional<uint8_t> next_header{};
};

// A transport checksum "left to offload": the field holds the folded
// pseudo-header sum (RFC 8200 8.1 / RFC 768 / RFC 9293 3.1), not
// complemented, which is what a sender's CHECKSUM_PARTIAL skb carries for
// the device to finish (the device then sums from the transport header to
// the end and writes the complement).
struct Udp {
  uint16_t sport = 0;
  uint16_t dport = 0;
  std::optional<uint16_t> length{};    // default: 8 + bytes that follow
  std::optional<uint16_t> checksum{};  // default: computed; 0 = "no checksum"
  bool partial = false;                // checksum: the pseudo-header sum only
};

// TCP (RFC 9293 3.1): a 20-byte header plus `options` (padded with zeros
// to a multiple of 4), data = following layers.
struct Tcp {
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0x18;  // PSH | ACK
  uint16_t window = 65535;
  uint16_t urgent = 0;
  Bytes options{};
  std::optional<uint16_t> checksum{};  // default: computed
  bool partial = false;                // checksum: the pseudo-header sum only
};

// ICMPv6 echo request (type 128) or reply (129); data = following layers.
struct Icmp6Echo {
  uint16_t id = 0;
  uint16_t seq = 0;
  bool reply = false;
  std::optional<uint16_t> checksum{};
};

// ICMP (IPv4) echo request (type 8) or reply (0).
struct IcmpEcho {
  uint16_t id = 0;
  uint16_t seq = 0;
  bool reply = false;
  std::optional<uint16_t> checksum{};
};

// ICMPv6 Packet Too Big (RFC 4443 3.2): type 2, code 0, the MTU; data =
// following layers (as much of the offending packet as fits in 1280 bytes).
struct Icmp6TooBig {
  uint32_t mtu = 0;
  std::optional<uint16_t> checksum{};
};

// ICMP Destination Unreachable, Fragmentation Needed and DF set (RFC 792,
// RFC 1191 4): type 3, code 4, 16 unused bits, the next-hop MTU; data =
// following layers (the offending IP header and what follows of it).
struct IcmpFragNeeded {
  uint16_t mtu = 0;
  std::optional<uint16_t> checksum{};
};

// ICMPv6 Time Exceeded (RFC 4443 3.3): type 3, code 0 (hop limit), 32
// unused bits; ICMP Time Exceeded (RFC 792): type 11, code 0 (TTL), 32
// unused bits. data = following layers (as much of the packet as fits).
struct Icmp6TimeExceeded {
  std::optional<uint16_t> checksum{};
};
struct IcmpTimeExceeded {
  std::optional<uint16_t> checksum{};
};

struct Raw {
  Bytes bytes{};
};

class Packet {
 public:
  Packet& eth(const Eth& h);
  Packet& eth(const Mac& dst, const Mac& src, std::optional<uint16_t> type = {});
  Packet& ipv6(const Ipv6& h);
  Packet& ipv4(const Ipv4& h);
  Packet& hbh(const HopByHop& h = {});
  Packet& srh(const Srh& h);
  Packet& udp(const Udp& h);
  Packet& udp(uint16_t sport, uint16_t dport);
  Packet& tcp(const Tcp& h);
  Packet& frag(const Fragment& h);
  Packet& icmp6_too_big(const Icmp6TooBig& h);
  Packet& icmp_frag_needed(const IcmpFragNeeded& h);
  Packet& icmp6_time_exceeded(const Icmp6TimeExceeded& h = {});
  Packet& icmp_time_exceeded(const IcmpTimeExceeded& h = {});
  Packet& icmp6_echo(const Icmp6Echo& h);
  Packet& icmp_echo(const IcmpEcho& h);
  Packet& payload(const Bytes& bytes);
  Packet& payload(std::string_view text);
  // Append all layers of `inner` (e.g. reuse one inner packet under
  // different outer headers).
  Packet& append(const Packet& inner);
  // Cut the built packet to n bytes; lengths/checksums still describe the
  // full packet (useful for truncated-packet tests).
  Packet& truncate(size_t n);

  Bytes build() const;

 private:
  using Layer = std::variant<Eth, Ipv6, Ipv4, HopByHop, Srh, Fragment, Udp, Tcp,
                             Icmp6Echo, IcmpEcho, Icmp6TooBig, IcmpFragNeeded, Icmp6TimeExceeded,
                             IcmpTimeExceeded, Raw>;
  Bytes serialize(size_t i, const Bytes& tail) const;
  uint8_t proto_after(size_t i) const;
  uint32_t pseudo_sum(size_t l4, uint8_t proto, size_t len) const;

  std::vector<Layer> layers_;
  std::optional<size_t> truncate_{};
};

// Internet checksum (RFC 1071) over `data`, starting from partial sum `sum`.
uint16_t checksum(const uint8_t* data, size_t len, uint32_t sum = 0);

// The ones' complement sum (RFC 1071) of `data` plus `sum`, folded to 16
// bits and not complemented (0 only when everything summed is 0).
uint16_t ones_sum(const uint8_t* data, size_t len, uint32_t sum = 0);

// The value of a 16-bit checksum field at `field` (an even offset into
// `data`, len bytes from a transport header) that a device finishing a
// checksum left to offload over data[0, len) leaves as it is: F with
// F = ~(s + F) in ones' complement arithmetic, s the sum of every other
// byte, i.e. 2F = ~s modulo 0xffff, F = ~s rotated right by one bit.
uint16_t offload_fixed_point(const uint8_t* data, size_t len, size_t field);

// Classic 16-bytes-per-line hexdump.
std::string hexdump(const Bytes& bytes);

// Readable comparison for test failure messages: empty string if equal,
// otherwise the first differing offset, both lengths and both hexdumps with
// differing lines marked.
std::string diff(const Bytes& expected, const Bytes& actual);

}  // namespace pkt
