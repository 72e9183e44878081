// iproute2-style keyword grammar, hand-written: a positional object (DEV,
// SID, PREFIX) followed by keywords in any order, driven by small tables.
#include "parse.hpp"

#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <span>

namespace srv6::cli {
namespace {

// Cursor over the remaining tokens.
class Tokens {
 public:
  explicit Tokens(const std::vector<std::string>& v) : v_(v) {}
  bool done() const { return i_ == v_.size(); }
  const std::string& peek() const { return v_[i_]; }
  const std::string& next() { return v_[i_++]; }
  // The next token as the value of keyword `what`.
  const std::string& value(std::string_view what) {
    if (done()) throw Error("missing value for " + std::string(what));
    return next();
  }
  // The next token as a required positional argument.
  const std::string& positional(std::string_view what) {
    if (done()) throw Error("missing " + std::string(what));
    return next();
  }
  void expect_end() {
    if (!done()) throw Error("unexpected argument " + peek());
  }

 private:
  const std::vector<std::string>& v_;
  size_t i_ = 0;
};

// One keyword of a command. Tokens sharing a slot exclude each other
// (e.g. "xdp" and "tc" both set the hook).
struct Keyword {
  std::string_view token;
  std::string_view slot;
  bool has_value;
};
// slot -> value; flags store their own token as the value.
using Found = std::map<std::string_view, std::string>;

Found parse_keywords(Tokens& t, std::span<const Keyword> table) {
  Found found;
  while (!t.done()) {
    const std::string& tok = t.next();
    auto kw = std::find_if(table.begin(), table.end(), [&](const Keyword& k) { return k.token == tok; });
    if (kw == table.end()) throw Error("unknown keyword " + tok);
    std::string value = kw->has_value ? t.value(tok) : tok;
    if (!found.emplace(kw->slot, value).second) throw Error("duplicate keyword " + tok);
  }
  return found;
}

const std::string* get(const Found& f, std::string_view slot) {
  auto it = f.find(slot);
  return it == f.end() ? nullptr : &it->second;
}

// The kernel's dev_valid_name(): no lookup here, only the syntax.
// The kernel's dev_valid_name(): no '/', ':' or white space (its isspace()
// also counts \v \f \r and Latin-1 NBSP 0xa0).
const std::string& check_dev(const std::string& dev) {
  if (dev.empty() || dev.size() >= IFNAMSIZ || dev == "." || dev == ".." ||
      dev.find_first_of("/: \t\n\v\f\r\xa0") != std::string::npos)
    throw Error("invalid device name " + dev);
  return dev;
}

// Routing table: a number 1..2^32-1 or one of the names iproute2 knows.
uint32_t parse_table(const std::string& text) {
  static const std::map<std::string_view, uint32_t> names = {
      {"default", 253}, {"main", 254}, {"local", 255}};
  if (auto it = names.find(text); it != names.end()) return it->second;
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size())
    throw Error("invalid table " + text);
  if (ec == std::errc::result_out_of_range || id == 0 || id > UINT32_MAX)
    throw Error("table " + text + " out of range (1..4294967295)");
  return static_cast<uint32_t>(id);
}

// "SID,SID,..." in travel order.
std::vector<Addr6> parse_segs(const std::string& text) {
  if (text.empty()) throw Error("empty segs");
  std::vector<Addr6> segs;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view one = std::string_view(text).substr(start, comma - start);
    if (one.empty()) throw Error("empty SID in segs " + text);
    segs.push_back(parse_addr6(one));
    if (comma == std::string::npos) return segs;
    start = comma + 1;
  }
}

Action parse_attach(Tokens& t) {
  static constexpr Keyword table[] = {
      {"xdp", "hook", false}, {"tc", "hook", false}, {"mode", "mode", true}, {"egress", "egress", true}};
  Attach a;
  a.dev = check_dev(t.positional("DEV"));
  Found f = parse_keywords(t, table);
  if (auto* hook = get(f, "hook")) a.hook = *hook == "tc" ? Hook::Tc : Hook::Xdp;
  if (a.hook == Hook::Tc)
    for (std::string_view only_xdp : {"mode", "egress"})
      if (get(f, only_xdp)) throw Error(std::string(only_xdp) + " is only valid with xdp");
  if (auto* mode = get(f, "mode")) {
    if (*mode == "native") a.mode = XdpMode::Native;
    else if (*mode == "generic") a.mode = XdpMode::Generic;
    else throw Error("unknown mode " + *mode + " (native|generic)");
  }
  if (auto* egress = get(f, "egress")) {
    if (*egress == "skb") a.xdp_egress = false;
    else if (*egress != "xdp") throw Error("unknown egress " + *egress + " (xdp|skb)");
  }
  return a;
}

