// iproute2-style keyword grammar, hand-written: a positional object (DEV,
// SID, PREFIX) followed by keywords in any order, driven by small tables.
#include "parse.hpp"

#include <net/if.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <span>
#include <string_view>

namespace srv6::cli {
namespace {

// Error texts from views: "unknown keyword " + tok, without a std::string
// per token on the way (a batch parses a million lines).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (s.append(std::string_view(parts)), ...);
  return s;
}

// Cursor over the remaining tokens.
class Tokens {
 public:
  explicit Tokens(std::span<const std::string_view> v) : v_(v) {}
  bool done() const { return i_ == v_.size(); }
  std::string_view peek() const { return v_[i_]; }
  std::string_view next() { return v_[i_++]; }
  // The next token as the value of keyword `what`.
  std::string_view value(std::string_view what) {
    if (done()) throw Error(cat("missing value for ", what));
    return next();
  }
  // The next token as a required positional argument.
  std::string_view positional(std::string_view what) {
    if (done()) throw Error(cat("missing ", what));
    return next();
  }
  void expect_end() {
    if (!done()) throw Error(cat("unexpected argument ", peek()));
  }

 private:
  std::span<const std::string_view> v_;
  size_t i_ = 0;
};

// One keyword of a command. Tokens sharing a slot exclude each other
// (e.g. "xdp" and "tc" both set the hook).
struct Keyword {
  std::string_view token;
  std::string_view slot;
  bool has_value;
};

// slot -> value of the keywords given; flags store their own token as the
// value. A fixed array: no command has more than kMaxSlots slots.
class Found {
 public:
  static constexpr size_t kMaxSlots = 8;
  bool add(std::string_view slot, std::string_view value) {
    if (get(slot)) return false;
    slots_[n_++] = {slot, value};
    return true;
  }
  const std::string_view* get(std::string_view slot) const {
    for (size_t i = 0; i < n_; i++)
      if (slots_[i].first == slot) return &slots_[i].second;
    return nullptr;
  }

 private:
  std::array<std::pair<std::string_view, std::string_view>, kMaxSlots> slots_{};
  size_t n_ = 0;
};

Found parse_keywords(Tokens& t, std::span<const Keyword> table) {
  assert(table.size() <= Found::kMaxSlots);
  Found found;
  while (!t.done()) {
    std::string_view tok = t.next();
    auto kw = std::find_if(table.begin(), table.end(), [&](const Keyword& k) { return k.token == tok; });
    if (kw == table.end()) throw Error(cat("unknown keyword ", tok));
    std::string_view value = kw->has_value ? t.value(tok) : tok;
    if (!found.add(kw->slot, value)) throw Error(cat("duplicate keyword ", tok));
  }
  return found;
}

// The kernel's dev_valid_name(): no lookup here, only the syntax: no '/',
// ':' or white space (its isspace() also counts \v \f \r and Latin-1 NBSP 0xa0).
std::string_view check_dev(std::string_view dev) {
  if (dev.empty() || dev.size() >= IFNAMSIZ || dev == "." || dev == ".." ||
      dev.find_first_of("/: \t\n\v\f\r\xa0") != std::string_view::npos)
    throw Error(cat("invalid device name ", dev));
  return dev;
}

// Routing table: a number 1..2^32-1 or one of the names iproute2 knows.
uint32_t parse_table(std::string_view text) {
  static constexpr std::pair<std::string_view, uint32_t> names[] = {
      {"default", 253}, {"main", 254}, {"local", 255}};
  for (const auto& [name, id] : names)
    if (text == name) return id;
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size())
    throw Error(cat("invalid table ", text));
  if (ec == std::errc::result_out_of_range || id == 0 || id > UINT32_MAX)
    throw Error(cat("table ", text, " out of range (1..4294967295)"));
  return static_cast<uint32_t>(id);
}

