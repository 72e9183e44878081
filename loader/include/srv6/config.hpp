// Typed configuration of SIDs and head-end policies, with the validation
// every entry point (srv6ctl, srv6d, tests) shares.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

extern "C" {
#include "srv6_abi.h"
}

namespace srv6 {

// Every refusal: the message names the problem and the offending value, on
// one line: control characters of quoted input are escaped (\xHH).
struct Error : std::runtime_error {
  explicit Error(const std::string& what) : std::runtime_error(escape_controls(what)) {}
  static std::string escape_controls(const std::string& s);
};

using Addr6 = std::array<uint8_t, 16>;
using Addr4 = std::array<uint8_t, 4>;

struct Prefix6 {
  Addr6 addr{};
  uint8_t len = 128;
  bool operator==(const Prefix6&) const = default;
};
struct Prefix4 {
  Addr4 addr{};
  uint8_t len = 32;
  bool operator==(const Prefix4&) const = default;
};
using Prefix = std::variant<Prefix4, Prefix6>;

// Parsers: throw Error naming the text on failure. Host bits beyond the
// prefix length are refused (as iproute2 refuses them).
Addr6 parse_addr6(std::string_view text);
Prefix6 parse_prefix6(std::string_view text);  // no /LEN means /128
Prefix parse_prefix(std::string_view text);    // IPv4 or IPv6
std::string format_addr6(const Addr6& a);
std::string format_prefix(const Prefix& p);
std::string format_prefix6(const Prefix6& p);

// A SID's attributes, as iproute2's seg6local keywords.
enum Attr : unsigned {
  kNh4 = 1,    // nh4 ADDR
  kNh6 = 2,    // nh6 ADDR
  kOif = 4,    // oif DEV
  kTable = 8,  // table ID (vrftable ID: the same)
};

// The behaviour table, as the kernel's seg6_action_desc: one row per
// behaviour, its name as iproute2 spells it, the attributes it needs and
// those it may take. Validation, the CLI's keywords, `show` and the JSON
// all follow it (bpf/behaviours.h is the datapath's side of each row).
struct Behaviour {
  srv6_action action;
  std::string_view name;
  unsigned required;  // Attr bits
  unsigned optional;
};
std::span<const Behaviour> behaviours();
const Behaviour* behaviour(srv6_action a);       // nullptr: unknown
const Behaviour* behaviour(std::string_view name);
std::string action_names();  // "End|End.X|..."

// Behaviour names as iproute2 spells them ("End", "End.X", "End.T").
std::string_view action_name(srv6_action a);
std::optional<srv6_action> action_from_name(std::string_view name);
std::string_view encap_mode_name(srv6_encap_mode m);  // "encap", "encap.red"
std::optional<srv6_encap_mode> encap_mode_from_name(std::string_view name);

struct SidConfig {
  Prefix6 sid;
  srv6_action action = SRV6_ACTION_UNSPEC;
  std::optional<Addr6> nh6;  // End.X, End.DX6 (:: = the inner destination)
  uint32_t oif = 0;          // End.X, End.DX*: ifindex, 0 = none
  std::string oif_name;      // for display; resolved to oif by the caller
  uint32_t table = 0;        // End.T, End.DT*
  std::optional<Addr4> nh4;  // End.DX4 (0.0.0.0 = the inner destination)
};

// The attributes a SID carries, in iproute2's order, as `show` prints
// them: keyword and value text (oif: its name, else the ifindex).
struct AttrText {
  Attr attr;
  std::string_view key;
  std::string value;
};
std::vector<AttrText> attributes(const SidConfig& c);
std::string format_addr4(const Addr4& a);
Addr4 parse_addr4(std::string_view text);

// An outer header field of a policy: the kernel's choice, a value, the
// inner packet's (`inherit`), or (flow label only) a hash of the inner flow.
struct OuterField {
  enum Kind : uint8_t { Default, Value, Inherit, Hash } kind = Default;
  uint32_t value = 0;
  bool operator==(const OuterField&) const = default;
};

struct PolicyConfig {
  Prefix prefix;
  srv6_encap_mode mode = SRV6_ENCAP_UNSPEC;
  std::vector<Addr6> segs;  // in travel order: segs[0] is the first SID
  std::optional<Addr6> src;
  OuterField hoplimit{}, tclass{}, flowlabel{};
  uint32_t table = SRV6_TABLE_MAIN;  // the routing table it lives in (link set DEV table ID)
};
// A routing table as iproute2 names it: "main", "local", "default", or the id.
std::string format_table(uint32_t table);

// "64", "inherit", "hash"; empty for Default.
std::string format_outer(const OuterField& f);

// Throws Error when an attribute is missing, extra or out of range.
void validate(const SidConfig& c);
void validate(const PolicyConfig& c);

struct Counters {
  uint64_t packets = 0, bytes = 0, errors = 0;
};

std::string_view reason_name(srv6_reason r);
// A drop (the packet goes nowhere, or is answered by an ICMP error of
// ours) as opposed to a hand-off to the kernel or the TC program.
bool reason_is_drop(srv6_reason r);

}  // namespace srv6
