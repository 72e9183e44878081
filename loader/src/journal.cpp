// The journal is an array map of fixed chunks holding a byte stream: a
// header (magic, record count, length), then per record the map index, a
// flag (1: an entry to put back, 0: the key was absent), the key and, with
// the flag, the entry. Kernel memory, like the tables it undoes: no file
// system needed beyond bpffs, and it goes with the instance's pins.
#include "journal.hpp"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace srv6::detail {

namespace {

constexpr uint32_t kMagic = 0x4e4a3653;  // "S6JN"
constexpr uint32_t kChunk = 4096;
struct Header {
  uint32_t magic, count;
  uint64_t length;  // of the records, after the header
};

std::string path_of(const std::string& dir) { return dir + "/journal"; }

}  // namespace

void Journal::absent(const Key& key) {
  bytes_.push_back(static_cast<uint8_t>(key.map));
  bytes_.push_back(0);
  bytes_.insert(bytes_.end(), key.bytes.begin(), key.bytes.begin() + key_size(key.map));
  count_++;
}

void Journal::entry(const Key& key, const Old& old) {
  bytes_.push_back(static_cast<uint8_t>(key.map));
  bytes_.push_back(1);
  bytes_.insert(bytes_.end(), key.bytes.begin(), key.bytes.begin() + key_size(key.map));
  auto* v = static_cast<const uint8_t*>(value_of(old));
  bytes_.insert(bytes_.end(), v, v + value_size(key.map));
  count_++;
}

void Journal::pin(const std::string& dir) const {
  std::vector<uint8_t> all(sizeof(Header));
  Header h{kMagic, count_, bytes_.size()};
  std::memcpy(all.data(), &h, sizeof h);
  all.insert(all.end(), bytes_.begin(), bytes_.end());
  all.resize((all.size() + kChunk - 1) / kChunk * kChunk);
  uint32_t chunks = all.size() / kChunk;
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "srv6_journal", 4, kChunk, chunks, nullptr);
  if (fd < 0) throw Error("cannot create the batch's journal: " + errstr(errno));
  for (uint32_t i = 0; i < chunks; i++)
    if (bpf_map_update_elem(fd, &i, &all[size_t(i) * kChunk], BPF_ANY)) {
      int err = errno;
      ::close(fd);
      throw Error("cannot write the batch's journal: " + errstr(err));
    }
  int rc = bpf_obj_pin(fd, path_of(dir).c_str());
  int err = errno;
  ::close(fd);
  if (rc) throw Error("cannot pin the batch's journal in " + dir + ": " + errstr(err));
}

bool Journal::pending(const std::string& dir) { return access(path_of(dir).c_str(), F_OK) == 0; }

void Journal::commit(const std::string& dir) {
  if (unlink(path_of(dir).c_str()) && errno != ENOENT)
    throw Error("cannot remove the batch's journal " + path_of(dir) + ": " + std::strerror(errno));
}

size_t Journal::roll_back(const std::string& dir, const int* fds) {
  int fd = bpf_obj_get(path_of(dir).c_str());
  if (fd < 0) return 0;
  std::vector<uint8_t> all;
  std::vector<uint8_t> chunk(kChunk);
  for (uint32_t i = 0; bpf_map_lookup_elem(fd, &i, chunk.data()) == 0; i++)
    all.insert(all.end(), chunk.begin(), chunk.end());
  ::close(fd);
  Header h{};
  if (all.size() < sizeof h) throw Error("the batch's journal " + path_of(dir) + " is unreadable");
  std::memcpy(&h, all.data(), sizeof h);
  if (h.magic != kMagic || h.length > all.size() - sizeof h)
    throw Error("the batch's journal " + path_of(dir) + " is not one this version wrote");
  // the records' offsets first: they are replayed last to first
  std::vector<size_t> at;
  at.reserve(h.count);
  size_t p = sizeof h, end = sizeof h + h.length;
  while (p + 2 <= end) {
    int map = all[p];
    if (map > Instance::Impl::POL6) throw Error("the batch's journal " + path_of(dir) + " is corrupt");
    at.push_back(p);
    p += 2 + key_size(map) + (all[p + 1] ? value_size(map) : 0);
  }
  size_t failed = 0;
  for (size_t k = at.size(); k-- > 0;) {
    const uint8_t* r = &all[at[k]];
    int map = r[0];
    const uint8_t* key = r + 2;
    int rc = r[1] ? bpf_map_update_elem(fds[map], key, key + key_size(map), BPF_ANY)
                  : bpf_map_delete_elem(fds[map], key);
    if (rc && !(r[1] == 0 && errno == ENOENT)) failed++;
  }
  if (!failed) commit(dir);
  return failed;
}

}  // namespace srv6::detail