// "SID,SID,..." in travel order.
std::vector<Addr6> parse_segs(std::string_view text) {
  if (text.empty()) throw Error("empty segs");
  std::vector<Addr6> segs;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view one = text.substr(start, comma - start);
    if (one.empty()) throw Error(cat("empty SID in segs ", text));
    segs.push_back(parse_addr6(one));
    if (comma == std::string_view::npos) return segs;
    start = comma + 1;
  }
}

Action parse_attach(Tokens& t) {
  static constexpr Keyword table[] = {
      {"xdp", "hook", false}, {"tc", "hook", false}, {"mode", "mode", true}, {"egress", "egress", true}};
  Attach a;
  a.dev = check_dev(t.positional("DEV"));
  Found f = parse_keywords(t, table);
  if (auto* hook = f.get("hook")) a.hook = *hook == "tc" ? Hook::Tc : Hook::Xdp;
  if (a.hook == Hook::Tc)
    for (std::string_view only_xdp : {"mode", "egress"})
      if (f.get(only_xdp)) throw Error(cat(only_xdp, " is only valid with xdp"));
  if (auto* mode = f.get("mode")) {
    if (*mode == "native") a.mode = XdpMode::Native;
    else if (*mode == "generic") a.mode = XdpMode::Generic;
    else throw Error(cat("unknown mode ", *mode, " (native|generic)"));
  }
  if (auto* egress = f.get("egress")) {
    if (*egress == "skb") a.egress = Egress::Skb;
    else if (*egress == "xdp") a.egress = Egress::Xdp;
    else if (*egress != "auto") throw Error(cat("unknown egress ", *egress, " (auto|xdp|skb)"));
  }
  return a;
}

Action parse_detach(Tokens& t) {
  Detach d{std::string(check_dev(t.positional("DEV")))};
  t.expect_end();
  return d;
}

Action parse_sid_add(Tokens& t) {
  // every attribute of the behaviour table (srv6/config.hpp); which one a
  // behaviour needs or refuses is its row's rule, validate()'s
  static constexpr Keyword table[] = {
      {"action", "action", true}, {"nh4", "nh4", true},         {"nh6", "nh6", true},
      {"oif", "oif", true},       {"table", "table", true},     {"vrftable", "table", true},
      {"count", "count", false}};
  SidAdd s;
  s.config.sid = parse_prefix6(t.positional("SID"));
  Found f = parse_keywords(t, table);
  auto* action = f.get("action");
  if (!action) throw Error("missing action (" + action_names() + ")");
  auto a = action_from_name(*action);
  if (!a) throw Error(cat("unknown action ", *action, " (", action_names(), ")"));
  s.config.action = *a;
  if (auto* nh4 = f.get("nh4")) s.config.nh4 = parse_addr4(*nh4);
  if (auto* nh6 = f.get("nh6")) s.config.nh6 = parse_addr6(*nh6);
  if (auto* oif = f.get("oif")) s.config.oif_name = check_dev(*oif);
  if (auto* tbl = f.get("table")) s.config.table = parse_table(*tbl);
  s.count = f.get("count") != nullptr;
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

// [table ID] after a policy's prefix; main without it.
uint32_t parse_policy_table(Tokens& t) {
  if (t.done() || t.peek() != "table") return SRV6_TABLE_MAIN;
  t.next();
  return parse_table(t.positional("table ID"));
}

Action parse_policy_add(Tokens& t) {
  static constexpr Keyword table[] = {{"segs", "segs", true},         {"src", "src", true},
                                      {"hoplimit", "hoplimit", true}, {"tclass", "tclass", true},
                                      {"flowlabel", "flowlabel", true}};
  PolicyAdd p;
  p.config.prefix = parse_prefix(t.positional("PREFIX"));
  p.config.table = parse_policy_table(t);
  std::string_view mode = t.positional("mode (encap|encap.red)");
  auto m = encap_mode_from_name(mode);
  if (!m) throw Error(cat("unknown mode ", mode, " (encap|encap.red)"));
  p.config.mode = *m;
  Found f = parse_keywords(t, table);
  auto* segs = f.get("segs");
  if (!segs) throw Error("missing segs");
  p.config.segs = parse_segs(*segs);
  if (auto* src = f.get("src")) p.config.src = parse_addr6(*src);
  // N | inherit (| hash for the flow label); ranges are validate()'s
  auto field = [&](std::string_view key, bool hash) {
    OuterField o;
    auto* v = f.get(key);
    if (!v) return o;
    if (*v == "inherit") return OuterField{OuterField::Inherit, 0};
    if (hash && *v == "hash") return OuterField{OuterField::Hash, 0};
    // decimal or 0x hex, as iproute2 takes them
    std::string_view digits = *v;
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
      digits.remove_prefix(2);
      base = 16;
    }
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || n > UINT32_MAX)
      throw Error(cat("invalid ", key, " ", *v, hash ? " (N|inherit|hash)" : " (N|inherit)"));
    return OuterField{OuterField::Value, static_cast<uint32_t>(n)};
  };
  p.config.hoplimit = field("hoplimit", false);
  p.config.tclass = field("tclass", false);
  p.config.flowlabel = field("flowlabel", true);
  validate(p.config);
  return p;
}

