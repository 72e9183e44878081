// srv6ctl command line: argv -> Command. A pure parser: no interface
// lookups, no namespace changes, no maps touched; main.cpp executes the
// result. Every refusal throws srv6::Error with a one-line message naming the
// offending token.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "srv6/config.hpp"
#include "srv6/instance.hpp"

namespace srv6::cli {

struct Globals {
  bool json = false;           // -j, -json, --json
  bool stats = false;          // -s, -stats, --stats
  std::string netns;           // -n NETNS; empty = current namespace
  std::string instance = "default";  // --instance NAME
  uint32_t capacity = 0;       // --capacity N: table sizes of a new instance
  bool operator==(const Globals&) const = default;
};

struct Help {};
struct Attach {
  std::string dev;
  Hook hook = Hook::Xdp;
  XdpMode mode = XdpMode::Auto;
  Egress egress = Egress::Auto;  // "egress auto|xdp|skb"
};
struct Detach {
  std::string dev;
};
struct SidAdd {
  SidConfig config;    // config.oif_name holds the oif; oif stays 0
  bool count = false;  // iproute2's `count`; counters are always kept
};
struct SidDel {
  Prefix6 sid;
};
struct SidShow {
  std::optional<Prefix6> sid;  // only this SID
};
struct PolicyAdd {
  PolicyConfig config;
};
struct PolicyDel {
  Prefix prefix;
  uint32_t table = SRV6_TABLE_MAIN;
};
struct PolicyShow {};
struct TunsrcSet {
  Addr6 addr;  // :: clears it
};
struct TunsrcShow {};
struct LinkShow {};
// link set DEV table ID|main
struct LinkSet {
  std::string dev;
  uint32_t table = SRV6_TABLE_MAIN;
};
struct Stats {
  bool reset = false;
};
// instance list | add NAME | del NAME|--all
struct InstanceList {};
struct InstanceAdd {
  std::string name;
};
struct InstanceDel {
  std::string name;  // empty: --all, every instance of the namespace
};
// -b FILE: sid/policy add/del commands, one a line, applied all or nothing.
struct Batch {
  std::string file;  // "-" for standard input
};

using Action = std::variant<Help, Attach, Detach, SidAdd, SidDel, SidShow, PolicyAdd,
                            PolicyDel, PolicyShow, LinkShow, LinkSet, Stats, Batch, InstanceList, InstanceAdd,
                            InstanceDel, TunsrcSet, TunsrcShow>;

struct Command {
  Globals globals;
  Action action;
};

// args excludes the program name.
Command parse(const std::vector<std::string>& args);
Command parse(int argc, const char* const* argv);

// The commands of a batch file: blank lines and lines starting with '#'
// are skipped; every other line is a sid/policy add/del command without
// options. line is 1-based. Throws Error "line N: ..." for the first bad line.
// on_line gets each command in order, as it is parsed (a batch may hold a
// million: the caller keeps them in the form it needs, not twice).
void parse_batch(std::string_view text, const std::function<void(size_t line, Action&& action)>& on_line);

// The same, collected.
struct BatchLine {
  size_t line;
  Action action;
};
std::vector<BatchLine> parse_batch(std::string_view text);

// Multi-line usage text (help, -h).
const char* usage();

}  // namespace srv6::cli
