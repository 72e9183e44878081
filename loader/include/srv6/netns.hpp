// Network namespace identity and entry. Only the network namespace is
// entered (setns CLONE_NEWNET), so bpffs stays visible, unlike `ip netns exec`.
#pragma once

#include <cstdint>
#include <string>

namespace srv6 {

// Inode of the calling thread's network namespace: the instance identity.
uint64_t current_netns_inode();
// Enters /run/netns/NAME (or a path if NAME contains '/'). Throws Error.
void enter_netns(const std::string& name);

}  // namespace srv6
