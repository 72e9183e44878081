// Parsers, formatters, names and validation of SID and policy configs.
// Every refusal throws Error with one line naming the offending value.
#include "srv6/config.hpp"

#include <cstdio>

#include <arpa/inet.h>

#include <charconv>

namespace srv6 {
namespace {

bool is_zero(const uint8_t* a, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i]) return false;
  return true;
}
bool is_unspec(const Addr6& a) { return is_zero(a.data(), a.size()); }
bool is_multicast(const Addr6& a) { return a[0] == 0xff; }
bool is_link_local(const Addr6& a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; }

// True when a bit at or beyond `len` is set: iproute2 refuses such prefixes
// ("fc00::1/64") rather than silently masking them.
bool host_bits_set(const uint8_t* a, size_t bytes, unsigned len) {
  for (unsigned bit = len; bit < bytes * 8; bit++)
    if (a[bit / 8] & (0x80 >> (bit % 8))) return true;
  return false;
}

// Splits "ADDR[/LEN]"; LEN must be plain decimal within 0..max.
unsigned split_len(std::string_view text, unsigned max, std::string_view& addr) {
  size_t slash = text.find('/');
  addr = text.substr(0, slash);
  if (slash == std::string_view::npos) return max;
  std::string_view digits = text.substr(slash + 1);
  unsigned len = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
    throw Error("invalid prefix length in " + std::string(text));
  if (len > max)
    throw Error("prefix length " + std::string(digits) + " out of range (0.." +
                std::to_string(max) + ") in " + std::string(text));
  return len;
}

// inet_pton on a view, without a heap copy: no valid address is longer than
// 45 characters, and a NUL would end the text early ("fc00::1\0junk").
bool pton(int af, std::string_view text, uint8_t* out) {
  char buf[64];
  if (text.size() >= sizeof buf || text.find('\0') != std::string_view::npos) return false;
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  return inet_pton(af, buf, out) == 1;
}

template <typename A>
std::string format_addr(int af, const A& a) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(af, a.data(), buf, sizeof buf) ? buf : "?";
}

// "End.X: nh6 ff02::1 must not be multicast", "src must not be ::".
// what() names the address's role; called only to refuse (batches
// validate a million SIDs, so nothing is formatted for the good ones).
template <typename What>
void check_unicast(const Addr6& a, What&& what) {
  if (is_unspec(a)) throw Error(std::string(what()) + " must not be ::");
  if (is_multicast(a)) throw Error(std::string(what()) + " " + format_addr6(a) + " must not be multicast");
}

}  // namespace

