#include "builder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace pkt {

namespace {

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

void put8(Bytes& b, uint8_t v) { b.push_back(v); }
void put16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}
template <size_t N>
void put(Bytes& b, const std::array<uint8_t, N>& a) {
  b.insert(b.end(), a.begin(), a.end());
}
void set16(Bytes& b, size_t off, uint16_t v) {
  b[off] = uint8_t(v >> 8);
  b[off + 1] = uint8_t(v);
}

// Sum of 16-bit big-endian words, not yet folded.
uint32_t sum16(const uint8_t* p, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += uint32_t(p[len - 1] << 8);
  return sum;
}

uint16_t length16(size_t n, const char* what) {
  if (n > 0xffff) throw std::length_error(std::string(what) + " too long");
  return uint16_t(n);
}

}  // namespace

// ---------------------------------------------------------------- parsers

Mac mac(std::string_view text) {
  Mac m{};
  unsigned v[6];
  char extra;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3],
                  &v[4], &v[5], &extra) != 6)
    throw std::invalid_argument("bad MAC address: " + s);
  for (int i = 0; i < 6; i++) {
    if (v[i] > 0xff) throw std::invalid_argument("bad MAC address: " + s);
    m[i] = uint8_t(v[i]);
  }
  return m;
}

Ip4 ip4(std::string_view text) {
  Ip4 a{};
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), a.data()) != 1)
    throw std::invalid_argument("bad IPv4 address: " + s);
  return a;
}

Ip6 ip6(std::string_view text) {
  Ip6 a{};
  std::string s(text);
  if (inet_pton(AF_INET6, s.c_str(), a.data()) != 1)
    throw std::invalid_argument("bad IPv6 address: " + s);
  return a;
}

uint16_t ones_sum(const uint8_t* data, size_t len, uint32_t sum) {
  sum = sum16(data, len, sum);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(sum);
}

uint16_t checksum(const uint8_t* data, size_t len, uint32_t sum) {
  return uint16_t(~ones_sum(data, len, sum));
}

uint16_t offload_fixed_point(const uint8_t* data, size_t len, size_t field) {
  if (field % 2 || field + 2 > len) throw std::invalid_argument("checksum field outside the data");
  // the sum of every byte but the field's, in 32 bits (no overflow below 128 KiB)
  uint32_t s = sum16(data, field, 0);
  s = sum16(data + field + 2, len - field - 2, s);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  uint16_t x = uint16_t(~s);
  return uint16_t(x >> 1 | x << 15);
}

Srh Srh::from_path(std::vector<Ip6> travel_order) {
  Srh s;
  s.segments.assign(travel_order.rbegin(), travel_order.rend());
  return s;
}

// ---------------------------------------------------------------- stacking

