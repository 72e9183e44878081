// Checking a batch: the changes and the tables' keys sorted together, so
// one walk per key finds each conflict, then the changes in order for the
// first refusal. Batches run to a million SIDs and memory is what costs most
// (every new page is a fault), so little is kept per change. A table the
// batch adds to is read whole anyway, for its free counter slots; its keys
// then answer every existence check without a lookup per change.
#include "batch_plan.hpp"

#include <bpf/bpf.h>

#include <algorithm>
#include <optional>

namespace srv6::detail {
namespace {

using Impl = Instance::Impl;

// "SID fc00::1/128", "policy 10.0.0.0/8": for refusals only.
std::string name_of(const Change& c) {
  if (auto* a = std::get_if<AddSid>(&c)) return "SID " + format_prefix6(a->config.sid);
  if (auto* d = std::get_if<DelSid>(&c)) return "SID " + format_prefix6(d->sid);
  auto in = [](uint32_t table) {
    return table == SRV6_TABLE_MAIN ? std::string() : " table " + format_table(table);
  };
  if (auto* a = std::get_if<AddPolicy>(&c)) return "policy " + format_prefix(a->config.prefix) + in(a->config.table);
  auto& d = std::get<DelPolicy>(c);
  return "policy " + format_prefix(d.prefix) + in(d.table);
}


// Counter slots: the lowest free ones; slots freed by the batch itself are
// not reused before it is done.
class Slots {
 public:
  explicit Slots(uint32_t capacity) : used_(capacity) {}
  void use(uint32_t slot) {
    if (slot < used_.size()) used_[slot] = true;
  }
  std::optional<uint32_t> next() {
    while (cursor_ < used_.size() && used_[cursor_]) cursor_++;
    if (cursor_ >= used_.size()) return std::nullopt;
    used_[cursor_] = true;
    return cursor_;
  }

 private:
  std::vector<bool> used_;
  uint32_t cursor_ = 0;
};

// Checks a batch as if applied change by change: throws BatchError for the
// first change refused (invalid, present already, missing, no free slot).
class Planner {
 public:
  Planner(const Impl& impl, const std::vector<Change>& changes) : impl_(impl), changes_(changes) {}

  Plan plan() {
    Plan p;
    p.aux.resize(changes_.size());
    bool sids = false, policies = false;
    items_.reserve(changes_.size());
    for (size_t i = 0; i < changes_.size(); i++) {
      items_.push_back({key_of(changes_[i]), static_cast<uint32_t>(i + 1)});
      sids = sids || std::holds_alternative<AddSid>(changes_[i]);
      policies = policies || std::holds_alternative<AddPolicy>(changes_[i]);
    }
    // A table that gets entries is read whole, for its free counter slots
    // (IPv4 and IPv6 policies share one counter array).
    std::optional<Slots> sid_slots, policy_slots;
    if (sids) {
      sid_slots.emplace(max_entries(impl_.fd[Impl::SID_STATS]));
      read_table<srv6_sid_key, srv6_sid_entry>(Impl::SIDS, *sid_slots);
    }
    if (policies) {
      policy_slots.emplace(max_entries(impl_.fd[Impl::POL_STATS]));
      read_table<srv6_policy4_key, srv6_policy_entry>(Impl::POL4, *policy_slots);
      read_table<srv6_policy6_key, srv6_policy_entry>(Impl::POL6, *policy_slots);
    }
    find_conflict(p);
    // In order, as the changes would go one by one: the first refusal wins.
    for (size_t i = 0; i < changes_.size(); i++) {
      const Change& c = changes_[i];
      try {
        if (auto* a = std::get_if<AddSid>(&c)) validate(a->config);
        if (auto* a = std::get_if<AddPolicy>(&c)) validate(a->config);
      } catch (const Error& e) {
        throw BatchError(i, e.what());
      }
      if (conflict_ && conflict_->index == i)
        throw BatchError(i, name_of(c) + (conflict_->exists ? " exists" : " not found"));
      if (!is_add(c)) continue;
      auto slot = (std::holds_alternative<AddSid>(c) ? sid_slots : policy_slots)->next();
      if (!slot) throw BatchError(i, name_of(c) + ": table full");
      p.aux[i] = *slot;
    }
    return p;
  }

