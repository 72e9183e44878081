// The pin layout: /sys/fs/bpf/srv6/ns<netns cookie>/<instance>/. The kernel
// reuses namespace inodes, never cookies, so a new namespace never finds a
// dead one's tables. Each namespace directory holds an anchor: a link of
// bpf/anchor.bpf.c attached to the namespace, which the kernel detaches
// when the namespace is destroyed (its link info then names no namespace).
// That is how collect_garbage knows a directory's namespace is gone.
#include "store.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "instance_impl.hpp"
#include "srv6/netns.hpp"
#include "srv6_anchor.skel.h"

namespace srv6::detail {

const char* const kPinRoot = "/sys/fs/bpf/srv6";

namespace {

std::function<void(const std::string&)>& wait_notice() {
  static std::function<void(const std::string&)> f;
  return f;
}

// "pid 123 (srv6ctl -b big.txt)" for the holder of a flock on this inode.
std::string lock_holder(const struct stat& st) {
  char id[64];
  snprintf(id, sizeof id, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
           static_cast<unsigned long long>(st.st_ino));
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream in(line);
    std::string n, kind, adv, mode, pid, dev;
    in >> n >> kind;
    if (kind == "->") continue;  // a waiter, not the holder
    in >> adv >> mode >> pid >> dev;
    if (kind != "FLOCK" || dev != id) continue;
    std::ifstream cmd("/proc/" + pid + "/cmdline");
    std::string args((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
    while (!args.empty() && args.back() == '\0') args.pop_back();
    for (char& c : args)
      if (c == '\0') c = ' ';
    return "pid " + pid + (args.empty() ? "" : " (" + args + ")");
  }
  return "another process";
}

// Pins the anchor at path, attached to the current namespace. Another
// process may have pinned one meanwhile: that one does as well.
void pin_anchor(const std::string& path) {
  srv6_anchor* skel = srv6_anchor__open_and_load();
  if (!skel) throw Error("cannot load the namespace anchor: " + errstr(errno));
  int ns = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  bpf_link* link = ns < 0 ? nullptr : bpf_program__attach_netns(skel->progs.srv6_anchor, ns);
  int err = link ? 0 : errno;
  if (ns >= 0) ::close(ns);
  if (link && bpf_link__pin(link, path.c_str()) && errno != EEXIST) err = errno;
  if (link) bpf_link__destroy(link);  // the pin keeps it
  srv6_anchor__destroy(skel);
  if (err) throw Error("cannot pin the namespace anchor " + path + ": " + errstr(err));
}

}  // namespace

std::string ns_dir(uint64_t cookie) { return std::string(kPinRoot) + "/ns" + std::to_string(cookie); }

std::string current_ns_dir(bool make) {
  std::string dir = ns_dir(current_netns_cookie());
  if (!make) return dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir + ": " + ec.message());
  if (access((dir + "/anchor").c_str(), F_OK) != 0) pin_anchor(dir + "/anchor");
  return dir;
}

NsState ns_state(const std::string& dir) {
  int fd = bpf_obj_get((dir + "/anchor").c_str());
  if (fd < 0) return NsState::Unknown;
  bpf_link_info info{};
  uint32_t len = sizeof info;
  int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
  ::close(fd);
  if (rc) return NsState::Unknown;
  return info.netns.netns_ino ? NsState::Alive : NsState::Gone;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string n = e.path().filename();
    if (!n.empty() && n.find('~') == std::string::npos) out.push_back(n);  // not staging/deleted
  }
  std::sort(out.begin(), out.end());
  return out;
}

void remove_pins(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path p(dir);
  // bpffs refuses names with a dot; '~' is in no instance or namespace name
  fs::path hidden = p.parent_path() / ("del~" + p.filename().string() + "~" + std::to_string(getpid()));
  std::error_code ec;
  fs::rename(p, hidden, ec);
  if (ec) {
    if (!fs::exists(p)) return;  // someone else removed it
    hidden = p;
  }
  fs::remove_all(hidden, ec);
  if (ec) throw Error("cannot remove " + dir + ": " + ec.message());
}

size_t collect_garbage() {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kPinRoot, ec)) {
    std::string name = e.path().filename();
    if (name.rfind("ns", 0) != 0 || ns_state(e.path()) != NsState::Gone) continue;
    try {
      remove_pins(e.path());
      n++;
    } catch (const Error&) {
      // another process is removing it
    }
  }
  // what a crashed remover left half done, of a namespace or of an instance
  auto sweep = [](const std::filesystem::path& dir) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      std::string name = e.path().filename();
      auto at = name.rfind('~');
      if (name.rfind("del~", 0) != 0 || at == 3) continue;
      if (access(("/proc/" + name.substr(at + 1)).c_str(), F_OK) == 0) continue;
      std::error_code ignored;
      std::filesystem::remove_all(e.path(), ignored);
    }
  };
  sweep(kPinRoot);
  for (const auto& e : std::filesystem::directory_iterator(kPinRoot, ec))
    if (e.path().filename().string().rfind("ns", 0) == 0) sweep(e.path());
  return n;
}

void set_wait_notice(std::function<void(const std::string&)> f) { wait_notice() = std::move(f); }

DirLock::DirLock(const std::string& dir, const std::string& what) : dir_(dir) {
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw Error("cannot open " + dir + ": " + std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  if (errno != EWOULDBLOCK) {
    ::close(fd_);
    throw Error("cannot lock " + dir + ": " + std::strerror(errno));
  }
  struct stat st {};
  fstat(fd_, &st);
  if (wait_notice()) wait_notice()("waiting for " + what + ": " + lock_holder(st) + " is changing it");
  while (flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd_);
    throw Error("cannot lock " + dir + ": " + std::strerror(err));
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

bool DirLock::still_there() const {
  struct stat a {}, b {};
  return fstat(fd_, &a) == 0 && stat(dir_.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

}  // namespace srv6::detail