Packet& Packet::eth(const Eth& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::eth(const Mac& dst, const Mac& src, std::optional<uint16_t> type) {
  return eth(Eth{dst, src, type});
}
Packet& Packet::ipv6(const Ipv6& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::ipv4(const Ipv4& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::hbh(const HopByHop& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::srh(const Srh& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::udp(const Udp& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::udp(uint16_t sport, uint16_t dport) {
  return udp(Udp{.sport = sport, .dport = dport});
}
Packet& Packet::tcp(const Tcp& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::frag(const Fragment& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::icmp6_too_big(const Icmp6TooBig& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::icmp_frag_needed(const IcmpFragNeeded& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::icmp6_time_exceeded(const Icmp6TimeExceeded& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::icmp_time_exceeded(const IcmpTimeExceeded& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::icmp6_echo(const Icmp6Echo& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::icmp_echo(const IcmpEcho& h) { layers_.emplace_back(h); return *this; }
Packet& Packet::payload(const Bytes& bytes) { layers_.emplace_back(Raw{bytes}); return *this; }
Packet& Packet::payload(std::string_view text) {
  return payload(Bytes(text.begin(), text.end()));
}
Packet& Packet::append(const Packet& inner) {
  layers_.insert(layers_.end(), inner.layers_.begin(), inner.layers_.end());
  return *this;
}
Packet& Packet::truncate(size_t n) { truncate_ = n; return *this; }

// ---------------------------------------------------------------- building

// Protocol number announced by layer i for the layer after it.
uint8_t Packet::proto_after(size_t i) const {
  if (i + 1 >= layers_.size()) return kNoNext;
  return std::visit(Overload{
                        [](const Ipv6&) { return kIpv6; },
                        [](const Ipv4&) { return kIpIp; },
                        [](const HopByHop&) { return kHopByHop; },
                        [](const Srh&) { return kRouting; },
                        [](const Fragment&) { return kFragment; },
                        [](const Udp&) { return kUdp; },
                        [](const Tcp&) { return kTcp; },
                        [](const Icmp6Echo&) { return kIcmp6; },
                        [](const IcmpEcho&) { return kIcmp; },
                        [](const Icmp6TooBig&) { return kIcmp6; },
                        [](const IcmpFragNeeded&) { return kIcmp; },
                        [](const Icmp6TimeExceeded&) { return kIcmp6; },
                        [](const IcmpTimeExceeded&) { return kIcmp; },
                        [](const auto&) { return kNoNext; },
                    },
                    layers_[i + 1]);
}

// Pseudo-header sum for the transport layer at index l4: the nearest
// enclosing IP header supplies the addresses.  For IPv6 with an SRH in
// between, the destination is the final one (segments[0], RFC 8200 8.1),
// so the checksum does not change as the packet walks its segment list.
uint32_t Packet::pseudo_sum(size_t l4, uint8_t proto, size_t len) const {
  const Ip6* final_dst = nullptr;
  for (size_t j = l4; j-- > 0;) {
    if (auto* s = std::get_if<Srh>(&layers_[j]); s && !s->segments.empty())
      final_dst = &s->segments[0];
    if (auto* h = std::get_if<Ipv6>(&layers_[j])) {
      const Ip6& dst = final_dst ? *final_dst : h->dst;
      uint32_t sum = sum16(h->src.data(), 16, 0);
      sum = sum16(dst.data(), 16, sum);
      sum += uint32_t(len >> 16) + uint32_t(len & 0xffff);
      return sum + proto;
    }
    if (auto* h = std::get_if<Ipv4>(&layers_[j])) {
      uint32_t sum = sum16(h->src.data(), 4, 0);
      sum = sum16(h->dst.data(), 4, sum);
      return sum + proto + uint32_t(len);
    }
  }
  throw std::logic_error("transport layer without an IP header before it");
}

// Header bytes of layer i, given the already serialised bytes after it.
Bytes Packet::serialize(size_t i, const Bytes& tail) const {
  Bytes b;
  const uint8_t next = proto_after(i);
  // Fill the checksum at `off` of header b over b + tail.
  auto l4_checksum = [&](size_t off, uint32_t init, bool zero_is_ffff) {
    uint32_t sum = sum16(b.data(), b.size(), init);
    uint16_t c = checksum(tail.data(), tail.size(), sum);
    if (c == 0 && zero_is_ffff) c = 0xffff;  // UDP: 0 means "none"
    set16(b, off, c);
  };
  // An ICMP error's header: type, code, checksum, a 32-bit word (the MTU,
  // or unused); ICMPv6 sums a pseudo-header, ICMPv4 none.
  auto icmp_error = [&](bool v6, uint8_t type, uint8_t code, uint32_t word, std::optional<uint16_t> checksum) {
    put8(b, type);
    put8(b, code);
    put16(b, 0);
    put32(b, word);
    if (checksum)
      set16(b, 2, *checksum);
    else
      l4_checksum(2, v6 ? pseudo_sum(i, kIcmp6, 8 + tail.size()) : 0, false);
  };
  // A checksum left to offload: the folded pseudo-header sum alone.
  auto l4_partial = [&](size_t off, uint32_t pseudo) {
    while (pseudo >> 16) pseudo = (pseudo & 0xffff) + (pseudo >> 16);
    set16(b, off, uint16_t(pseudo));
  };

  std::visit(
      Overload{
          [&](const Eth& h) {
            put(b, h.dst);
            put(b, h.src);
            uint16_t type = 0;
            if (h.type) {
              type = *h.type;
            } else if (next == kIpv6) {
              type = kEthIpv6;
            } else if (next == kIpIp) {
              type = kEthIpv4;
            } else {
              throw std::logic_error("Ethernet: set type for this payload");
            }
            put16(b, type);
          },
          [&](const Ipv6& h) {
            put32(b, 6u << 28 | uint32_t(h.traffic_class) << 20 |
                         (h.flow_label & 0xfffff));
            put16(b, h.payload_length.value_or(length16(tail.size(), "IPv6 payload")));
            put8(b, h.next_header.value_or(next));
            put8(b, h.hop_limit);
            put(b, h.src);
            put(b, h.dst);
          },
          [&](const Ipv4& h) {
            put8(b, 0x45);  // version 4, IHL 5 (no options)
            put8(b, h.tos);
            put16(b, h.total_length.value_or(length16(20 + tail.size(), "IPv4 packet")));
            put16(b, h.id);
            put16(b, h.frag);
            put8(b, h.ttl);
            put8(b, h.protocol.value_or(next));
            put16(b, 0);
            put(b, h.src);
            put(b, h.dst);
            set16(b, 10, h.checksum.value_or(checksum(b.data(), b.size())));
          },
          [&](const HopByHop& h) {
            put8(b, h.next_header.value_or(next));
            put8(b, 0);  // length, below
            b.insert(b.end(), h.options.begin(), h.options.end());
            size_t pad = (8 - b.size() % 8) % 8;
            if (pad == 1) {
              put8(b, 0);  // Pad1
            } else if (pad > 1) {
              put8(b, 1);  // PadN
              put8(b, uint8_t(pad - 2));
              b.insert(b.end(), pad - 2, 0);
            }
            b[1] = h.hdr_ext_len.value_or(uint8_t(b.size() / 8 - 1));
          },
          [&](const Srh& h) {
            const size_t n = h.segments.size();
            const uint8_t last = n ? uint8_t(n - 1) : 0;
            const size_t len = 8 + 16 * n + h.tlvs.size();
            put8(b, h.next_header.value_or(next));
            put8(b, h.hdr_ext_len.value_or(uint8_t(len / 8 - 1)));
            put8(b, h.routing_type);
            put8(b, h.segments_left.value_or(last));
            put8(b, h.last_entry.value_or(last));
            put8(b, h.flags);
            put16(b, h.tag);
            for (const Ip6& s : h.segments) put(b, s);
            b.insert(b.end(), h.tlvs.begin(), h.tlvs.end());
          },
          [&](const Fragment& h) {
            put8(b, h.next_header.value_or(next));
            put8(b, 0);  // reserved
            put16(b, uint16_t((h.offset & 0x1fff) << 3 | (h.more ? 1 : 0)));
            put32(b, h.id);
          },
          [&](const Udp& h) {
            const size_t len = 8 + tail.size();
            put16(b, h.sport);
            put16(b, h.dport);
            put16(b, h.length.value_or(length16(len, "UDP datagram")));
            put16(b, 0);
            if (h.checksum)
              set16(b, 6, *h.checksum);
            else if (h.partial)
              l4_partial(6, pseudo_sum(i, kUdp, len));
            else
              l4_checksum(6, pseudo_sum(i, kUdp, len), true);
          },
          [&](const Tcp& h) {
            Bytes opts = h.options;
            opts.resize((opts.size() + 3) / 4 * 4, 0);
            if (20 + opts.size() > 60) throw std::length_error("TCP options too long");
            put16(b, h.sport);
            put16(b, h.dport);
            put32(b, h.seq);
            put32(b, h.ack);
            put8(b, uint8_t((20 + opts.size()) / 4) << 4);  // data offset
            put8(b, h.flags);
            put16(b, h.window);
            put16(b, 0);
            put16(b, h.urgent);
            b.insert(b.end(), opts.begin(), opts.end());
            const size_t len = b.size() + tail.size();
            if (h.checksum)
              set16(b, 16, *h.checksum);
            else if (h.partial)
              l4_partial(16, pseudo_sum(i, kTcp, len));
            else
              l4_checksum(16, pseudo_sum(i, kTcp, len), false);
          },
          [&](const Icmp6Echo& h) {
            put8(b, h.reply ? 129 : 128);
            put8(b, 0);
            put16(b, 0);
            put16(b, h.id);
            put16(b, h.seq);
            if (h.checksum)
              set16(b, 2, *h.checksum);
            else
              l4_checksum(2, pseudo_sum(i, kIcmp6, 8 + tail.size()), false);
          },
          [&](const IcmpEcho& h) {
            put8(b, h.reply ? 0 : 8);
            put8(b, 0);
            put16(b, 0);
            put16(b, h.id);
            put16(b, h.seq);
            if (h.checksum)
              set16(b, 2, *h.checksum);
            else
              l4_checksum(2, 0, false);  // ICMPv4: no pseudo header
          },
          [&](const Icmp6TooBig& h) { icmp_error(true, 2, 0, h.mtu, h.checksum); },
          [&](const IcmpFragNeeded& h) { icmp_error(false, 3, 4, h.mtu, h.checksum); },  // 16 unused bits, the MTU
          [&](const Icmp6TimeExceeded& h) { icmp_error(true, 3, 0, 0, h.checksum); },
          [&](const IcmpTimeExceeded& h) { icmp_error(false, 11, 0, 0, h.checksum); },
          [&](const Raw& h) { b = h.bytes; },
      },
      layers_[i]);
  return b;
}

Bytes Packet::build() const {
  Bytes out;
  for (size_t i = layers_.size(); i-- > 0;) {
    Bytes hdr = serialize(i, out);
    hdr.insert(hdr.end(), out.begin(), out.end());
    out = std::move(hdr);
  }
  if (truncate_ && *truncate_ < out.size()) out.resize(*truncate_);
  return out;
}

// ---------------------------------------------------------------- dumping

namespace {

std::string hexline(const Bytes& b, size_t off) {
  char buf[8];
  std::string s;
  std::snprintf(buf, sizeof buf, "%04zx ", off);
  s += buf;
  for (size_t i = off; i < off + 16; i++) {
    if (i % 8 == 0) s += ' ';
    if (i < b.size()) {
      std::snprintf(buf, sizeof buf, "%02x ", b[i]);
      s += buf;
    } else {
      s += "   ";
    }
  }
  return s;
}

std::string dump(const Bytes& b, const Bytes* other) {
  std::string s;
  for (size_t off = 0; off < b.size(); off += 16) {
    std::string line = hexline(b, off);
    if (other) {
      bool differs = false;
      for (size_t i = off; i < off + 16 && i < b.size(); i++)
        differs |= i >= other->size() || (*other)[i] != b[i];
      if (differs) line += " <";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    s += line + "\n";
  }
  return s;
}

}  // namespace

std::string hexdump(const Bytes& bytes) { return dump(bytes, nullptr); }

std::string diff(const Bytes& expected, const Bytes& actual) {
  if (expected == actual) return {};
  auto [e, a] = std::mismatch(expected.begin(), expected.end(), actual.begin(),
                              actual.end());
  const size_t off = size_t(e - expected.begin());
  char buf[160];
  if (e != expected.end() && a != actual.end())
    std::snprintf(buf, sizeof buf,
                  "first difference at offset %zu (0x%zx): expected 0x%02x, "
                  "actual 0x%02x\n",
                  off, off, *e, *a);
  else
    std::snprintf(buf, sizeof buf,
                  "identical for the first %zu bytes, then one packet ends\n", off);
  std::string s = buf;
  s += "expected (" + std::to_string(expected.size()) + " bytes):\n" +
       dump(expected, &actual);
  s += "actual (" + std::to_string(actual.size()) + " bytes):\n" +
       dump(actual, &expected);
  return s;
}

}  // namespace pkt
