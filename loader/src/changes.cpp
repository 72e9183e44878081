// Adding and deleting SIDs and policies, one at a time or as a batch that
// is applied whole or not at all. A batch is planned first against the
// tables as they are (plus the batch's own earlier changes), so a refusal
// writes nothing; the writes then go in order, undone if one fails.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <unordered_map>
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
  Planner(const Instance::Impl& impl, size_t changes) : impl_(impl) {
    writes.reserve(changes);
    overlay_.reserve(changes);
  }

  void add(size_t i, const SidConfig& c) {
    check(i, [&] { validate(c); });
    srv6_sid_key key{c.sid.len, {}};
    std::memcpy(key.addr, c.sid.addr.data(), 16);
    srv6_sid_entry e{};
    e.action = c.action;
    e.table = c.table;
    e.oif = c.oif;
    if (c.nh6) std::memcpy(e.nh6, c.nh6->data(), 16);
    if (!sid_slots_) sid_slots_.emplace(impl_, true);
    insert(i, Instance::Impl::SIDS, bytes_of(key), e, *sid_slots_, Instance::Impl::SID_STATS,
           [&] { return "SID " + format_prefix6(c.sid); });
  }

  void del(size_t i, const Prefix6& sid) {
    srv6_sid_key key{sid.len, {}};
    std::memcpy(key.addr, sid.addr.data(), 16);
    remove(i, Instance::Impl::SIDS, bytes_of(key), [&] { return "SID " + format_prefix6(sid); });
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
    insert(i, map, key, e, *policy_slots_, Instance::Impl::POL_STATS,
           [&] { return "policy " + format_prefix(c.prefix); });
  }

  void del(size_t i, const Prefix& prefix) {
    auto [map, key] = policy_key(prefix);
    remove(i, map, key, [&] { return "policy " + format_prefix(prefix); });
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

  static std::string overlay_key(int map, const Bytes& key) {
    std::string k(1, static_cast<char>(map));
    k.append(key.begin(), key.end());
    return k;
  }

  // The entry under key, as the batch so far leaves it.
  std::optional<Bytes> current(int map, const Bytes& key, size_t value_size) {
    auto it = overlay_.find(overlay_key(map, key));
    if (it != overlay_.end()) return it->second;
    Bytes v(value_size);
    if (bpf_map_lookup_elem(impl_.fd[map], key.data(), v.data())) return std::nullopt;
    return v;
  }

  // what() names the entry for a refusal (built only then: batches are big)
  template <typename Entry>
  void insert(size_t i, int map, const Bytes& key, Entry e, Slots& slots, int stats,
              const std::function<std::string()>& what) {
    if (current(map, key, sizeof e)) throw BatchError(i, what() + " exists");
    auto slot = slots.next();
    if (!slot) throw BatchError(i, what() + ": table full");
    e.stats_idx = *slot;
    writes.push_back({map, key, bytes_of(e), std::nullopt, stats, *slot});
    overlay_[overlay_key(map, key)] = bytes_of(e);
  }

  void remove(size_t i, int map, const Bytes& key, const std::function<std::string()>& what) {
    size_t value_size = map == Instance::Impl::SIDS ? sizeof(srv6_sid_entry) : sizeof(srv6_policy_entry);
    auto old = current(map, key, value_size);
    if (!old) throw BatchError(i, what() + " not found");
    writes.push_back({map, key, std::nullopt, old});
    overlay_[overlay_key(map, key)] = std::nullopt;
  }

  const Instance::Impl& impl_;
  std::unordered_map<std::string, std::optional<Bytes>> overlay_;
  std::optional<Slots> sid_slots_, policy_slots_;
};

constexpr size_t kBatch = 4096;  // entries per batch map operation

struct WriteFailed {
  size_t written;  // writes of the failing run that did go in
  int err;
};

// Writes w[begin, end): one deletion, or additions to one map. Batch map
// operations when the kernel has them for the map, else one by one.
void write_run(const Instance::Impl& impl, const std::vector<Write>& w, size_t begin, size_t end) {
  const Write& first = w[begin];
  if (!first.value) {
    if (bpf_map_delete_elem(impl.fd[first.map], first.key.data())) throw WriteFailed{0, errno};
    return;
  }
  size_t n = end - begin, ncpu = libbpf_num_possible_cpus();
  std::vector<uint32_t> slots(n);
  Bytes keys, values, zeros(n * ncpu * sizeof(srv6_counters));
  for (size_t k = begin; k < end; k++) {
    slots[k - begin] = w[k].slot;
    keys.insert(keys.end(), w[k].key.begin(), w[k].key.end());
    values.insert(values.end(), w[k].value->begin(), w[k].value->end());
  }
  // BPF_ANY: the kernel's generic batch takes no other flag, and the plan
  // has checked that none of these keys is in the map
  DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, any, .elem_flags = BPF_ANY);
  uint32_t count = n;
  if (bpf_map_update_batch(impl.fd[first.stats], slots.data(), zeros.data(), &count, &any))
    for (size_t k = 0; k < n; k++) zero_counters(impl.fd[first.stats], slots[k]);
  count = n;  // in: how many; out, on failure: how many went in
  if (!bpf_map_update_batch(impl.fd[first.map], keys.data(), values.data(), &count, &any)) return;
  count = std::min<uint32_t>(count, n);
  constexpr int kEnotsupp = 524;  // the kernel's ENOTSUPP: no batch operations
  if (count || (errno != EOPNOTSUPP && errno != kEnotsupp && errno != EINVAL))
    throw WriteFailed{count, errno};
  for (size_t k = begin; k < end; k++)  // no batch operations for this map type
    if (bpf_map_update_elem(impl.fd[first.map], w[k].key.data(), w[k].value->data(), BPF_NOEXIST))
      throw WriteFailed{k - begin, errno};
}

// Puts a table entry back as it was before w.
void undo(const Instance::Impl& impl, const Write& w) {
  if (w.old)
    bpf_map_update_elem(impl.fd[w.map], w.key.data(), w.old->data(), BPF_ANY);
  else
    bpf_map_delete_elem(impl.fd[w.map], w.key.data());
}

}  // namespace

void Instance::apply(const std::vector<Change>& changes) {
  Planner plan(*impl_, changes.size());
  for (size_t i = 0; i < changes.size(); i++) {
    std::visit([&](const auto& c) {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, AddSid>) plan.add(i, c.config);
      if constexpr (std::is_same_v<T, DelSid>) plan.del(i, c.sid);
      if constexpr (std::is_same_v<T, AddPolicy>) plan.add(i, c.config);
      if constexpr (std::is_same_v<T, DelPolicy>) plan.del(i, c.prefix);
    }, changes[i]);
  }
  // Writes go in order; runs of additions to one map go as batch map
  // operations (their counter slots zeroed first: a new entry counts from 0).
  const auto& w = plan.writes;
  size_t done = 0;
  try {
    while (done < w.size()) {
      size_t end = done + 1;
      if (w[done].value)
        while (end < w.size() && end - done < kBatch && w[end].value && w[end].map == w[done].map) end++;
      write_run(*impl_, w, done, end);
      done = end;
    }
  } catch (const WriteFailed& f) {
    for (size_t k = done + f.written; k-- > 0;) undo(*impl_, w[k]);
    throw Error("writing the tables failed, nothing changed: " + errstr(f.err));
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