Action parse_detach(Tokens& t) {
  Detach d{check_dev(t.positional("DEV"))};
  t.expect_end();
  return d;
}

Action parse_sid_add(Tokens& t) {
  static constexpr Keyword table[] = {{"action", "action", true}, {"nh6", "nh6", true},
                                      {"oif", "oif", true},       {"table", "table", true},
                                      {"count", "count", false}};
  SidAdd s;
  s.config.sid = parse_prefix6(t.positional("SID"));
  Found f = parse_keywords(t, table);
  auto* action = get(f, "action");
  if (!action) throw Error("missing action (End|End.X|End.T)");
  auto a = action_from_name(*action);
  if (!a) throw Error("unknown action " + *action);
  s.config.action = *a;
  if (auto* nh6 = get(f, "nh6")) s.config.nh6 = parse_addr6(*nh6);
  if (auto* oif = get(f, "oif")) {
    s.config.oif_name = check_dev(*oif);
  }
  if (auto* tbl = get(f, "table")) s.config.table = parse_table(*tbl);
  s.count = get(f, "count") != nullptr;
  // Which attributes each action needs or refuses is validate()'s rule.
  validate(s.config);
  return s;
}

Action parse_sid_del(Tokens& t) {
  SidDel d{parse_prefix6(t.positional("SID"))};
  t.expect_end();
  return d;
}

Action parse_sid_show(Tokens& t) {
  SidShow s;
  if (!t.done()) s.sid = parse_prefix6(t.next());
  t.expect_end();
  return s;
}

Action parse_policy_add(Tokens& t) {
  static constexpr Keyword table[] = {{"segs", "segs", true}, {"src", "src", true}};
  PolicyAdd p;
  p.config.prefix = parse_prefix(t.positional("PREFIX"));
  const std::string& mode = t.positional("mode (encap|encap.red)");
  auto m = encap_mode_from_name(mode);
  if (!m) throw Error("unknown mode " + mode + " (encap|encap.red)");
  p.config.mode = *m;
  Found f = parse_keywords(t, table);
  auto* segs = get(f, "segs");
  if (!segs) throw Error("missing segs");
  p.config.segs = parse_segs(*segs);
  if (auto* src = get(f, "src")) p.config.src = parse_addr6(*src);
  validate(p.config);
  return p;
}

Action parse_policy_del(Tokens& t) {
  PolicyDel d{parse_prefix(t.positional("PREFIX"))};
  t.expect_end();
  return d;
}

Action parse_policy_show(Tokens& t) {
  t.expect_end();
  return PolicyShow{};
}

Action parse_stats(Tokens& t) {
  Stats s;
  if (!t.done()) {
    if (t.peek() != "reset") throw Error("unexpected argument " + t.peek());
    t.next();
    s.reset = true;
  }
  t.expect_end();
  return s;
}

Action parse_help(Tokens&) { return Help{}; }

using Parser = Action (*)(Tokens&);
struct Sub {
  std::string_view name;
  Parser parse;
};

constexpr Sub sid_subs[] = {{"add", parse_sid_add},   {"del", parse_sid_del},  {"delete", parse_sid_del},
                            {"show", parse_sid_show}, {"list", parse_sid_show}, {"help", parse_help}};
constexpr Sub policy_subs[] = {{"add", parse_policy_add},   {"del", parse_policy_del},
                               {"delete", parse_policy_del}, {"show", parse_policy_show},
                               {"list", parse_policy_show},  {"help", parse_help}};

// Runs a command's parser; its errors get the command as prefix
// ("sid add: unknown action End.Q").
Action run(std::string_view ctx, Parser parse, Tokens& t) {
  try {
    return parse(t);
  } catch (const Error& e) {
    throw Error(std::string(ctx) + ": " + e.what());
  }
}

// "sid" and "policy": an object with subcommands; no subcommand = show.
Action parse_object(std::string_view object, std::span<const Sub> subs, Tokens& t) {
  std::string sub = t.done() ? "show" : t.next();
  auto it = std::find_if(subs.begin(), subs.end(), [&](const Sub& s) { return s.name == sub; });
  if (it == subs.end()) throw Error(std::string(object) + ": unknown command " + sub);
  return run(std::string(object) + " " + std::string(it->name), it->parse, t);
}

}  // namespace

