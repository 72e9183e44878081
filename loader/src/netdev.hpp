// What the kernel says of a device, for the datapath's ports map: its
// driver (ethtool), and whether it takes XDP frames (netdev xdp-features,
// over generic netlink).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace srv6::detail {

// "veth", "tun", "mlx5_core", ...; empty when the device has no ethtool driver info.
std::string driver_of(const std::string& dev);

// The netdev generic-netlink family: its id and its "mgmt" multicast group.
struct NetdevFamily {
  uint16_t id = 0;
  uint32_t mgmt_group = 0;
};
// nullopt on a kernel without it (before 6.3).
std::optional<NetdevFamily> netdev_family();

// The device's xdp-features (enum netdev_xdp_act); nullopt when the kernel
// does not say.
std::optional<uint64_t> xdp_features(uint32_t ifindex);
// Whether the device takes XDP frames (xdp-features has NDO_XMIT); false
// when the kernel does not say.
bool takes_xdp_frames(uint32_t ifindex);

}  // namespace srv6::detail
