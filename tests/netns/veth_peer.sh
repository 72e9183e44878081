#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A veth egress whose peer drops its XDP program while traffic runs.
#
#   hostA --- R1 --- R2 --- R3 --- hostB    R1 the kernel's seg6 encap
#                                           R2 our End at native XDP, both
#                                              devices at the default egress,
#                                              srv6d running
#                                           R3 the kernel; its r3-r2 runs
#                                              XDP_PASS (xdp_fwd.bpf.o)
#
# A veth takes XDP frames only while its peer runs a native XDP program (or
# has GRO on); otherwise an XDP redirect into it is dropped silently, no
# counter anywhere. With R3's program on, R2 redirects into r2-r3 at XDP;
# when it goes, R2 must notice (the kernel's xdp-features "ndo-xmit" of the
# device) and send through the skb path, at once. Checks, counted UDP
# flows hostA -> hostB (traffic.sh):
#  1. R3's program on: every datagram arrives, R2 XDP-redirected them (no
#     skb_egress hand-off) and R3's program saw them;
#  2. IPv6: R3's program removed right before datagram 500 of 1000 (by the
#     sender itself, so the change lands mid-flow at a fixed point): every
#     datagram arrives;
#  3. IPv4: the program put back mid-flow, then removed mid-flow: every
#     datagram arrives each time.
# hostA sends with its checksum offload off, so that what is under test is
# the egress alone, not also the CHECKSUM_PARTIAL that native XDP_REDIRECT
# on veth loses (e2e.sh and control.sh are about that).
#
# usage: veth_peer.sh SRV6CTL SRV6D XDP_FWD_OBJ
set -euo pipefail

SRV6CTL=${1:-}
SRV6D=${2:-}
OBJ=${3:-}
DAEMONS=()
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
TOPO_PREFIX="srv6veth-$$-"
# shellcheck source=tests/netns/topology.sh
source "$HERE/topology.sh"
# shellcheck source=tests/netns/traffic.sh
source "$HERE/traffic.sh"

if [[ ! -x $SRV6CTL || ! -x $SRV6D || ! -f $OBJ ]]; then
	echo "usage: $0 SRV6CTL SRV6D XDP_FWD_OBJ" >&2
	exit 2
fi
if [[ $(id -u) != 0 ]]; then
	echo "FAIL: needs root" >&2
	exit 1
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

TMP=$(mktemp -d)
cleanup() {
	for pid in "${DAEMONS[@]}"; do kill "$pid" 2>/dev/null || true; done
	topo_srv6ctl_cleanup "$SRV6CTL"
	topo_destroy
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "SRv6 veth egress whose peer drops its XDP program ($SRV6CTL, R2 at native XDP)"
topo_create
topo_kernel_r1
xdp_obj_attach "$R3" r3-r2 native "$OBJ" xdp_pass
TOPO_HOOK=xdp TOPO_R2_EGRESS="" topo_srv6ctl_r2 "$SRV6CTL"
"$SRV6D" -n "$R2" >"$TMP/srv6d.log" 2>&1 &
DAEMONS+=($!)
for _ in $(seq 50); do
	grep -q watching "$TMP/srv6d.log" && break
	sleep 0.1
done
nsx "$HA" ethtool -K eth0 tx off >/dev/null

skb_egress() { "$SRV6CTL" -j -n "$R2" stats | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["reasons"]["skb_egress"])'; }
XDP_ON="ip -n $R3 link set dev r3-r2 xdpdrv obj $OBJ program xdp_pass"
XDP_OFF="ip -n $R3 link set dev r3-r2 xdpdrv off"
HALF=$((TRAFFIC_UDP_COUNT / 2))

# Warm the neighbours and the forwarding cache.
nsx "$HA" ping -6 -c 2 -i 0.2 -W 2 2001:db8:b::1 >/dev/null 2>&1 || true
nsx "$HA" ping -4 -c 2 -i 0.2 -W 2 10.0.2.1 >/dev/null 2>&1 || true

# 1. The peer runs XDP: R2 redirects at XDP.
for dst in 2001:db8:b::1 10.0.2.1; do
	seen0=$(xdp_obj_count "$R3" r3-r2 passed) skb0=$(skb_egress)
	traffic_udp "$HA" "$HB" "$dst" "[R3 XDP on]"
	seen1=$(xdp_obj_count "$R3" r3-r2 passed) skb1=$(skb_egress)
	rc=0
	((skb1 == skb0 && seen1 - seen0 >= TRAFFIC_UDP_COUNT)) || rc=1
	log_test $rc "[R3 XDP on] UDP $(traffic_family "$dst"): R2 XDP-redirected it into R3's program" \
		"R2 skb_egress $skb0 -> $skb1, R3's program saw $((seen1 - seen0))"
done

# 2. IPv6: the program goes at datagram HALF.
# shellcheck disable=SC2086 # the command's words
traffic_udp "$HA" "$HB" 2001:db8:b::1 "[R3 XDP off mid-flow]" --at "$HALF" $XDP_OFF
echo "        R2 skb_egress now $(skb_egress)"

# 3. IPv4: back mid-flow, then gone mid-flow.
# shellcheck disable=SC2086
traffic_udp "$HA" "$HB" 10.0.2.1 "[R3 XDP back mid-flow]" --at "$HALF" $XDP_ON
# shellcheck disable=SC2086
traffic_udp "$HA" "$HB" 10.0.2.1 "[R3 XDP off mid-flow]" --at "$HALF" $XDP_OFF
echo "        R2 skb_egress now $(skb_egress)"

echo
if [[ $ret == 0 ]]; then echo "PASS: all checks"; else echo "FAIL: $nfail check(s)"; fi
exit $ret