Command parse(const std::vector<std::string>& args) {
  Command cmd;
  Tokens t(args);
  bool netns_given = false, instance_given = false, batch_given = false;
  // Global options: only before the command, as with ip.
  while (!t.done() && t.peek().size() > 1 && t.peek()[0] == '-') {
    const std::string& opt = t.next();
    if (opt == "-j" || opt == "-json" || opt == "--json") {
      cmd.globals.json = true;
    } else if (opt == "-s" || opt == "-stats" || opt == "--stats") {
      cmd.globals.stats = true;
    } else if (opt == "-h" || opt == "-help" || opt == "--help") {
      cmd.action = Help{};
      return cmd;
    } else if (opt == "-n" || opt == "-netns" || opt == "--netns") {
      if (netns_given) throw Error("duplicate option " + opt);
      netns_given = true;
      cmd.globals.netns = t.value(opt);
      if (cmd.globals.netns.empty()) throw Error("empty network namespace for " + opt);
    } else if (opt == "--capacity" || opt == "-capacity") {
      const std::string& n = t.value(opt);
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
      if (n.empty() || ec != std::errc() || end != n.data() + n.size() || v == 0 || v > (1u << 26))
        throw Error("invalid capacity " + n + " (1.." + std::to_string(1u << 26) + ")");
      cmd.globals.capacity = static_cast<uint32_t>(v);
    } else if (opt == "-b" || opt == "-batch" || opt == "--batch") {
      if (batch_given) throw Error("duplicate option " + opt);
      batch_given = true;
      cmd.action = Batch{t.value(opt)};
    } else if (opt == "--instance" || opt == "-instance") {
      if (instance_given) throw Error("duplicate option " + opt);
      instance_given = true;
      cmd.globals.instance = t.value(opt);
      // It becomes a directory under the pin root.
      const std::string& name = cmd.globals.instance;
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        throw Error("invalid instance name " + name);
    } else {
      throw Error("unknown option " + opt);
    }
  }
  if (batch_given) {
    if (!t.done()) throw Error("-b takes its commands from the file, not " + t.next());
    return cmd;
  }
  if (t.done()) throw Error("missing command (try: srv6ctl help)");

  const std::string& name = t.next();
  if (name == "sid") cmd.action = parse_object("sid", sid_subs, t);
  else if (name == "policy") cmd.action = parse_object("policy", policy_subs, t);
  else if (name == "attach") cmd.action = run(name, parse_attach, t);
  else if (name == "detach") cmd.action = run(name, parse_detach, t);
  else if (name == "stats") cmd.action = run(name, parse_stats, t);
  else if (name == "help") cmd.action = Help{};
  else throw Error("unknown command " + name);
  return cmd;
}

Command parse(int argc, const char* const* argv) {
  return parse(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc));
}

std::vector<BatchLine> parse_batch(const std::string& text) {
  std::vector<BatchLine> out;
  size_t line_no = 0, pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    line_no++;
    std::vector<std::string> words;
    for (size_t i = 0; i < line.size();) {
      size_t b = line.find_first_not_of(" \t\r", i);
      if (b == std::string::npos) break;
      size_t e = line.find_first_of(" \t\r", b);
      if (e == std::string::npos) e = line.size();
      words.push_back(line.substr(b, e - b));
      i = e;
    }
    if (words.empty() || words[0][0] == '#') continue;
    try {
      if (words[0][0] == '-') throw Error("options belong on the srv6ctl command line");
      Command c = parse(words);
      bool table_change = std::holds_alternative<SidAdd>(c.action) ||
                          std::holds_alternative<SidDel>(c.action) ||
                          std::holds_alternative<PolicyAdd>(c.action) ||
                          std::holds_alternative<PolicyDel>(c.action);
      if (!table_change) throw Error("only sid/policy add/del can be batched: " + words[0]);
      out.push_back({line_no, std::move(c.action)});
    } catch (const Error& e) {
      throw Error("line " + std::to_string(line_no) + ": " + e.what());
    }
  }
  return out;
}

const char* usage() {
  return "usage: srv6ctl [-j] [-s] [-n NETNS] [--instance NAME] [--capacity N] COMMAND\n"
         "       srv6ctl [-n NETNS] [--instance NAME] [--capacity N] -b FILE   (sid/policy add/del, one a line,\n"
         "                                                     applied all or nothing)\n"
         "  attach DEV [xdp|tc] [mode native|generic] [egress xdp|skb]\n"
         "  detach DEV\n"
         "  sid add SID[/LEN] action End [count]\n"
         "  sid add SID[/LEN] action End.X nh6 ADDR [oif DEV] [count]\n"
         "  sid add SID[/LEN] action End.T table ID [count]\n"
         "  sid del SID[/LEN]\n"
         "  sid show [SID[/LEN]]\n"
         "  policy add PREFIX encap|encap.red segs SID[,SID...] [src ADDR]\n"
         "  policy del PREFIX\n"
         "  policy show\n"
         "  stats [reset]\n"
         "  help\n";
}

}  // namespace srv6::cli
