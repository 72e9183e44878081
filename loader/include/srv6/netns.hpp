// Network namespace identity and entry. Only the network namespace is
// entered (setns CLONE_NEWNET), so bpffs stays visible, unlike `ip netns exec`.
#pragma once

#include <cstdint>
#include <string>

namespace srv6 {

// Inode of the calling thread's network namespace (the kernel reuses these).
uint64_t current_netns_inode();
// Cookie of the calling thread's network namespace (SO_NETNS_COOKIE): never
// reused while the system runs, so it keys the instances.
uint64_t current_netns_cookie();
// Enters /run/netns/NAME (or a path if NAME contains '/'). Throws Error.
void enter_netns(const std::string& name);

}  // namespace srv6
