// srv6ctl: parses the command line (parse.cpp), then runs it against the
// datapath instance of the chosen network namespace.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "batch_file.hpp"
#include "parse.hpp"
#include "srv6/netns.hpp"

namespace srv6 {
namespace {

// Ordered: keys print in insertion order ("sid" first, reasons in enum order).
using json = nlohmann::ordered_json;
using Row = std::vector<std::string>;

// Columns padded to their widest cell, two spaces apart; empty cells as "-".
void print_table(const Row& header, std::vector<Row> rows) {
  std::vector<size_t> width(header.size());
  rows.insert(rows.begin(), header);
  for (auto& row : rows)
    for (size_t i = 0; i < row.size(); i++) {
      if (row[i].empty()) row[i].push_back('-');  // not = "-": GCC 12's false -Wrestrict
      width[i] = std::max(width[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); i++) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

// The interface may be gone since the SID was added: show its index then.
std::string oif_display(uint32_t ifindex) {
  try {
    std::string name = ifname_of(ifindex);
    if (!name.empty()) return name;
  } catch (const Error&) {
  }
  return std::to_string(ifindex);
}

Row counter_cells(const Counters& c) {
  return {std::to_string(c.packets), std::to_string(c.bytes), std::to_string(c.errors)};
}
json counter_json(const Counters& c) {
  return {{"packets", c.packets}, {"bytes", c.bytes}, {"errors", c.errors}};
}
const Row counter_header = {"PACKETS", "BYTES", "ERRORS"};

std::string sid_attributes(const SidConfig& c) {
  std::string s;
  auto add = [&](const std::string& key, const std::string& value) {
    s += (s.empty() ? "" : " ") + key + " " + value;
  };
  for (const auto& a : attributes(c))
    add(std::string(a.key), a.attr == kOif ? oif_display(c.oif) : a.value);
  return s;
}

json sid_json(const SidInfo& s, bool stats) {
  json j = {{"sid", format_prefix6(s.config.sid)}, {"action", action_name(s.config.action)}};
  for (const auto& a : attributes(s.config)) {
    if (a.attr == kTable) j["table"] = s.config.table;
    else j[std::string(a.key)] = a.attr == kOif ? oif_display(s.config.oif) : a.value;
  }
  if (s.local) j["local"] = true;
  if (stats) j["stats"] = counter_json(s.counters);
  return j;
}

json policy_json(const PolicyInfo& p, bool stats) {
  json segs = json::array();
  for (const auto& s : p.config.segs) segs.push_back(format_addr6(s));
  json j = {{"prefix", format_prefix(p.config.prefix)},
            {"table", p.config.table},
            {"mode", encap_mode_name(p.config.mode)},
            {"segs", segs}};
  if (p.config.src) j["src"] = format_addr6(*p.config.src);
  for (auto [key, f] : {std::pair{"hoplimit", p.config.hoplimit}, std::pair{"tclass", p.config.tclass},
                        std::pair{"flowlabel", p.config.flowlabel}})
    if (f.kind == OuterField::Value) j[key] = f.value;
    else if (f.kind != OuterField::Default) j[key] = format_outer(f);
  if (p.local) j["local"] = true;
  if (stats) j["stats"] = counter_json(p.counters);
  return j;
}

void show_sids(const std::vector<SidInfo>& sids, bool as_json, bool stats) {
  if (as_json) {
    // Element by element, as json::array().dump() prints them: a million
    // SIDs held as one json value cost more memory than printing them.
    std::string out = "[";
    for (const auto& s : sids) {
      if (out.size() > 1) out += ',';
      out += sid_json(s, stats).dump();
    }
    std::cout << out << "]\n";
    return;
  }
  Row header = {"SID", "ACTION", "ATTRIBUTES"};
  if (stats) header.insert(header.end(), counter_header.begin(), counter_header.end());
  std::vector<Row> rows;
  for (const auto& s : sids) {
    // the kernel's local table wins: the datapath leaves this one to it
    std::string attrs = sid_attributes(s.config);
    if (s.local) attrs += std::string(attrs.empty() ? "" : " ") + "(a local address: the kernel's)";
    Row row = {format_prefix6(s.config.sid), std::string(action_name(s.config.action)), attrs};
    if (stats) {
      Row c = counter_cells(s.counters);
      row.insert(row.end(), c.begin(), c.end());
    }
    rows.push_back(row);
  }
  print_table(header, rows);
}

void show_policies(const std::vector<PolicyInfo>& policies, bool as_json, bool stats) {
  if (as_json) {
    json j = json::array();
    for (const auto& p : policies) j.push_back(policy_json(p, stats));
    std::cout << j.dump() << "\n";
    return;
  }
  Row header = {"PREFIX", "TABLE", "MODE", "SEGS", "SRC", "OUTER"};
  if (stats) header.insert(header.end(), counter_header.begin(), counter_header.end());
  std::vector<Row> rows;
  for (const auto& p : policies) {
    std::string segs;
    for (const auto& s : p.config.segs) {
      if (!segs.empty()) segs += ',';
      segs += format_addr6(s);
    }
    std::string outer;
    for (auto [key, f] : {std::pair{"hoplimit", p.config.hoplimit}, std::pair{"tclass", p.config.tclass},
                          std::pair{"flowlabel", p.config.flowlabel}})
      if (f.kind != OuterField::Default)
        outer += (outer.empty() ? "" : " ") + std::string(key) + " " + format_outer(f);
    Row row = {format_prefix(p.config.prefix), format_table(p.config.table),
               std::string(encap_mode_name(p.config.mode)), segs,
               p.config.src ? format_addr6(*p.config.src) : "", outer};
    if (stats) {
      Row c = counter_cells(p.counters);
      row.insert(row.end(), c.begin(), c.end());
    }
    rows.push_back(row);
  }
  print_table(header, rows);
}

// Attached devices and the path each takes: which hook runs, whether XDP
// redirects to it (from native XDP; generic XDP's redirects are skbs and go
// to any device), and why.
void show_ports(const std::vector<PortInfo>& ports, const std::vector<LinkTable>& tables, bool watched,
                bool as_json) {
  json out = json::array();
  std::vector<Row> rows;
  auto table_of = [&](uint32_t ifindex) {
    for (const auto& t : tables)
      if (t.ifindex == ifindex) return t.table;
    return uint32_t{SRV6_TABLE_MAIN};
  };
  for (const auto& p : ports) {
    bool xdp = p.flags & SRV6_PORT_XDP, fixed = p.flags & SRV6_PORT_TX_FIXED;
    bool takes = p.flags & SRV6_PORT_TX_XDP, partial = p.flags & SRV6_PORT_RX_PARTIAL;
    std::string mode = !xdp ? "" : (p.flags & SRV6_PORT_XDP_GENERIC) ? "generic" : "native";
    bool egress_xdp = takes && (fixed || watched);
    std::string why = fixed ? "set by the operator"
                      : !takes ? "the kernel says it takes no XDP frames"
                      : watched ? "the kernel says it takes XDP frames"
                                : "the kernel says it takes XDP frames, but srv6d is not watching";
    if (as_json) {
      json j = {{"dev", p.dev},  {"ifindex", p.ifindex},           {"hook", xdp ? "xdp" : "tc"},
                {"egress", egress_xdp ? "xdp" : "skb"},             {"egress_rule", fixed ? "fixed" : "auto"},
                {"takes_xdp_frames", takes},                        {"partial_checksums", partial}};
      if (xdp) j["mode"] = mode;
      j["table"] = table_of(p.ifindex);
      out.push_back(j);
      continue;
    }
    rows.push_back({p.dev, xdp ? "xdp " + mode : "tc", format_table(table_of(p.ifindex)),
                    egress_xdp ? "xdp" : "skb", why, partial ? "finished at XDP when left to offload" : ""});
  }
  // bound, not attached: the kernel's rules route it, no policy meets it
  for (const auto& t : tables) {
    if (std::any_of(ports.begin(), ports.end(), [&](const PortInfo& p) { return p.ifindex == t.ifindex; }))
      continue;
    if (as_json)
      out.push_back({{"dev", t.dev}, {"ifindex", t.ifindex}, {"hook", "none"}, {"table", t.table}});
    else
      rows.push_back({t.dev, "none", format_table(t.table), "", "not attached: the kernel's rules only", ""});
  }
  if (as_json) {
    std::cout << out.dump() << "\n";
    return;
  }
  print_table({"DEV", "HOOK", "TABLE", "EGRESS", "WHY", "RX CHECKSUMS"}, rows);
}

// instance list: every instance of every namespace.
void show_instances(bool as_json) {
  json out = json::array();
  std::vector<Row> rows;
  for (const auto& l : Instance::list()) {
    std::string ns = std::filesystem::path(l.dir).parent_path().filename();
    std::string where = l.here ? "this (" + ns + ")" : l.ns_alive ? ns : ns + " (gone)";
    std::string state = !l.missing.empty() ? "missing pins: " + l.missing
                        : l.journal        ? "a batch was interrupted: the next change rolls it back"
                                           : "ok";
    std::string devs;
    for (uint32_t i : l.ports) devs += (devs.empty() ? "" : ",") + (l.here ? oif_display(i) : std::to_string(i));
    if (as_json) {
      json j = {{"name", l.name}, {"dir", l.dir}, {"netns", ns}, {"this_netns", l.here},
                {"netns_alive", l.ns_alive}, {"state", state}, {"sids", l.sids},
                {"policies", l.policies}, {"devices", json::array()}};
      for (uint32_t i : l.ports) j["devices"].push_back(l.here ? json(oif_display(i)) : json(i));
      out.push_back(j);
      continue;
    }
    rows.push_back({l.name, where, std::to_string(l.sids), std::to_string(l.policies), devs, state});
  }
  if (as_json) {
    std::cout << out.dump() << "\n";
    return;
  }
  print_table({"NAME", "NETNS", "SIDS", "POLICIES", "DEVICES", "STATE"}, rows);
}

// Commands that make the instance when it does not exist yet; every other
// one needs it to exist (a reading command never makes one).
bool makes_instance(const cli::Action& a) {
  return std::holds_alternative<cli::Attach>(a) || std::holds_alternative<cli::SidAdd>(a) ||
         std::holds_alternative<cli::PolicyAdd>(a) || std::holds_alternative<cli::Batch>(a) ||
         std::holds_alternative<cli::InstanceAdd>(a) || std::holds_alternative<cli::TunsrcSet>(a) ||
         std::holds_alternative<cli::LinkSet>(a);
}

// Runs one parsed command against the instance.
struct Executor {
  Instance& inst;
  const cli::Globals& g;

  void operator()(const cli::Help&) { std::cout << cli::usage(); }
  void operator()(const cli::InstanceList&) {}
  void operator()(const cli::InstanceAdd&) {}
  void operator()(const cli::InstanceDel&) { inst.destroy(); }
  void operator()(const cli::Attach& a) { inst.attach(a.dev, a.hook, a.mode, a.egress); }
  void operator()(const cli::LinkShow&) {
    show_ports(inst.ports(), inst.link_tables(), inst.fwd_cache().watched, g.json);
  }
  void operator()(const cli::LinkSet& l) { inst.set_link_table(l.dev, l.table); }
  void operator()(const cli::Detach& d) { inst.detach(d.dev); }
  void operator()(const cli::SidAdd& s) {
    SidConfig c = s.config;
    if (!c.oif_name.empty()) c.oif = ifindex_of(c.oif_name);
    inst.add_sid(c);
  }
  void operator()(const cli::SidDel& d) { inst.del_sid(d.sid); }
  void operator()(const cli::SidShow& s) {
    std::vector<SidInfo> sids = inst.sids();
    if (s.sid) {
      std::erase_if(sids, [&](const SidInfo& i) { return !(i.config.sid == *s.sid); });
      if (sids.empty()) throw Error("sid show: no SID " + format_prefix6(*s.sid));
    }
    show_sids(sids, g.json, g.stats);
  }
  void operator()(const cli::PolicyAdd& p) { inst.add_policy(p.config); }
  void operator()(const cli::PolicyDel& d) { inst.del_policy(d.prefix, d.table); }
  void operator()(const cli::PolicyShow&) { show_policies(inst.policies(), g.json, g.stats); }
  void operator()(const cli::TunsrcSet& t) { inst.set_tunsrc(t.addr); }
  void operator()(const cli::TunsrcShow&) {
    auto a = inst.tunsrc();
    if (g.json) std::cout << json{{"tunsrc", a ? format_addr6(*a) : "::"}}.dump() << "\n";
    else std::cout << "tunsrc " << (a ? format_addr6(*a) : "::") << "\n";
  }
  void operator()(const cli::Batch& b) {
    cli::BatchFile file(b.file);
    std::string_view text = file.text();
    std::vector<Change> changes;
    std::vector<size_t> lines;
    size_t most = std::count(text.begin(), text.end(), '\n') + 1;  // one change a line at most
    changes.reserve(most);
    lines.reserve(most);
    cli::parse_batch(text, [&](size_t line, cli::Action&& action) {
      lines.push_back(line);
      if (auto* a = std::get_if<cli::SidAdd>(&action))
        changes.emplace_back(std::in_place_type<AddSid>, std::move(a->config));
      else if (auto* d = std::get_if<cli::SidDel>(&action))
        changes.emplace_back(std::in_place_type<DelSid>, d->sid);
      else if (auto* p = std::get_if<cli::PolicyAdd>(&action))
        changes.emplace_back(std::in_place_type<AddPolicy>, std::move(p->config));
      else {
        auto& d = std::get<cli::PolicyDel>(action);
        changes.emplace_back(std::in_place_type<DelPolicy>, d.prefix, d.table);
      }
    });
    // Devices are looked up once the whole file has parsed (a parse error
    // anywhere is reported first), each name once.
    std::unordered_map<std::string, uint32_t> ifindexes;
    for (size_t i = 0; i < changes.size(); i++) {
      auto* a = std::get_if<AddSid>(&changes[i]);
      if (!a || a->config.oif_name.empty()) continue;
      try {
        auto [it, fresh] = ifindexes.try_emplace(a->config.oif_name, 0);
        if (fresh) it->second = ifindex_of(a->config.oif_name);
        a->config.oif = it->second;
      } catch (const Error& e) {
        throw Error("line " + std::to_string(lines[i]) + ": " + e.what());
      }
    }
    try {
      inst.apply(changes);
    } catch (const BatchError& e) {
      throw Error("line " + std::to_string(lines[e.index]) + ": " + e.what() + " (nothing changed)");
    }
  }
  void operator()(const cli::Stats& s) {
    if (s.reset) {
      inst.reset_stats();
      return;
    }
    ReasonCounts reasons = inst.reasons();
    FwdCacheStats cache = inst.fwd_cache();
    if (g.json) {
      json j = {{"reasons", json::object()},
                {"fwd_cache", {{"on", cache.watched}, {"hits", cache.hits}, {"misses", cache.misses}}},
                {"sids", json::array()},
                {"policies", json::array()}};
      for (int r = SRV6_REASON_NONE + 1; r < SRV6_REASON__MAX; r++)
        j["reasons"][std::string(reason_name(static_cast<srv6_reason>(r)))] = reasons[r];
      for (const auto& s : inst.sids()) j["sids"].push_back(sid_json(s, true));
      for (const auto& p : inst.policies()) j["policies"].push_back(policy_json(p, true));
      std::cout << j.dump() << "\n";
      return;
    }
    std::vector<Row> rows;
    for (int r = SRV6_REASON_NONE + 1; r < SRV6_REASON__MAX; r++)
      rows.push_back({std::string(reason_name(static_cast<srv6_reason>(r))), std::to_string(reasons[r])});
    print_table({"REASON", "PACKETS"}, rows);
    // the cache is on while srv6d runs (its lease is live)
    std::cout << "\nforwarding cache: " << (cache.watched ? "on" : "off (srv6d not running)")
              << ", " << cache.hits << " hits, " << cache.misses << " misses\n\n";
    show_sids(inst.sids(), false, true);
    std::cout << "\n";
    show_policies(inst.policies(), false, true);
  }
};

}  // namespace
}  // namespace srv6

int main(int argc, char** argv) {
  using namespace srv6;
  cli::Command cmd;
  try {
    cmd = cli::parse(argc, argv);
  } catch (const Error& e) {
    std::cerr << "srv6ctl: " << e.what() << "\n";
    return 2;
  }
  if (std::holds_alternative<cli::Help>(cmd.action)) {
    std::cout << cli::usage();
    return 0;
  }
  try {
    // Enter the namespace first: the instances are keyed by its cookie.
    if (!cmd.globals.netns.empty()) enter_netns(cmd.globals.netns);
    Instance::set_wait_notice([](const std::string& m) { std::cerr << "srv6ctl: " << m << "\n"; });
    const cli::Action& a = cmd.action;
    std::string name = cmd.globals.instance;
    if (auto* add = std::get_if<cli::InstanceAdd>(&a)) {
      name = add->name;
      if (std::filesystem::exists(Instance::pin_dir_for(name)))
        throw Error("instance '" + name + "' exists (" + Instance::pin_dir_for(name) + ")");
    }
    if (auto* del = std::get_if<cli::InstanceDel>(&a)) {
      if (del->name.empty()) {  // --all: every instance of this namespace
        for (const auto& l : Instance::list())
          if (l.here) Instance::open_existing(l.name).destroy();
        return 0;
      }
      name = del->name;
    }
    if (std::holds_alternative<cli::InstanceList>(a)) {
      show_instances(cmd.globals.json);
      return 0;
    }
    if (auto* d = std::get_if<cli::Detach>(&a);
        d && !std::filesystem::exists(Instance::pin_dir_for(name))) {
      // no instance: a datapath whose instance's pins are gone may be there
      Instance::detach_orphan(d->dev);
      std::cerr << "srv6ctl: " << d->dev << ": took off a datapath whose instance's pins were gone\n";
      return 0;
    }
    Instance inst = makes_instance(a) ? Instance::open(name, {cmd.globals.capacity, cmd.globals.capacity})
                                      : Instance::open_existing(name);
    std::visit(Executor{inst, cmd.globals}, a);
  } catch (const std::exception& e) {
    std::cerr << "srv6ctl: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
