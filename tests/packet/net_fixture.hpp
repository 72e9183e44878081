// A private network namespace for the packet tests: veth devices with fixed
// MACs, static neighbours and routes, so every FIB lookup of the datapath
// has a known answer. The namespace dies with the test process; the
// instance's pinned maps are removed in TearDown.
#pragma once

#include <string>

#include "builder.hpp"

namespace fixture {

// Ingress device (the ctx ifindex of every test run but those below).
inline const char* kIn = "in0";
// A second ingress, attached at native XDP: a veth, whose XDP sees the skbs
// its peer sends, so its frames may carry checksums left to offload (the
// datapath finishes them before an XDP redirect). in0 is not attached.
inline const char* kInPartial = "in1";
inline const pkt::Mac kIn1Mac = pkt::mac("02:00:00:00:06:01");
inline const pkt::Mac kIn1SenderMac = pkt::mac("02:00:00:00:06:02");
// Egress devices: name, its MAC, the next hop's MAC.
inline const pkt::Mac kOut0Mac = pkt::mac("02:00:00:00:02:01");  // main table
inline const pkt::Mac kNh0Mac = pkt::mac("02:00:00:00:02:02");
inline const pkt::Mac kOut1Mac = pkt::mac("02:00:00:00:03:01");  // table 100, End.X
inline const pkt::Mac kNh1Mac = pkt::mac("02:00:00:00:03:02");
inline const pkt::Mac kOut2Mac = pkt::mac("02:00:00:00:04:01");  // MTU 1280
inline const pkt::Mac kNh2Mac = pkt::mac("02:00:00:00:04:02");
inline const pkt::Mac kInMac = pkt::mac("02:00:00:00:01:01");
inline const pkt::Mac kSenderMac = pkt::mac("02:00:00:00:01:02");
// The router's addresses on in0 (IPv6 fd00:1::1/64, IPv4 198.18.1.1/24),
// and the way back to the test packets' inner sources (2001:db8:a::/64,
// 192.0.2.0/24): the sender on in0 (fd00:1::2 / 198.18.1.2, kSenderMac).
// Other senders: 2001:db8:c::/64 behind out3's neighbour, 2001:db8:d::/64
// behind fd00:1::3 on in0, a neighbour not resolved.
inline const char* kIn0Addr6 = "fd00:1::1";
inline const char* kIn0Addr4 = "198.18.1.1";
inline const char* kIn0Bcast4 = "198.18.1.255";

// The ways back to senders (kSetup's routes to them), as an ICMP error
// toward them leaves: the next hop's MAC and ours, our address on that
// device; resolved: false when the next hop's neighbour is not (the
// kernel's neighbour code then writes the MACs).
struct WayBack {
  const char* prefix;
  pkt::Mac dmac, smac;
  const char* src;
  bool resolved;
};
inline const WayBack kWaysBack[] = {
    {"2001:db8:a::/64", kSenderMac, kInMac, kIn0Addr6, true},
    {"192.0.2.0/24", kSenderMac, kInMac, kIn0Addr4, true},
    {"2001:db8:c::/64", pkt::mac("02:00:00:00:05:02"), pkt::mac("02:00:00:00:05:01"), "fd00:5::1", true},
    {"2001:db8:d::/64", {}, {}, kIn0Addr6, false},
};

// Shell commands that build the namespace's devices, addresses and routes.
inline const char* kSetup = R"(set -e
ip link set lo up
ip link add in0 address 02:00:00:00:01:01 type veth peer name in0p address 02:00:00:00:01:02
ip link add out0 address 02:00:00:00:02:01 type veth peer name out0p address 02:00:00:00:02:02
ip link add out1 address 02:00:00:00:03:01 type veth peer name out1p address 02:00:00:00:03:02
ip link add out2 mtu 1280 address 02:00:00:00:04:01 type veth peer name out2p mtu 1280 address 02:00:00:00:04:02
ip link add out3 address 02:00:00:00:05:01 type veth peer name out3p address 02:00:00:00:05:02
ip link add in1 address 02:00:00:00:06:01 type veth peer name in1p address 02:00:00:00:06:02
ip link add ten1 address 02:00:00:00:07:01 type veth peer name ten1p address 02:00:00:00:07:02
ip link add ten2 address 02:00:00:00:08:01 type veth peer name ten2p address 02:00:00:00:08:02
for d in in0 in0p out0 out0p out1 out1p out2 out2p out3 out3p in1 in1p ten1 ten1p ten2 ten2p; do ip link set $d up; done
sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1
ip -6 addr add fd00:1::1/64 dev in0 nodad
ip -6 addr add fd00:2::1/64 dev out0 nodad
ip -6 addr add fd00:3::1/64 dev out1 nodad
ip -6 addr add fd00:4::1/64 dev out2 nodad
ip -6 addr add fd00:5::1/64 dev out3 nodad
ip addr add 198.18.1.1/24 dev in0
ip -6 neigh add fd00:1::2 lladdr 02:00:00:00:01:02 dev in0 nud permanent
ip neigh add 198.18.1.2 lladdr 02:00:00:00:01:02 dev in0 nud permanent
ip -6 route add 2001:db8:a::/64 via fd00:1::2 dev in0
ip route add 192.0.2.0/24 via 198.18.1.2 dev in0
ip -6 route add 2001:db8:c::/64 via fd00:5::2 dev out3
ip -6 route add 2001:db8:d::/64 via fd00:1::3 dev in0
ip -6 neigh add fd00:2::2 lladdr 02:00:00:00:02:02 dev out0 nud permanent
ip -6 neigh add fd00:3::2 lladdr 02:00:00:00:03:02 dev out1 nud permanent
ip -6 neigh add fe80::2 lladdr 02:00:00:00:03:02 dev out1 nud permanent
ip -6 neigh add fd00:4::2 lladdr 02:00:00:00:04:02 dev out2 nud permanent
ip -6 neigh add fd00:5::2 lladdr 02:00:00:00:05:02 dev out3 nud permanent
ip -6 route add fc00::/16 via fd00:2::2 dev out0
ip -6 route add fc00:99::/32 via fd00:2::99 dev out0
ip -6 route add fc00:12::/32 via fd00:4::2 dev out2
ip -6 route add fc00:77::/32 via fd00:5::2 dev out3
ip -6 route add fc00::/16 via fd00:3::2 dev out1 table 100
# decapsulation (decap_cases.cpp): IPv4 next hops on out0..out2, the inner
# destinations in the main table and, overlapping, in table 100
ip addr add 198.18.2.1/24 dev out0
ip addr add 198.18.3.1/24 dev out1
ip addr add 198.18.4.1/24 dev out2
ip neigh add 198.18.2.2 lladdr 02:00:00:00:02:02 dev out0 nud permanent
ip neigh add 198.18.3.2 lladdr 02:00:00:00:03:02 dev out1 nud permanent
ip neigh add 198.18.4.2 lladdr 02:00:00:00:04:02 dev out2 nud permanent
ip route add 10.20.0.0/16 via 198.18.2.2 dev out0
ip route add 10.20.0.0/16 via 198.18.3.2 dev out1 table 100
ip route add 10.12.0.0/16 via 198.18.4.2 dev out2 table 100
ip route add blackhole 10.99.0.0/16 table 100
ip route add local 198.18.1.1 dev lo table 100
ip -6 route add 2001:db8:b::/64 via fd00:2::2 dev out0
ip -6 route add 2001:db8:b::/64 via fd00:3::2 dev out1 table 100
ip -6 route add 2001:db8:12::/64 via fd00:4::2 dev out2 table 100
ip -6 route add unreachable 2001:db8:99::/64 table 100
ip -6 route add local fd00:1::1 dev lo table 100
# the way back to the senders in table 100 (its ICMP errors), out of out1
ip -6 route add 2001:db8:a::/64 via fd00:3::2 dev out1 table 100
ip route add 192.0.2.0/24 via 198.18.3.2 dev out1 table 100
# failing routes in main (route_cases.cpp)
ip -6 route add blackhole fc00:66::/32
ip -6 route add prohibit fc00:67::/32
ip -6 route add unreachable fc00:68::/32
# the link-local prefix route comes with the carrier, asynchronously
for i in $(seq 50); do ip -6 route show dev out1 | grep -q '^fe80::/64' && break; sleep 0.1; done
ip -6 route show dev out1 | grep -q '^fe80::/64'
)";

}  // namespace fixture
