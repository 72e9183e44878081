// Adding and deleting SIDs and policies, one at a time or as a batch that
// is applied whole or not at all. A batch is checked first against the
// tables as they are (plus the batch's own earlier changes: batch_plan.cpp),
// so a refusal writes nothing; the writes then go in order, undone from
// the batch's journal (journal.hpp) if one fails or the writer dies.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "batch_plan.hpp"
#include "instance_impl.hpp"
#include "journal.hpp"

namespace srv6 {

using namespace detail;

namespace {

using Impl = Instance::Impl;

srv6_sid_entry sid_entry(const SidConfig& c, uint32_t slot) {
  srv6_sid_entry e{};
  e.action = c.action;
  e.stats_idx = slot;
  e.table = c.table;
  e.oif = c.oif;
  if (c.nh6) std::memcpy(e.nh6, c.nh6->data(), 16);
  if (c.nh4) std::memcpy(e.nh4, c.nh4->data(), 4);
  return e;
}

srv6_policy_entry policy_entry(const PolicyConfig& c, uint32_t slot) {
  srv6_policy_entry e{};
  e.mode = c.mode;
  e.stats_idx = slot;
  if (c.src) {
    e.has_src = 1;
    std::memcpy(e.src, c.src->data(), 16);
  }
  build_srh(c, e);
  auto opt = [&](const OuterField& f, uint8_t set, uint8_t inherit, uint8_t hash) {
    if (f.kind == OuterField::Value) e.opts |= set;
    if (f.kind == OuterField::Inherit) e.opts |= inherit;
    if (f.kind == OuterField::Hash) e.opts |= hash;
  };
  opt(c.hoplimit, SRV6_POLICY_HOPLIMIT, SRV6_POLICY_HOPLIMIT_INHERIT, 0);
  opt(c.tclass, SRV6_POLICY_TCLASS, SRV6_POLICY_TCLASS_INHERIT, 0);
  opt(c.flowlabel, SRV6_POLICY_FLOWLABEL, SRV6_POLICY_FLOWLABEL_INHERIT, SRV6_POLICY_FLOWLABEL_HASH);
  e.hop_limit = static_cast<uint8_t>(c.hoplimit.value);
  e.tclass = static_cast<uint8_t>(c.tclass.value);
  e.flowlabel = c.flowlabel.value;
  return e;
}

constexpr size_t kBatch = 4096;  // entries per batch map operation

struct WriteFailed {
  size_t written;  // writes of the failing run that did go in
  int err;
};

// Writes changes [begin, end): one deletion, or additions to one map.
// Batch map operations when the kernel has them for the map, else one by one.
class Writer {
 public:
  Writer(const Impl& impl, const std::vector<Change>& changes, const Plan& plan)
      : impl_(impl), changes_(changes), plan_(plan), ncpu_(libbpf_num_possible_cpus()) {}

  void write(size_t begin, size_t end) {
    Key first = key_of(changes_[begin]);
    int map = first.map, fd = impl_.fd[map], stats = impl_.fd[stats_map(map)];
    if (!is_add(changes_[begin])) {
      if (bpf_map_delete_elem(fd, first.bytes.data())) throw WriteFailed{0, errno};
      return;
    }
    size_t n = end - begin, ksize = key_size(map), vsize = value_size(map);
    slots_.resize(n);
    keys_.resize(n * ksize);
    values_.resize(n * vsize);
    zeros_.resize(n * ncpu_ * sizeof(srv6_counters));
    for (size_t k = 0; k < n; k++) {
      const Change& c = changes_[begin + k];
      uint32_t slot = slots_[k] = plan_.aux[begin + k];
      std::memcpy(&keys_[k * ksize], key_of(c).bytes.data(), ksize);
      if (auto* a = std::get_if<AddSid>(&c)) {
        auto e = sid_entry(a->config, slot);
        std::memcpy(&values_[k * vsize], &e, vsize);
      } else {
        auto e = policy_entry(std::get<AddPolicy>(c).config, slot);
        std::memcpy(&values_[k * vsize], &e, vsize);
      }
    }
    // BPF_ANY: the kernel's generic batch takes no other flag, and the plan
    // has checked that none of these keys is in the map
    DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, any, .elem_flags = BPF_ANY);
    uint32_t count = n;
    if (bpf_map_update_batch(stats, slots_.data(), zeros_.data(), &count, &any))
      for (size_t k = 0; k < n; k++) zero_counters(stats, slots_[k]);
    count = n;  // in: how many; out, on failure: how many went in
    if (!bpf_map_update_batch(fd, keys_.data(), values_.data(), &count, &any)) return;
    count = std::min<uint32_t>(count, n);
    constexpr int kEnotsupp = 524;  // the kernel's ENOTSUPP: no batch operations
    if (count || (errno != EOPNOTSUPP && errno != kEnotsupp && errno != EINVAL))
      throw WriteFailed{count, errno};
    for (size_t k = 0; k < n; k++)  // no batch operations for this map type
      if (bpf_map_update_elem(fd, &keys_[k * ksize], &values_[k * vsize], BPF_ANY))
        throw WriteFailed{k, errno};
  }

