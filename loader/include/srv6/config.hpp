// Typed configuration of SIDs and head-end policies, with the validation
// every entry point (srv6ctl, srv6d, tests) shares.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <optional>
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

// Behaviour names as iproute2 spells them ("End", "End.X", "End.T").
std::string_view action_name(srv6_action a);
std::optional<srv6_action> action_from_name(std::string_view name);
std::string_view encap_mode_name(srv6_encap_mode m);  // "encap", "encap.red"
std::optional<srv6_encap_mode> encap_mode_from_name(std::string_view name);

struct SidConfig {
  Prefix6 sid;
  srv6_action action = SRV6_ACTION_UNSPEC;
  std::optional<Addr6> nh6;  // End.X
  uint32_t oif = 0;          // End.X: ifindex, 0 = none
  std::string oif_name;      // for display; resolved to oif by the caller
  uint32_t table = 0;        // End.T
};

struct PolicyConfig {
  Prefix prefix;
  srv6_encap_mode mode = SRV6_ENCAP_UNSPEC;
  std::vector<Addr6> segs;  // in travel order: segs[0] is the first SID
  std::optional<Addr6> src;
};

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
