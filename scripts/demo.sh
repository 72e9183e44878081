#!/bin/bash
# SRv6 fast path demo: build, then run a five-node SRv6 network in network
# namespaces with our XDP datapath on R1 and R2.
#
#   hostA --- R1 --- R2 --- R3 --- hostB
#
#   R1 (ours)   H.Encaps / H.Encaps.Red toward hostB, via R2's End fc00:2::e
#   R2 (ours)   End fc00:2::e
#   R3 (kernel) End.DX6/End.DX4 toward hostB, encap back toward hostA
#   R1 decapsulates the return traffic with End.DX6/End.DX4 (ours, and the
#   kernel's behind them). Where the kernel has no seg6/seg6local, R3 runs
#   our datapath as well.
#
# Besides pings, real traffic crosses both ways (tests/netns/traffic.sh):
# TCP with every byte checked, iperf3, and counted UDP flows, IPv6 and IPv4,
# with the receivers' checksum error counters; the demo exits 1 if any of
# it fails.
#
# Run as root from anywhere: sudo ./scripts/demo.sh
set -euo pipefail

cd "$(dirname "$0")/.."
SRV6CTL=$PWD/build/tools/srv6ctl/srv6ctl
SRV6D=$PWD/build/tools/srv6d/srv6d
DAEMONS=()
TOPO_PREFIX="srv6demo-$$-"
PY=/usr/bin/python3
source tests/netns/topology.sh
source tests/netns/traffic.sh
TRAFFIC_VERBOSE=1

if [[ -t 1 ]]; then B=$'\e[1m' N=$'\e[0m'; else B='' N=''; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
# Echo each srv6ctl command before running it.
srv6ctl() { echo "+ srv6ctl $*"; "$SRV6CTL" "$@"; }

step "Installing dependencies"
./scripts/install-deps.sh

step "Building"
cmake -S . -B build
cmake --build build -j2

TMP=$(mktemp -d)
cleanup() {
	for pid in "${DAEMONS[@]}"; do kill "$pid" 2>/dev/null || true; done
	topo_srv6ctl_cleanup "$SRV6CTL"
	topo_destroy
	rm -rf "$TMP"
}
trap cleanup EXIT

step "Creating namespaces ${TOPO_NS[*]}"
topo_create

# srv6ctl -n enters only the network namespace, so it keeps seeing bpffs
# (never run it under `ip netns exec`).
step "R1: attach, then steer hostB's prefixes into SRv6 policies"
topo_srv6ctl_r1 srv6ctl
step "R2: attach, then add the End SID"
topo_srv6ctl_r2 srv6ctl
if [[ $TOPO_SEG6 == 0 ]]; then
	step "R3: this kernel has no seg6/seg6local, so R3 runs our datapath too"
	topo_srv6ctl_r3 srv6ctl
fi
step "srv6d on ${TOPO_OURS[*]##*-}: the forwarding cache on"
for ns in "${TOPO_OURS[@]}"; do
	echo "+ srv6d -n $ns &"
	"$SRV6D" -n "$ns" &
	DAEMONS+=($!)
done
sleep 0.3

topo_flush_neigh
step "ping hostA -> hostB"
nsx "$HA" ping -6 -c 3 -i 0.2 -W 2 2001:db8:b::1
nsx "$HA" ping -4 -c 3 -i 0.2 -W 2 10.0.2.1
step "ping hostB -> hostA"
nsx "$HB" ping -6 -c 3 -i 0.2 -W 2 2001:db8:a::1
nsx "$HB" ping -4 -c 3 -i 0.2 -W 2 10.0.1.1

step "TCP (flow.py, iperf3) and UDP, hostA <-> hostB, IPv6 and IPv4"
traffic_both_ways "$HA" 2001:db8:a::1 10.0.1.1 "$HB" 2001:db8:b::1 10.0.2.1

step "srv6ctl -s -n R1 policy show"
srv6ctl -s -n "$R1" policy show
step "srv6ctl -s -n R2 sid show"
srv6ctl -s -n "$R2" sid show
step "srv6ctl -n R1 stats"
srv6ctl -n "$R1" stats

if [[ $ret == 0 ]]; then
	step "Done: all traffic delivered; removing the namespaces"
else
	step "Done: $nfail traffic check(s) FAILED (above); removing the namespaces"
fi
exit "$ret"