std::string Error::escape_controls(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

Addr6 parse_addr6(std::string_view text) {
  Addr6 a{};
  if (!pton(AF_INET6, text, a.data())) throw Error("invalid IPv6 address: " + std::string(text));
  return a;
}

Prefix6 parse_prefix6(std::string_view text) {
  if (text.find('\0') != std::string_view::npos)
    throw Error("invalid IPv6 prefix: " + std::string(text));
  std::string_view addr;
  unsigned len = split_len(text, 128, addr);
  Prefix6 p;
  if (!pton(AF_INET6, addr, p.addr.data())) throw Error("invalid IPv6 prefix: " + std::string(text));
  if (host_bits_set(p.addr.data(), 16, len))
    throw Error("host bits set beyond /" + std::to_string(len) + " in " + std::string(text));
  p.len = static_cast<uint8_t>(len);
  return p;
}

Prefix parse_prefix(std::string_view text) {
  if (text.find('\0') != std::string_view::npos)
    throw Error("invalid prefix: " + std::string(text));
  if (text.find(':') != std::string_view::npos) return parse_prefix6(text);
  std::string_view addr;
  unsigned len = split_len(text, 32, addr);
  Prefix4 p;
  if (!pton(AF_INET, addr, p.addr.data())) throw Error("invalid IPv4 prefix: " + std::string(text));
  if (host_bits_set(p.addr.data(), 4, len))
    throw Error("host bits set beyond /" + std::to_string(len) + " in " + std::string(text));
  p.len = static_cast<uint8_t>(len);
  return p;
}

std::string format_addr6(const Addr6& a) { return format_addr(AF_INET6, a); }

std::string format_prefix6(const Prefix6& p) {
  return format_addr6(p.addr) + "/" + std::to_string(p.len);
}

std::string format_prefix(const Prefix& p) {
  if (auto* p6 = std::get_if<Prefix6>(&p)) return format_prefix6(*p6);
  const auto& p4 = std::get<Prefix4>(p);
  return format_addr(AF_INET, p4.addr) + "/" + std::to_string(p4.len);
}

namespace {
constexpr Behaviour kBehaviours[] = {
    {SRV6_ACTION_END, "End", 0, 0},
    {SRV6_ACTION_END_X, "End.X", kNh6, kOif},
    {SRV6_ACTION_END_T, "End.T", kTable, 0},
    {SRV6_ACTION_END_DX4, "End.DX4", kNh4, kOif},
    {SRV6_ACTION_END_DX6, "End.DX6", kNh6, kOif},
    {SRV6_ACTION_END_DT4, "End.DT4", kTable, 0},
    {SRV6_ACTION_END_DT6, "End.DT6", kTable, 0},
    {SRV6_ACTION_END_DT46, "End.DT46", kTable, 0},
};

struct AttrName {
  Attr attr;
  std::string_view key;
};
constexpr AttrName kAttrNames[] = {{kNh4, "nh4"}, {kNh6, "nh6"}, {kOif, "oif"}, {kTable, "table"}};

// "End.X, End.DX6": the behaviours that take attribute a.
std::string takers(Attr a) {
  std::string s;
  for (const auto& b : kBehaviours)
    if ((b.required | b.optional) & a) s += (s.empty() ? "" : ", ") + std::string(b.name);
  return s;
}
}  // namespace

std::span<const Behaviour> behaviours() { return kBehaviours; }

const Behaviour* behaviour(srv6_action a) {
  for (const auto& b : kBehaviours)
    if (b.action == a) return &b;
  return nullptr;
}

const Behaviour* behaviour(std::string_view name) {
  for (const auto& b : kBehaviours)
    if (b.name == name) return &b;
  return nullptr;
}

std::string action_names() {
  std::string s;
  for (const auto& b : kBehaviours) s += (s.empty() ? "" : "|") + std::string(b.name);
  return s;
}

std::string_view action_name(srv6_action a) {
  const Behaviour* b = behaviour(a);
  return b ? b->name : "unknown";
}

std::optional<srv6_action> action_from_name(std::string_view name) {
  const Behaviour* b = behaviour(name);
  if (!b) return std::nullopt;
  return b->action;
}

std::string format_addr4(const Addr4& a) { return format_addr(AF_INET, a); }

Addr4 parse_addr4(std::string_view text) {
  Addr4 a{};
  if (!pton(AF_INET, text, a.data())) throw Error("invalid IPv4 address: " + std::string(text));
  return a;
}

std::vector<AttrText> attributes(const SidConfig& c) {
  std::vector<AttrText> v;
  if (c.nh4) v.push_back({kNh4, "nh4", format_addr4(*c.nh4)});
  if (c.nh6) v.push_back({kNh6, "nh6", format_addr6(*c.nh6)});
  if (c.oif || !c.oif_name.empty())
    v.push_back({kOif, "oif", c.oif_name.empty() ? std::to_string(c.oif) : c.oif_name});
  if (c.table) v.push_back({kTable, "table", std::to_string(c.table)});
  return v;
}

std::string_view encap_mode_name(srv6_encap_mode m) {
  switch (m) {
    case SRV6_ENCAP: return "encap";
    case SRV6_ENCAP_RED: return "encap.red";
    case SRV6_ENCAP_UNSPEC:
    case SRV6_ENCAP__MAX: break;
  }
  return "unknown";
}

std::optional<srv6_encap_mode> encap_mode_from_name(std::string_view name) {
  for (auto m : {SRV6_ENCAP, SRV6_ENCAP_RED})
    if (encap_mode_name(m) == name) return m;
  return std::nullopt;
}

std::string_view reason_name(srv6_reason r) {
  switch (r) {
    case SRV6_REASON_NONE: return "none";
    case SRV6_DROP_TRUNCATED: return "truncated";
    case SRV6_DROP_BAD_IP_HEADER: return "bad_ip_header";
    case SRV6_DROP_MALFORMED_SRH: return "malformed_srh";
    case SRV6_DROP_NO_SRH: return "no_srh";
    case SRV6_DROP_SL_ZERO: return "sl_zero";
    case SRV6_DROP_NO_ROUTE: return "no_route";
    case SRV6_DROP_ENCAP_FAILED: return "encap_failed";
    case SRV6_DROP_BAD_ENTRY: return "bad_entry";
    case SRV6_DROP_TOO_MANY_EXT: return "too_many_ext";
    case SRV6_DROP_CHAIN_LIMIT: return "chain_limit";
    case SRV6_PASS_HOP_LIMIT: return "hop_limit";
    case SRV6_PASS_TOO_BIG: return "too_big";
    case SRV6_PASS_NO_NEIGH: return "no_neigh";
    case SRV6_PASS_KERNEL_ROUTE: return "kernel_route";
    case SRV6_PASS_SKB_EGRESS: return "skb_egress";
    case SRV6_PASS_NO_HEADROOM: return "no_headroom";
    case SRV6_PASS_KERNEL_INPUT: return "kernel_input";
    case SRV6_PASS_CSUM: return "csum_offload";
    case SRV6_DROP_PMTU_ICMP: return "pmtu_icmp";
    case SRV6_DROP_PMTU_LIMITED: return "pmtu_ratelimited";
    case SRV6_DROP_TOO_BIG: return "too_big_no_icmp";
    case SRV6_DROP_NEXT_LOCAL: return "next_local";
    case SRV6_DROP_SL_NOT_ZERO: return "sl_not_zero";
    case SRV6_DROP_INNER_PROTO: return "bad_inner_proto";
    case SRV6_DROP_ROUTE_BLACKHOLE: return "route_blackhole";
    case SRV6_DROP_ROUTE_UNREACHABLE: return "route_unreachable";
    case SRV6_DROP_ROUTE_PROHIBIT: return "route_prohibit";
    case SRV6_DROP_HOP_LIMIT: return "hop_limit_exceeded";
    case SRV6_REASON__MAX: break;
  }
  return "unknown";  // no default: -Wswitch flags a reason added to the ABI
}

bool reason_is_drop(srv6_reason r) {
  switch (r) {
    case SRV6_PASS_HOP_LIMIT:
    case SRV6_PASS_TOO_BIG:
    case SRV6_PASS_NO_NEIGH:
    case SRV6_PASS_KERNEL_ROUTE:
    case SRV6_PASS_SKB_EGRESS:
    case SRV6_PASS_NO_HEADROOM:
    case SRV6_PASS_KERNEL_INPUT:
    case SRV6_PASS_CSUM:
    case SRV6_REASON_NONE:
    case SRV6_REASON__MAX:
      return false;
    case SRV6_DROP_TRUNCATED:
    case SRV6_DROP_BAD_IP_HEADER:
    case SRV6_DROP_MALFORMED_SRH:
    case SRV6_DROP_NO_SRH:
    case SRV6_DROP_SL_ZERO:
    case SRV6_DROP_NO_ROUTE:
    case SRV6_DROP_ENCAP_FAILED:
    case SRV6_DROP_BAD_ENTRY:
    case SRV6_DROP_TOO_MANY_EXT:
    case SRV6_DROP_CHAIN_LIMIT:
    case SRV6_DROP_PMTU_ICMP:
    case SRV6_DROP_PMTU_LIMITED:
    case SRV6_DROP_TOO_BIG:
    case SRV6_DROP_NEXT_LOCAL:
    case SRV6_DROP_SL_NOT_ZERO:
    case SRV6_DROP_INNER_PROTO:
    case SRV6_DROP_ROUTE_BLACKHOLE:
    case SRV6_DROP_ROUTE_UNREACHABLE:
    case SRV6_DROP_ROUTE_PROHIBIT:
    case SRV6_DROP_HOP_LIMIT:
      return true;
  }
  return false;  // no default: -Wswitch flags a reason added to the ABI
}

// Messages are built only on refusal: this runs for every SID of a batch.
void validate(const SidConfig& c) {
  check_unicast(c.sid.addr, [&] { return "SID " + format_prefix6(c.sid); });
  const Behaviour* b = behaviour(c.action);
  if (!b) throw Error("unknown action " + std::to_string(c.action) + " for SID " + format_prefix6(c.sid));
  std::string_view act = b->name;
  // The parser keeps the oif as a name until main resolves it, so either
  // field means "oif given".
  auto bit = [](bool on, Attr a) { return on ? unsigned(a) : 0u; };
  unsigned given = bit(bool(c.nh4), kNh4) | bit(bool(c.nh6), kNh6) |
                   bit(c.oif != 0 || !c.oif_name.empty(), kOif) | bit(c.table != 0, kTable);
  if (unsigned extra = given & ~(b->required | b->optional)) {
    for (const auto& a : kAttrNames)
      if (extra & a.attr) {
        std::string value;
        for (const auto& t : attributes(c))
          if (t.attr == a.attr) value = t.value;
        throw Error(std::string(act) + ": " + std::string(a.key) + " " + value + " not allowed (" +
                    takers(a.attr) + " take it)");
      }
  }
  if (unsigned missing = b->required & ~given) {
    for (const auto& a : kAttrNames)
      if (missing & a.attr)
        throw Error(std::string(act) + " needs " + std::string(a.key) +
                    (a.attr == kTable ? " (1..4294967295)" : ""));
  }
  if (c.nh6) {
    // End.DX6's :: means "the inner destination"; End.X has no such thing
    if (c.action != SRV6_ACTION_END_DX6 || !is_unspec(*c.nh6))
      check_unicast(*c.nh6, [&] { return std::string(act) + ": nh6"; });
    // A link-local next hop is ambiguous without the link it lives on.
    if (is_link_local(*c.nh6) && !(given & kOif))
      throw Error(std::string(act) + ": link-local nh6 " + format_addr6(*c.nh6) + " needs oif");
  }
  if (c.nh4) {
    const Addr4& a = *c.nh4;
    if ((a[0] & 0xf0) == 0xe0 || a == Addr4{255, 255, 255, 255})
      throw Error(std::string(act) + ": nh4 " + format_addr4(a) + " must be unicast (or 0.0.0.0)");
  }
}

std::string format_outer(const OuterField& f) {
  switch (f.kind) {
    case OuterField::Value: return std::to_string(f.value);
    case OuterField::Inherit: return "inherit";
    case OuterField::Hash: return "hash";
    case OuterField::Default: break;
  }
  return "";
}

std::string format_table(uint32_t table) {
  switch (table) {
    case 253: return "default";
    case SRV6_TABLE_MAIN: return "main";
    case 255: return "local";
  }
  return std::to_string(table);
}

void validate(const PolicyConfig& c) {
  if (!encap_mode_from_name(encap_mode_name(c.mode)))
    throw Error("unknown mode " + std::to_string(c.mode) + " for policy " + format_prefix(c.prefix));
  if (c.segs.empty()) throw Error("no SIDs (segs is empty) for policy " + format_prefix(c.prefix));
  if (c.segs.size() > SRV6_MAX_SEGS)
    throw Error("too many SIDs: " + std::to_string(c.segs.size()) + " (at most " +
                std::to_string(SRV6_MAX_SEGS) + ")");
  for (const auto& s : c.segs) check_unicast(s, [] { return "segs: SID"; });
  if (c.table == 0 || c.table == 255)
    throw Error("table " + format_table(c.table) + " cannot hold policies (main, or a table id but local)");
  if (c.src) check_unicast(*c.src, [] { return "src"; });
  auto range = [&](const OuterField& f, const char* name, uint32_t lo, uint32_t hi) {
    if (f.kind == OuterField::Hash && std::string_view(name) != "flowlabel")
      throw Error(std::string(name) + " hash: only the flow label is hashed");
    if (f.kind == OuterField::Value && (f.value < lo || f.value > hi))
      throw Error(std::string(name) + " " + std::to_string(f.value) + " out of range (" +
                  std::to_string(lo) + ".." + std::to_string(hi) + ")");
  };
  range(c.hoplimit, "hoplimit", 1, 255);
  range(c.tclass, "tclass", 0, 255);
  range(c.flowlabel, "flowlabel", 0, 0xFFFFF);
}

}  // namespace srv6
