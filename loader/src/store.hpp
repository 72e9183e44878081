// Where instances live and who may change them (store.cpp): the pin layout
// keyed by the network namespace's cookie, the namespace's liveness anchor,
// the clean-up of dead namespaces' pins, and the instance lock.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace srv6::detail {

// /sys/fs/bpf/srv6
extern const char* const kPinRoot;

// ns<cookie> under kPinRoot: the pins of one network namespace, with its
// anchor (a link the kernel detaches when the namespace is destroyed).
std::string ns_dir(uint64_t cookie);
// The current namespace's directory, made (with its anchor) when make is set.
std::string current_ns_dir(bool make);

enum class NsState { Alive, Gone, Unknown };  // Unknown: no anchor (an older layout)
NsState ns_state(const std::string& dir);

// Removes the pins of namespaces that no longer exist; returns how many.
// Safe at any time: nothing can reach a destroyed namespace's datapath.
size_t collect_garbage();

// An exclusive flock on a directory of pins, taken on construction. When
// someone else holds it, notice() is told who (from /proc/locks) before
// this waits.
class DirLock {
 public:
  DirLock(const std::string& dir, const std::string& what);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  // False when the directory was removed or replaced while this waited.
  bool still_there() const;

 private:
  std::string dir_;
  int fd_ = -1;
};

// Where waiting writers say what they wait for (stderr in srv6ctl; nothing
// by default).
void set_wait_notice(std::function<void(const std::string&)> f);

// The names in dir that are not hidden (no leading '.').
std::vector<std::string> entries(const std::string& dir);
// Removes a directory of pins (they unpin as they go), renaming it hidden
// first so that it disappears from view at once.
void remove_pins(const std::string& dir);

}  // namespace srv6::detail