Action parse_tunsrc_set(Tokens& t) {
  TunsrcSet s{parse_addr6(t.positional("ADDR"))};
  t.expect_end();
  return s;
}

Action parse_tunsrc_show(Tokens& t) {
  t.expect_end();
  return TunsrcShow{};
}

Action parse_policy_del(Tokens& t) {
  PolicyDel d{parse_prefix(t.positional("PREFIX"))};
  d.table = parse_policy_table(t);
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
    if (t.peek() != "reset") throw Error(cat("unexpected argument ", t.peek()));
    t.next();
    s.reset = true;
  }
  t.expect_end();
  return s;
}

Action parse_link_show(Tokens& t) {
  t.expect_end();
  return LinkShow{};
}

Action parse_link_set(Tokens& t) {
  LinkSet l{std::string(check_dev(t.positional("DEV")))};
  if (t.done() || t.peek() != "table") throw Error("needs table ID|main");
  t.next();
  l.table = parse_table(t.positional("table ID"));
  if (l.table == 255) throw Error("table local cannot take a device (main, or a table id)");
  t.expect_end();
  return l;
}

Action parse_help(Tokens&) { return Help{}; }

Action parse_instance_list(Tokens& t) {
  t.expect_end();
  return InstanceList{};
}

// The name is checked where it is used (Instance): one rule, one message.
Action parse_instance_add(Tokens& t) {
  if (t.done()) throw Error("needs a NAME");
  InstanceAdd a{std::string(t.next())};
  t.expect_end();
  return a;
}

Action parse_instance_del(Tokens& t) {
  if (t.done()) throw Error("needs a NAME, or --all");
  std::string_view n = t.next();
  t.expect_end();
  return InstanceDel{n == "--all" ? std::string() : std::string(n)};
}

using Parser = Action (*)(Tokens&);
struct Sub {
  std::string_view name;
  Parser parse;
};

constexpr Sub sid_subs[] = {{"add", parse_sid_add},   {"del", parse_sid_del},  {"delete", parse_sid_del},
                            {"show", parse_sid_show}, {"list", parse_sid_show}, {"help", parse_help}};
constexpr Sub link_subs[] = {{"show", parse_link_show}, {"list", parse_link_show}, {"set", parse_link_set},
                             {"help", parse_help}};
constexpr Sub instance_subs[] = {{"list", parse_instance_list}, {"show", parse_instance_list},
                                 {"add", parse_instance_add},   {"del", parse_instance_del},
                                 {"delete", parse_instance_del}, {"help", parse_help}};
constexpr Sub tunsrc_subs[] = {{"set", parse_tunsrc_set}, {"show", parse_tunsrc_show}, {"help", parse_help}};
constexpr Sub policy_subs[] = {{"add", parse_policy_add},   {"del", parse_policy_del},
                               {"delete", parse_policy_del}, {"show", parse_policy_show},
                               {"list", parse_policy_show},  {"help", parse_help}};