 private:
  const Impl& impl_;
  const std::vector<Change>& changes_;
  const Plan& plan_;
  size_t ncpu_;
  std::vector<uint32_t> slots_;  // buffers of one run, reused
  std::vector<uint8_t> keys_, values_, zeros_;
};

}  // namespace

namespace {

// Signals that end a process politely wait while a batch is written, so
// that it ends after the batch; SIGKILL cannot wait, and the journal
// covers it.
class PoliteSignalsWait {
 public:
  PoliteSignalsWait() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~PoliteSignalsWait() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

}  // namespace

void Instance::apply(const std::vector<Change>& changes) {
  Locked l(*impl_);
  Plan plan = plan_batch(*impl_, changes);
  if (changes.empty()) return;
  // What each change finds: an addition, no entry; a deletion of a table
  // entry, that entry (one the batch added needs nothing: undoing the
  // addition takes it out). Put back last first, this is the tables before.
  Journal journal;
  for (size_t i = 0; i < changes.size(); i++) {
    if (is_add(changes[i])) journal.absent(key_of(changes[i]));
    else if (uint32_t old = plan.aux[i]) journal.entry(key_of(changes[i]), plan.olds[old - 1]);
  }
  PoliteSignalsWait polite;
  journal.pin(impl_->dir);
  // Writes go in order; runs of additions to one map go as batch map
  // operations (their counter slots zeroed first: a new entry counts from 0).
  Writer writer(*impl_, changes, plan);
  size_t done = 0;
  try {
    while (done < changes.size()) {
      size_t end = done + 1;
      if (is_add(changes[done])) {
        int map = key_of(changes[done]).map;
        while (end < changes.size() && end - done < kBatch && is_add(changes[end]) &&
               key_of(changes[end]).map == map)
          end++;
      }
      writer.write(done, end);
      done = end;
    }
  } catch (const WriteFailed& f) {
    size_t failed = Journal::roll_back(impl_->dir, impl_->fd);
    int err = errno;
    drop_fwd_cache(impl_->fd[Impl::FWD_CLOCK]);
    if (failed)
      throw Error("writing the tables failed (" + errstr(f.err) + "), and undoing it failed for " +
                  std::to_string(failed) + " entries (" + errstr(err) +
                  "): the tables are changed in part; the journal stays in " + impl_->dir +
                  " and the next change rolls it back");
    detail::sync_local(*impl_);
    throw Error("writing the tables failed, nothing changed: " + errstr(f.err));
  }
  Journal::commit(impl_->dir);
  sync_sysctls();  // the policies' default flow label follows the namespace's
  // cached forwarding answers say whether their destination is a SID
  drop_fwd_cache(impl_->fd[Impl::FWD_CLOCK]);
  // an entry may have taken a local address's place, or left it
  detail::sync_local(*impl_);
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
void Instance::del_policy(const Prefix& prefix, uint32_t table) { apply_one(*this, DelPolicy{prefix, table}); }

}  // namespace srv6
