#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Control for the traffic checks: do they catch, on this machine, the failure
# class they are meant to catch?
#
#   hostA --- R --- hostB       R: our minimal XDP forwarder (xdp_fwd.bpf.o:
#                                bpf_fib_lookup, MACs, XDP_REDIRECT) on both
#                                veths; no SRv6 at all
#
# A locally sent TCP/UDP skb on veth carries CHECKSUM_PARTIAL. When native
# XDP on a veth XDP_REDIRECTs it, the veth turns the skb into an XDP frame
# and the checksum is never completed, so the receiver drops it
# (InCsumErrors). Pings do not show it (ICMP is summed in software).
#
#  1. native XDP on R: pings cross (the forwarder works), but the same
#     traffic checks as e2e.sh must FAIL: UDP (both ways, IPv6 and IPv4) and
#     TCP (IPv6 and IPv4) not delivered AND checksum errors at the receiver,
#     with the datagrams counted as redirected by the forwarder;
#  2. the same program at generic XDP: the same checks must PASS, the
#     datagrams again redirected by it.
# So the checks fail for exactly that reason and no other; the test passes
# only if both hold. (Should a kernel ever complete the checksum, step 1
# stops failing and so does this test: the failure class is then gone.)
#
# usage: control.sh XDP_FWD_OBJ     (build/tests/netns/netns_xdp_fwd.bpf.o)
set -euo pipefail

OBJ=${1:-}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
TOPO_PREFIX="srv6ctrl-$$-"
# shellcheck source=tests/netns/topology.sh
source "$HERE/topology.sh"
# shellcheck source=tests/netns/traffic.sh
source "$HERE/traffic.sh"
# Three namespaces of our own; topo_destroy removes exactly these.
HA=${TOPO_PREFIX}hostA R=${TOPO_PREFIX}R HB=${TOPO_PREFIX}hostB
TOPO_NS=("$HA" "$R" "$HB")

if [[ ! -f $OBJ ]]; then
	echo "usage: $0 XDP_FWD_OBJ" >&2
	exit 2
fi
if [[ $(id -u) != 0 ]]; then
	echo "FAIL: needs root" >&2
	exit 1
fi

TMP=$(mktemp -d)
cleanup() {
	topo_destroy   # the XDP programs go with the veths
	rm -rf "$TMP"
}
trap cleanup EXIT

for ns in "${TOPO_NS[@]}"; do
	ip netns add "$ns"
	nsx "$ns" ip link set lo up
	nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
topo_link "$HA" eth0 "$R" r-a
topo_link "$R" r-b "$HB" eth0
nsx "$HA" ip -6 addr add 2001:db8:a::1/64 dev eth0 nodad
nsx "$HA" ip addr add 10.0.1.1/24 dev eth0
nsx "$HA" ip -6 route add default via 2001:db8:a::254
nsx "$HA" ip route add default via 10.0.1.254
nsx "$HB" ip -6 addr add 2001:db8:b::1/64 dev eth0 nodad
nsx "$HB" ip addr add 10.0.2.1/24 dev eth0
nsx "$HB" ip -6 route add default via 2001:db8:b::254
nsx "$HB" ip route add default via 10.0.2.254
nsx "$R" ip -6 addr add 2001:db8:a::254/64 dev r-a nodad
nsx "$R" ip addr add 10.0.1.254/24 dev r-a
nsx "$R" ip -6 addr add 2001:db8:b::254/64 dev r-b nodad
nsx "$R" ip addr add 10.0.2.254/24 dev r-b
nsx "$R" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1

# The hosts' veths run XDP_PASS: it is what lets R redirect into them.
xdp_obj_attach "$HA" eth0 native "$OBJ" xdp_pass
xdp_obj_attach "$HB" eth0 native "$OBJ" xdp_pass

pings() { # MODE
	local rc=0 dst
	for dst in 2001:db8:b::1 10.0.2.1; do
		nsx "$HA" ping -c 3 -i 0.2 -W 2 "$dst" >/dev/null 2>&1 || rc=1
	done
	for dst in 2001:db8:a::1 10.0.1.1; do
		nsx "$HB" ping -c 3 -i 0.2 -W 2 "$dst" >/dev/null 2>&1 || rc=1
	done
	log_test $rc "$1 XDP forwarder: ping -6 and -4 both ways cross it"
}

# control_run MODE expect-fail|expect-pass udp|tcp SRC DST ADDR
control_run() {
	local mode=$1 expect=$2 kind=$3 src=$4 dst=$5 addr=$6 before after what rc=0 fwd
	what="$mode XDP: $(tr a-z A-Z <<<"$kind") $(traffic_family "$addr") $(traffic_name "$src") -> $(traffic_name "$dst")"
	# The forwarder that receives from SRC: r-a for hostA, r-b for hostB.
	fwd=r-a
	[[ $src == "$HB" ]] && fwd=r-b
	before=$(xdp_obj_count "$R" "$fwd" redirected)
	"traffic_${kind}_run" "$src" "$dst" "$addr"
	after=$(xdp_obj_count "$R" "$fwd" redirected)
	if [[ $expect == expect-fail ]]; then
		((TR_OK == 0 && TR_CSUM > 0)) || rc=1
		log_test $rc "$what: fails, checksum errors (expected)" \
			"the check did not catch it: $TR_DETAIL; checksum errors: ${TR_CSUM_DETAIL:-none}"
		((rc)) || echo "        $TR_DETAIL; $TR_CSUM_DETAIL"
	else
		((TR_OK == 1 && TR_CSUM == 0)) || rc=1
		log_test $rc "$what: delivered, no checksum errors" "$TR_DETAIL; ${TR_CSUM_DETAIL:-}"
	fi
	if [[ $kind == udp ]]; then
		# The datagrams did take the forwarder's XDP_REDIRECT.
		rc=0
		((after - before >= TRAFFIC_UDP_COUNT)) || rc=1
		log_test $rc "$what: every datagram XDP-redirected" \
			"redirected $before -> $after, $TRAFFIC_UDP_COUNT datagrams sent"
	fi
}

echo "Control: the traffic checks against a minimal native XDP forwarder on veth"
for mode in native generic; do
	for dev in r-a r-b; do
		xdp_obj_detach "$R" "$dev"
		xdp_obj_attach "$R" "$dev" "$mode" "$OBJ" xdp_fwd
	done
	expect='expect-pass'
	[[ $mode == native ]] && expect='expect-fail'
	pings "$mode"
	control_run "$mode" "$expect" udp "$HA" "$HB" 2001:db8:b::1
	control_run "$mode" "$expect" udp "$HA" "$HB" 10.0.2.1
	control_run "$mode" "$expect" udp "$HB" "$HA" 2001:db8:a::1
	control_run "$mode" "$expect" udp "$HB" "$HA" 10.0.1.1
	control_run "$mode" "$expect" tcp "$HA" "$HB" 2001:db8:b::1
	control_run "$mode" "$expect" tcp "$HA" "$HB" 10.0.2.1
done

echo
if [[ $ret == 0 ]]; then
	echo "PASS: the checks catch native XDP_REDIRECT's lost checksums here, and pass without it"
else
	echo "FAIL: $nfail check(s)"
fi
exit $ret