// Runs a command's parser; its errors get the command as prefix
// ("sid add: unknown action End.Q"; sub is empty for "attach" and the like).
Action run(std::string_view object, std::string_view sub, Parser parse, Tokens& t) {
  try {
    return parse(t);
  } catch (const Error& e) {
    throw Error(sub.empty() ? cat(object, ": ", e.what()) : cat(object, " ", sub, ": ", e.what()));
  }
}

// "sid", "policy", "link": an object with subcommands; no subcommand = show.
Action parse_object(std::string_view object, std::span<const Sub> subs, Tokens& t) {
  std::string_view sub = t.done() ? "show" : t.next();
  auto it = std::find_if(subs.begin(), subs.end(), [&](const Sub& s) { return s.name == sub; });
  if (it == subs.end()) throw Error(cat(object, ": unknown command ", sub));
  return run(object, it->name, it->parse, t);
}

// The command after the global options; t is not empty.
Action parse_command(Tokens& t) {
  std::string_view name = t.next();
  if (name == "sid") return parse_object("sid", sid_subs, t);
  if (name == "policy") return parse_object("policy", policy_subs, t);
  if (name == "link") return parse_object("link", link_subs, t);
  if (name == "instance") return parse_object("instance", instance_subs, t);
  if (name == "tunsrc") return parse_object("tunsrc", tunsrc_subs, t);
  if (name == "attach") return run(name, {}, parse_attach, t);
  if (name == "detach") return run(name, {}, parse_detach, t);
  if (name == "stats") return run(name, {}, parse_stats, t);
  if (name == "help") return Help{};
  throw Error(cat("unknown command ", name));
}

Command parse_words(std::span<const std::string_view> args) {
  Command cmd;
  Tokens t(args);
  bool netns_given = false, instance_given = false, batch_given = false;
  // Global options: only before the command, as with ip.
  while (!t.done() && t.peek().size() > 1 && t.peek()[0] == '-') {
    std::string_view opt = t.next();
    if (opt == "-j" || opt == "-json" || opt == "--json") {
      cmd.globals.json = true;
    } else if (opt == "-s" || opt == "-stats" || opt == "--stats") {
      cmd.globals.stats = true;
    } else if (opt == "-h" || opt == "-help" || opt == "--help") {
      cmd.action = Help{};
      return cmd;
    } else if (opt == "-n" || opt == "-netns" || opt == "--netns") {
      if (netns_given) throw Error(cat("duplicate option ", opt));
      netns_given = true;
      cmd.globals.netns = t.value(opt);
      if (cmd.globals.netns.empty()) throw Error(cat("empty network namespace for ", opt));
    } else if (opt == "--capacity" || opt == "-capacity") {
      std::string_view n = t.value(opt);
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
      if (n.empty() || ec != std::errc() || end != n.data() + n.size() || v == 0 || v > (1u << 26))
        throw Error(cat("invalid capacity ", n, " (1..", std::to_string(1u << 26), ")"));
      cmd.globals.capacity = static_cast<uint32_t>(v);
    } else if (opt == "-b" || opt == "-batch" || opt == "--batch") {
      if (batch_given) throw Error(cat("duplicate option ", opt));
      batch_given = true;
      cmd.action = Batch{std::string(t.value(opt))};
    } else if (opt == "--instance" || opt == "-instance") {
      if (instance_given) throw Error(cat("duplicate option ", opt));
      instance_given = true;
      cmd.globals.instance = t.value(opt);
      // It becomes a directory under the pin root.
      const std::string& name = cmd.globals.instance;
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        throw Error("invalid instance name " + name);
    } else {
      throw Error(cat("unknown option ", opt));
    }
  }
  if (batch_given) {
    if (!t.done()) throw Error(cat("-b takes its commands from the file, not ", t.next()));
    return cmd;
  }
  if (t.done()) throw Error("missing command (try: srv6ctl help)");
  cmd.action = parse_command(t);
  return cmd;
}

}  // namespace