 private:
  // A change (order = its index + 1) or an entry in a table (order 0,
  // before every change) under key.
  struct Item {
    Key key;
    uint32_t order;
    auto operator<=>(const Item&) const = default;
  };
  struct Conflict {
    size_t index;
    bool exists;  // else: not found
  };

  // Every key of a table, its counter slot marked used.
  template <typename K, typename E>
  void read_table(int map, Slots& slots) {
    for_each_key<K>(impl_.fd[map], [&](const K& k) {
      E e{};
      // deleted meanwhile, or a local address's own entry (local.cpp): absent
      // for the operator, whose entry may take its place
      if (bpf_map_lookup_elem(impl_.fd[map], &k, &e) || is_local_entry(e)) return;
      slots.use(e.stats_idx);
      items_.push_back({key_of(map, k), 0});
    });
    whole_[map] = true;
  }

  // The entry under exactly this key in its table, into old; false when
  // there is none. A lookup in an LPM trie is a longest-prefix match
  // (fc00::1/128 finds fc00::/64), so it only reads the value: whether the
  // key itself is there is bpf_map_get_next_key's answer, which gives the
  // first key for a key not in the map, and ENOENT after the last one.
  bool lookup(const Key& key, Old& old) {
    int fd = impl_.fd[key.map];
    auto& first = first_[key.map];
    if (!first) {
      first.emplace();
      first->empty = bpf_map_get_next_key(fd, nullptr, first->key.data()) != 0;
    }
    if (first->empty) return false;
    Key next;
    if (bpf_map_get_next_key(fd, key.bytes.data(), next.bytes.data())) {
      if (errno != ENOENT) throw Error("cannot read the tables: " + errstr(errno));
    } else if (std::memcmp(next.bytes.data(), first->key.data(), key_size(key.map)) == 0) {
      return false;
    }
    if (key.map == Impl::SIDS) old.emplace<srv6_sid_entry>();
    else old.emplace<srv6_policy_entry>();
    if (bpf_map_lookup_elem(fd, key.bytes.data(), const_cast<void*>(value_of(old)))) return false;
    return !std::visit([](const auto& e) { return is_local_entry(e); }, old);
  }

  // Walks each key's changes in batch order from the table's state: the
  // first change that adds a present key or deletes a missing one is the
  // conflict. Deletions of table entries get the entry, for the undo.
  void find_conflict(Plan& p) {
    std::sort(items_.begin(), items_.end());
    for (size_t g = 0, h; g < items_.size(); g = h) {
      const Key& key = items_[g].key;
      for (h = g + 1; h < items_.size() && items_[h].key == key;) h++;
      size_t k = g;
      Old old;
      bool read = items_[k].order == 0;  // the key came with its table
      if (read) k++;
      if (k == h) continue;  // no change under this key
      // present: as the batch so far leaves it; table: the table's own entry
      bool has_old = false, present = read;
      if (!read && !whole_[key.map]) present = has_old = lookup(key, old);
      for (bool table = present; k < h; k++, table = false) {
        size_t i = items_[k].order - 1;
        bool add = is_add(changes_[i]);
        // Deleting the table's own entry: read it for the undo (a table
        // read whole gave only its keys).
        if (!add && table && !has_old) present = has_old = lookup(key, old);
        if (add == present) {
          if (!conflict_ || i < conflict_->index) conflict_ = Conflict{i, add};
          break;  // refused: what follows under this key does not matter
        }
        if (table) {
          p.olds.push_back(old);
          p.aux[i] = p.olds.size();
        }
        present = !present;
      }
    }
    items_ = {};
  }

  const Impl& impl_;
  const std::vector<Change>& changes_;
  std::vector<Item> items_;
  bool whole_[Impl::POL6 + 1] = {};  // table read whole into items_
  std::optional<Conflict> conflict_;
  struct FirstKey {
    bool empty;
    std::array<uint8_t, sizeof(srv6_policy6_key)> key;
  };
  std::optional<FirstKey> first_[Impl::POL6 + 1];  // of each table, once asked
};

}  // namespace

Plan plan_batch(const Impl& impl, const std::vector<Change>& changes) { return Planner(impl, changes).plan(); }

}  // namespace srv6::detail
