// Adding and deleting SIDs and policies, one at a time or as a batch that
// is applied whole or not at all. A batch is planned first against the
// tables as they are (plus the batch's own earlier changes), so a refusal
// writes nothing; the writes then go in order, undone if one fails.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "instance_impl.hpp"

namespace srv6 {

using namespace detail;

namespace {

using Bytes = std::vector<uint8_t>;

template <typename T>
Bytes bytes_of(const T& v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

// One map write of a planned batch.
struct Write {
  int map;             // Instance::Impl fd index
  Bytes key;
  std::optional<Bytes> value;  // nullopt: delete
  std::optional<Bytes> old;    // what was there (for the undo)
  int stats = -1;              // counter map of a new entry's slot
  uint32_t slot = 0;
};

// Counter slots: the lowest free ones, found with one scan of the table;
// slots freed by the batch itself are not reused before it is done.
class Slots {
 public:
  Slots(const Instance::Impl& impl, bool sids) {
    auto take = [&](int map, auto key_type) {
      using Key = decltype(key_type);
      for_each_key<Key>(impl.fd[map], [&](const Key& k) {
        if (sids) {
          srv6_sid_entry e{};
          if (!bpf_map_lookup_elem(impl.fd[map], &k, &e)) used_.insert(e.stats_idx);
        } else {
          srv6_policy_entry e{};
          if (!bpf_map_lookup_elem(impl.fd[map], &k, &e)) used_.insert(e.stats_idx);
        }
      });
    };
    if (sids) {
      take(Instance::Impl::SIDS, srv6_sid_key{});
    } else {  // IPv4 and IPv6 policies share one counter array
      take(Instance::Impl::POL4, srv6_policy4_key{});
      take(Instance::Impl::POL6, srv6_policy6_key{});
    }
    bpf_map_info info{};
    uint32_t len = sizeof info;
    int stats = impl.fd[sids ? Instance::Impl::SID_STATS : Instance::Impl::POL_STATS];
    capacity_ = bpf_obj_get_info_by_fd(stats, &info, &len) ? 0 : info.max_entries;
  }
  std::optional<uint32_t> next() {
    while (used_.count(cursor_)) cursor_++;
    if (cursor_ >= capacity_) return std::nullopt;
    used_.insert(cursor_);
    return cursor_;
  }

 private:
  std::set<uint32_t> used_;
  uint32_t cursor_ = 0, capacity_ = 0;
};

// Plans a batch: the writes it takes, or BatchError for the first change
// refused. Existence is checked against the tables overlaid with the
// batch's own earlier writes.
class Planner {
 public:
  explicit Planner(const Instance::Impl& impl) : impl_(impl) {}

  void add(size_t i, const SidConfig& c) {
    check(i, [&] { validate(c); });
    srv6_sid_key key{c.sid.len, {}};
    std::memcpy(key.addr, c.sid.addr.data(), 16);
    srv6_sid_entry e{};
    e.action = c.action;
    e.table = c.table;
    e.oif = c.oif;
    if (c.nh6) std::memcpy(e.nh6, c.nh6->data(), 16);
    std::string what = "SID " + format_prefix6(c.sid);
    if (!sid_slots_) sid_slots_.emplace(impl_, true);
    insert(i, Instance::Impl::SIDS, bytes_of(key), e, *sid_slots_, Instance::Impl::SID_STATS, what);
  }

  void del(size_t i, const Prefix6& sid) {
    srv6_sid_key key{sid.len, {}};
    std::memcpy(key.addr, sid.addr.data(), 16);
    remove(i, Instance::Impl::SIDS, bytes_of(key), "SID " + format_prefix6(sid));
  }

  void add(size_t i, const PolicyConfig& c) {
    check(i, [&] { validate(c); });
    srv6_policy_entry e{};
    e.mode = c.mode;
    if (c.src) {
      e.has_src = 1;
      std::memcpy(e.src, c.src->data(), 16);
    }
    build_srh(c, e);
    auto [map, key] = policy_key(c.prefix);
    if (!policy_slots_) policy_slots_.emplace(impl_, false);
    insert(i, map, key, e, *policy_slots_, Instance::Impl::POL_STATS, "policy " + format_prefix(c.prefix));
  }

  void del(size_t i, const Prefix& prefix) {
    auto [map, key] = policy_key(prefix);
    remove(i, map, key, "policy " + format_prefix(prefix));
  }

  std::vector<Write> writes;

 private:
  template <typename F>
  static void check(size_t i, F&& f) {
    try {
      f();
    } catch (const BatchError&) {
      throw;
    } catch (const Error& e) {
      throw BatchError(i, e.what());
    }
  }

  static std::pair<int, Bytes> policy_key(const Prefix& prefix) {
    if (auto* p4 = std::get_if<Prefix4>(&prefix)) {
      srv6_policy4_key k{p4->len, {}};
      std::memcpy(k.addr, p4->addr.data(), 4);
      return {Instance::Impl::POL4, bytes_of(k)};
    }
    auto& p6 = std::get<Prefix6>(prefix);
    srv6_policy6_key k{p6.len, {}};
    std::memcpy(k.addr, p6.addr.data(), 16);
    return {Instance::Impl::POL6, bytes_of(k)};
  }

  // The entry under key, as the batch so far leaves it.
  std::optional<Bytes> current(int map, const Bytes& key, size_t value_size) {
    auto it = overlay_.find({map, key});
    if (it != overlay_.end()) return it->second;
    Bytes v(value_size);
    if (bpf_map_lookup_elem(impl_.fd[map], key.data(), v.data())) return std::nullopt;
    return v;
  }

  template <typename Entry>
  void insert(size_t i, int map, const Bytes& key, Entry e, Slots& slots, int stats,
              const std::string& what) {
    if (current(map, key, sizeof e)) throw BatchError(i, what + " exists");
    auto slot = slots.next();
    if (!slot) throw BatchError(i, what + ": table full");
    e.stats_idx = *slot;
    writes.push_back({map, key, bytes_of(e), std::nullopt, stats, *slot});
    overlay_[{map, key}] = bytes_of(e);
  }

  void remove(size_t i, int map, const Bytes& key, const std::string& what) {
    size_t value_size = map == Instance::Impl::SIDS ? sizeof(srv6_sid_entry) : sizeof(srv6_policy_entry);
    auto old = current(map, key, value_size);
    if (!old) throw BatchError(i, what + " not found");
    writes.push_back({map, key, std::nullopt, old});
    overlay_[{map, key}] = std::nullopt;
  }

  const Instance::Impl& impl_;
  std::map<std::pair<int, Bytes>, std::optional<Bytes>> overlay_;
  std::optional<Slots> sid_slots_, policy_slots_;
};

// Puts a table entry back as it was before w.
void undo(const Instance::Impl& impl, const Write& w) {
  if (w.old)
    bpf_map_update_elem(impl.fd[w.map], w.key.data(), w.old->data(), BPF_ANY);
  else
    bpf_map_delete_elem(impl.fd[w.map], w.key.data());
}

}  // namespace

void Instance::apply(const std::vector<Change>& changes) {
  Planner plan(*impl_);
  for (size_t i = 0; i < changes.size(); i++) {
    std::visit([&](const auto& c) {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, AddSid>) plan.add(i, c.config);
      if constexpr (std::is_same_v<T, DelSid>) plan.del(i, c.sid);
      if constexpr (std::is_same_v<T, AddPolicy>) plan.add(i, c.config);
      if constexpr (std::is_same_v<T, DelPolicy>) plan.del(i, c.prefix);
    }, changes[i]);
  }
  for (size_t k = 0; k < plan.writes.size(); k++) {
    const Write& w = plan.writes[k];
    int rc;
    if (w.value) {
      zero_counters(impl_->fd[w.stats], w.slot);  // a new entry counts from 0
      rc = bpf_map_update_elem(impl_->fd[w.map], w.key.data(), w.value->data(), BPF_NOEXIST);
    } else {
      rc = bpf_map_delete_elem(impl_->fd[w.map], w.key.data());
    }
    if (rc) {
      int err = errno;
      while (k-- > 0) undo(*impl_, plan.writes[k]);
      throw Error("writing the tables failed, nothing changed: " + errstr(err));
    }
  }
}

// Single changes: a batch of one, refused with its plain message.
static void apply_one(Instance& inst, Change c) {
  try {
    inst.apply({std::move(c)});
  } catch (const BatchError& e) {
    throw Error(e.what());
  }
}

void Instance::add_sid(const SidConfig& c) { apply_one(*this, AddSid{c}); }
void Instance::del_sid(const Prefix6& sid) { apply_one(*this, DelSid{sid}); }
void Instance::add_policy(const PolicyConfig& c) { apply_one(*this, AddPolicy{c}); }
void Instance::del_policy(const Prefix& prefix) { apply_one(*this, DelPolicy{prefix}); }

}  // namespace srv6