Command parse(const std::vector<std::string>& args) {
  std::vector<std::string_view> words(args.begin(), args.end());
  return parse_words(words);
}

Command parse(int argc, const char* const* argv) {
  std::vector<std::string_view> words(argv + (argc > 0 ? 1 : 0), argv + argc);
  return parse_words(words);
}

void parse_batch(std::string_view text, const std::function<void(size_t line, Action&& action)>& on_line) {
  constexpr std::string_view blanks = " \t\r";
  std::vector<std::string_view> words;  // reused: no allocation per line
  size_t line_no = 0, pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    line_no++;
    words.clear();
    for (size_t i = 0; i < line.size();) {
      size_t b = line.find_first_not_of(blanks, i);
      if (b == std::string_view::npos) break;
      size_t e = std::min(line.find_first_of(blanks, b), line.size());
      words.push_back(line.substr(b, e - b));
      i = e;
    }
    if (words.empty() || words[0][0] == '#') continue;
    Action action;
    try {
      if (words[0][0] == '-') throw Error("options belong on the srv6ctl command line");
      Tokens t(words);
      action = parse_command(t);
      bool table_change = std::holds_alternative<SidAdd>(action) || std::holds_alternative<SidDel>(action) ||
                          std::holds_alternative<PolicyAdd>(action) ||
                          std::holds_alternative<PolicyDel>(action);
      if (!table_change) throw Error(cat("only sid/policy add/del can be batched: ", words[0]));
    } catch (const Error& e) {
      throw Error("line " + std::to_string(line_no) + ": " + e.what());
    }
    on_line(line_no, std::move(action));
  }
}

std::vector<BatchLine> parse_batch(std::string_view text) {
  std::vector<BatchLine> out;
  parse_batch(text, [&](size_t line, Action&& action) { out.push_back({line, std::move(action)}); });
  return out;
}

const char* usage() {
  return "usage: srv6ctl [-j] [-s] [-n NETNS] [--instance NAME] [--capacity N] COMMAND\n"
         "       srv6ctl [-n NETNS] [--instance NAME] [--capacity N] -b FILE   (sid/policy add/del, one a line,\n"
         "                                                     applied all or nothing)\n"
         "  attach DEV [xdp|tc] [mode native|generic] [egress auto|xdp|skb]\n"
         "  detach DEV\n"
         "  link show                    (attached devices, the path each takes, tables)\n"
         "  link set DEV table ID|main   (DEV's traffic meets table ID's policies only; ip rules\n"
         "                                iif DEV lookup ID, then unreachable, keep the kernel's path in it)\n"
         "  sid add SID[/LEN] action End [count]\n"
         "  sid add SID[/LEN] action End.X nh6 ADDR [oif DEV] [count]\n"
         "  sid add SID[/LEN] action End.T table ID [count]\n"
         "  sid add SID[/LEN] action End.DX4 nh4 ADDR [oif DEV] [count]   (0.0.0.0 = the inner DA)\n"
         "  sid add SID[/LEN] action End.DX6 nh6 ADDR [oif DEV] [count]   (:: = the inner DA)\n"
         "  sid add SID[/LEN] action End.DT4|End.DT6|End.DT46 table ID [count]   (vrftable ID: the same)\n"
         "  sid del SID[/LEN]\n"
         "  sid show [SID[/LEN]]\n"
         "  policy add PREFIX [table ID] encap|encap.red segs SID[,SID...] [src ADDR]\n"
         "      [hoplimit N|inherit] [tclass N|inherit] [flowlabel N|inherit|hash]\n"
         "  policy del PREFIX [table ID]\n"
         "  policy show\n"
         "  tunsrc set ADDR | tunsrc show  (the default outer source, as ip sr tunsrc; :: clears it)\n"
         "  stats [reset]\n"
         "  instance list                (every instance, in every network namespace)\n"
         "  instance add NAME            (tables sized by --capacity)\n"
         "  instance del NAME|--all      (detaches its devices, removes its tables)\n"
         "  help\n";
}

}  // namespace srv6::cli
