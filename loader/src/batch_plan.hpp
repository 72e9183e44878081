// A batch of changes checked against the tables before anything is
// written (changes.cpp writes it): the first refusal, or what the writes
// need beyond the changes themselves.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <variant>
#include <vector>

#include "instance_impl.hpp"

namespace srv6::detail {

// A key of one of the three tries, with its map. Sized for the largest (the
// IPv6 policy key); the others use the front.
struct Key {
  int map = 0;
  std::array<uint8_t, sizeof(srv6_policy6_key)> bytes{};
  auto operator<=>(const Key&) const = default;
};
static_assert(sizeof(srv6_sid_key) <= sizeof(srv6_policy6_key) &&
              sizeof(srv6_policy4_key) <= sizeof(srv6_policy6_key));

template <typename K>
Key key_of(int map, const K& k) {
  Key key{map};
  std::memcpy(key.bytes.data(), &k, sizeof k);
  return key;
}

inline Key sid_key(const Prefix6& sid) {
  srv6_sid_key k{sid.len, {}};
  std::memcpy(k.addr, sid.addr.data(), 16);
  return key_of(Instance::Impl::SIDS, k);
}

// A policy's key: its table, then its prefix.
inline Key policy_key(const Prefix& prefix, uint32_t table) {
  if (auto* p4 = std::get_if<Prefix4>(&prefix)) {
    srv6_policy4_key k{static_cast<__u32>(SRV6_POLICY_TABLE_BITS + p4->len), table, {}};
    std::memcpy(k.addr, p4->addr.data(), 4);
    return key_of(Instance::Impl::POL4, k);
  }
  auto& p6 = std::get<Prefix6>(prefix);
  srv6_policy6_key k{static_cast<__u32>(SRV6_POLICY_TABLE_BITS + p6.len), table, {}};
  std::memcpy(k.addr, p6.addr.data(), 16);
  return key_of(Instance::Impl::POL6, k);
}

inline Key key_of(const Change& c) {
  if (auto* a = std::get_if<AddSid>(&c)) return sid_key(a->config.sid);
  if (auto* d = std::get_if<DelSid>(&c)) return sid_key(d->sid);
  if (auto* a = std::get_if<AddPolicy>(&c)) return policy_key(a->config.prefix, a->config.table);
  auto& d = std::get<DelPolicy>(c);
  return policy_key(d.prefix, d.table);
}

inline bool is_add(const Change& c) {
  return std::holds_alternative<AddSid>(c) || std::holds_alternative<AddPolicy>(c);
}

inline size_t key_size(int map) {
  return map == Instance::Impl::POL4   ? sizeof(srv6_policy4_key)
         : map == Instance::Impl::POL6 ? sizeof(srv6_policy6_key)
                                       : sizeof(srv6_sid_key);
}
inline size_t value_size(int map) {
  return map == Instance::Impl::SIDS ? sizeof(srv6_sid_entry) : sizeof(srv6_policy_entry);
}
// The counter array of a table's entries.
inline int stats_map(int map) {
  return map == Instance::Impl::SIDS ? Instance::Impl::SID_STATS : Instance::Impl::POL_STATS;
}

// An entry a deletion takes out of a table, kept to put it back.
using Old = std::variant<srv6_sid_entry, srv6_policy_entry>;
inline const void* value_of(const Old& old) {
  return std::visit([](const auto& e) -> const void* { return &e; }, old);
}

// A checked batch.
struct Plan {
  // Per change: an addition's counter slot; for a deletion, its index in
  // olds + 1, or 0 when it deletes an entry the batch itself added.
  std::vector<uint32_t> aux;
  std::vector<Old> olds;
};

// Checks changes as if applied one by one to the tables as they are:
// throws BatchError for the first one refused (invalid, present already,
// missing, no free counter slot), and reads the entries deletions take out.
Plan plan_batch(const Instance::Impl& impl, const std::vector<Change>& changes);

}  // namespace srv6::detail
