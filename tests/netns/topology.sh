# shellcheck shell=bash
# Shared SRv6 test topology, sourced by tests/netns/e2e.sh and scripts/demo.sh.
#
#   hostA --- R1 --- R2 --- R3 --- hostB
#
#   hostA  2001:db8:a::1/64 10.0.1.1/24      hostB  2001:db8:b::1/64 10.0.2.1/24
#   R1     a-side ::254/.254, fd00:12::1      R3     fd00:23::3, b-side ::254/.254
#   R2     fd00:12::2, fd00:23::2
#
#   SIDs   R1 fc00:1::d6 End.DX6, fc00:1::d4 End.DX4   (kernel seg6local; ours too
#                                                        where R1 runs our datapath)
#          R2 fc00:2::e  End                           (our datapath, or kernel)
#          R3 fc00:3::d6 End.DX6, fc00:3::d4 End.DX4   (kernel seg6local; ours where
#                                                        the kernel has none)
#
# Interfaces are named <self>-<peer>: R1 has r1-a (to hostA) and r1-r2.
# The caller sets TOPO_PREFIX (unique, e.g. "srv6e2e-$$-"); namespaces are
# ${TOPO_PREFIX}hostA, ...R1, ... and their names land in HA R1 R2 R3 HB.
# The hosts' prefixes are never routed in plain IP between them: hostA's
# traffic to hostB only gets there through R1's SRv6 policy, and back only
# through R3's seg6 encap route (or R3's policies on our datapath).
#
# MTU: the hosts' links have 1500, the core links (R1-R2, R2-R3)
# TOPO_CORE_MTU, 1600 unless set: room for the encapsulation of a full-size
# host packet, so that traffic does not depend on path MTU discovery (with
# equal MTUs the kernel's seg6 sends its Packet Too Big to the outer source,
# itself, and TCP black-holes). tests/netns/pmtud.sh sets 1500.

# TOPO_SEG6=1 where this kernel has seg6/seg6local (probed once; set it to
# 0 or 1 to choose). Without it, the kernel's SRv6 cannot play its part, so
# R3 runs our datapath too (End.DX6/End.DX4 and the way back's policies,
# topo_srv6ctl_r3) and R1 decapsulates only with ours.
if [[ -z ${TOPO_SEG6-} ]]; then
	if "$(dirname "${BASH_SOURCE[0]}")/../vm/has-seg6.sh" 2>/dev/null; then TOPO_SEG6=1; else TOPO_SEG6=0; fi
fi

HA=${TOPO_PREFIX}hostA R1=${TOPO_PREFIX}R1 R2=${TOPO_PREFIX}R2 R3=${TOPO_PREFIX}R3 HB=${TOPO_PREFIX}hostB
TOPO_NS=("$HA" "$R1" "$R2" "$R3" "$HB")
TOPO_ROUTERS=("$R1" "$R2" "$R3")

# The SIDs and policies shared by the datapath and the kernel baseline.
R2_END=fc00:2::e
V6_SEGS=fc00:2::e,fc00:3::d6     # hostA -> hostB, H.Encaps
V4_SEGS=fc00:2::e,fc00:3::d4     # hostA -> hostB, H.Encaps.Red
R1_TUNSRC=fd00:12::1

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# veth pair between two namespaces: link NS1 IF1 NS2 IF2
topo_link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	nsx "$1" ip link set "$2" up
	nsx "$3" ip link set "$4" up
}

topo_destroy() {
	local ns
	for ns in "${TOPO_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

topo_create() {
	local ns dev
	for ns in "${TOPO_NS[@]}"; do
		ip netns add "$ns"
		nsx "$ns" ip link set lo up
		# Addresses must be usable at once: no DAD delay.
		nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	topo_link "$HA" eth0 "$R1" r1-a
	topo_link "$R1" r1-r2 "$R2" r2-r1
	topo_link "$R2" r2-r3 "$R3" r3-r2
	nsx "$R1" ip link set r1-r2 mtu "${TOPO_CORE_MTU:-1600}"
	nsx "$R2" ip link set r2-r1 mtu "${TOPO_CORE_MTU:-1600}"
	nsx "$R2" ip link set r2-r3 mtu "${TOPO_CORE_MTU:-1600}"
	nsx "$R3" ip link set r3-r2 mtu "${TOPO_CORE_MTU:-1600}"
	topo_link "$R3" r3-b "$HB" eth0

	nsx "$HA" ip -6 addr add 2001:db8:a::1/64 dev eth0 nodad
	nsx "$HA" ip addr add 10.0.1.1/24 dev eth0
	nsx "$HA" ip -6 route add default via 2001:db8:a::254
	nsx "$HA" ip route add default via 10.0.1.254

	nsx "$HB" ip -6 addr add 2001:db8:b::1/64 dev eth0 nodad
	nsx "$HB" ip addr add 10.0.2.1/24 dev eth0
	nsx "$HB" ip -6 route add default via 2001:db8:b::254
	nsx "$HB" ip route add default via 10.0.2.254

	nsx "$R1" ip -6 addr add 2001:db8:a::254/64 dev r1-a nodad
	nsx "$R1" ip addr add 10.0.1.254/24 dev r1-a
	nsx "$R1" ip -6 addr add fd00:12::1/64 dev r1-r2 nodad
	nsx "$R2" ip -6 addr add fd00:12::2/64 dev r2-r1 nodad
	nsx "$R2" ip -6 addr add fd00:23::2/64 dev r2-r3 nodad
	nsx "$R3" ip -6 addr add fd00:23::3/64 dev r3-r2 nodad
	nsx "$R3" ip -6 addr add 2001:db8:b::254/64 dev r3-b nodad
	nsx "$R3" ip addr add 10.0.2.254/24 dev r3-b

	# Routers forward, accept SRHs (needs "all" AND the interface), and
	# do not drop decapsulated IPv4 on reverse-path checks.
	for ns in "${TOPO_ROUTERS[@]}"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.seg6_enabled=1 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0
		for dev in $(nsx "$ns" ls /sys/class/net); do
			nsx "$ns" sysctl -qw "net.ipv6.conf.$dev.seg6_enabled=1" "net.ipv4.conf.$dev.rp_filter=0"
		done
	done

	# Locator routes only; the hosts' prefixes are reached through SRv6.
	nsx "$R1" ip -6 route add fc00:2::/48 via fd00:12::2
	nsx "$R2" ip -6 route add fc00:3::/48 via fd00:23::3
	nsx "$R2" ip -6 route add fc00:1::/48 via fd00:12::1
	nsx "$R3" ip -6 route add fc00:2::/48 via fd00:23::2

	[[ $TOPO_SEG6 == 1 ]] || return 0 # R3 and R1's way back: topo_srv6ctl_r3, topo_srv6ctl_r1
	# R1 decapsulates the return traffic with the KERNEL's End.DX6/End.DX4
	# (our datapath passes packets it does not own to the kernel).
	nsx "$R1" ip -6 route add fc00:1::d6/128 encap seg6local action End.DX6 nh6 2001:db8:a::1 dev r1-a
	nsx "$R1" ip -6 route add fc00:1::d4/128 encap seg6local action End.DX4 nh4 10.0.1.1 dev r1-a

	# R3 is a kernel SRv6 router: decap toward hostB, encap back to hostA.
	nsx "$R3" ip -6 route add fc00:3::d6/128 encap seg6local action End.DX6 nh6 2001:db8:b::1 dev r3-b
	nsx "$R3" ip -6 route add fc00:3::d4/128 encap seg6local action End.DX4 nh4 10.0.2.1 dev r3-b
	nsx "$R3" ip sr tunsrc set fd00:23::3
	nsx "$R3" ip -6 route add 2001:db8:a::/64 encap seg6 mode encap segs fc00:2::e,fc00:1::d6 dev r3-r2
	nsx "$R3" ip route add 10.0.1.0/24 encap seg6 mode encap.red segs fc00:2::e,fc00:1::d4 dev r3-r2
}

# Kernel stand-ins for our datapath (the differential baseline).
topo_kernel_r1() {
	nsx "$R1" ip sr tunsrc set "$R1_TUNSRC"
	nsx "$R1" ip -6 route add 2001:db8:b::/64 encap seg6 mode encap segs "$V6_SEGS" dev r1-r2
	nsx "$R1" ip route add 10.0.2.0/24 encap seg6 mode encap.red segs "$V4_SEGS" dev r1-r2
}
topo_kernel_r1_del() {
	nsx "$R1" ip -6 route del 2001:db8:b::/64
	nsx "$R1" ip route del 10.0.2.0/24
}
topo_kernel_r2() {
	nsx "$R2" ip -6 route add "$R2_END/128" encap seg6local action End dev r2-r1
}

# Our datapath, configured through srv6ctl ($1). srv6ctl enters only the
# network namespace (-n), so it still sees the host's bpffs.
# TOPO_HOOK=tc runs our datapath at TC only, TOPO_HOOK=generic at generic
# XDP (default: native XDP, with TC behind it).
topo_attach() { # SRV6CTL NS DEV [egress skb]
	case ${TOPO_HOOK:-xdp} in
	tc) "$1" -n "$2" attach "$3" tc ;;
	generic) "$1" -n "$2" attach "$3" xdp mode generic "${@:4}" ;;
	*) "$1" -n "$2" attach "$3" xdp "${@:4}" ;;
	esac
}
topo_srv6ctl_r1() {
	topo_attach "$1" "$R1" r1-a egress skb   # hostA's veth has no XDP
	topo_attach "$1" "$R1" r1-r2
	"$1" -n "$R1" policy add 2001:db8:b::/64 encap segs "$V6_SEGS" src "$R1_TUNSRC"
	"$1" -n "$R1" policy add 10.0.2.0/24 encap.red segs "$V4_SEGS" src "$R1_TUNSRC"
	# the way back's decapsulation too (the kernel's seg6local routes for
	# the same SIDs stay: ours come first)
	"$1" -n "$R1" sid add fc00:1::d6 action End.DX6 nh6 2001:db8:a::1
	"$1" -n "$R1" sid add fc00:1::d4 action End.DX4 nh4 10.0.1.1
}
# TOPO_R2_EGRESS: how R2 attaches both its devices' egress; unset: r2-r1 the
# default, r2-r3 "egress skb" (R3 is a plain kernel router). Set to "" for
# the default egress on both (the peers must then take XDP redirects, or the
# default must find out that they do not).
topo_srv6ctl_r2() {
	if [[ -v TOPO_R2_EGRESS ]]; then
		# shellcheck disable=SC2086 # words on purpose
		topo_attach "$1" "$R2" r2-r1 $TOPO_R2_EGRESS
		# shellcheck disable=SC2086
		topo_attach "$1" "$R2" r2-r3 $TOPO_R2_EGRESS
	else
		topo_attach "$1" "$R2" r2-r1
		topo_attach "$1" "$R2" r2-r3 egress skb  # R3 is a plain kernel router
	fi
	"$1" -n "$R2" sid add "$R2_END" action End count
}
# R3 on our datapath, where the kernel has no seg6 (TOPO_SEG6=0): the
# kernel router's configuration of topo_create in srv6ctl's words, plus
# TOPO_OURS, the namespaces that run our datapath (for srv6d).
topo_srv6ctl_r3() {
	[[ $TOPO_SEG6 == 0 ]] || return 0
	topo_attach "$1" "$R3" r3-b egress skb   # hostB's veth has no XDP
	topo_attach "$1" "$R3" r3-r2
	"$1" -n "$R3" tunsrc set fd00:23::3
	"$1" -n "$R3" sid add fc00:3::d6 action End.DX6 nh6 2001:db8:b::1
	"$1" -n "$R3" sid add fc00:3::d4 action End.DX4 nh4 10.0.2.1
	"$1" -n "$R3" policy add 2001:db8:a::/64 encap segs fc00:2::e,fc00:1::d6
	"$1" -n "$R3" policy add 10.0.1.0/24 encap.red segs fc00:2::e,fc00:1::d4
}
if [[ $TOPO_SEG6 == 1 ]]; then TOPO_OURS=("$R1" "$R2"); else TOPO_OURS=("$R1" "$R2" "$R3"); fi

topo_srv6ctl_detach() {
	"$1" -n "$R1" detach r1-a || true
	"$1" -n "$R1" detach r1-r2 || true
	"$1" -n "$R2" detach r2-r1 || true
	"$1" -n "$R2" detach r2-r3 || true
	if [[ $TOPO_SEG6 == 0 ]]; then
		"$1" -n "$R3" detach r3-b || true
		"$1" -n "$R3" detach r3-r2 || true
	fi
}

# Detach srv6ctl SRV6CTL from R1 and R2 and drop their instances (pinned
# under /sys/fs/bpf/srv6/ns<netns cookie>).
topo_srv6ctl_cleanup() {
	local ns
	topo_srv6ctl_detach "$1" >/dev/null 2>&1 || true
	for ns in "${TOPO_OURS[@]}"; do
		[[ -e /run/netns/$ns ]] && "$1" -n "$ns" instance del --all >/dev/null 2>&1 || true
	done
}

# topo_srv6d SRV6D LOGDIR NS...: srv6d on each NS (logs LOGDIR/srv6d-NS.log,
# pids appended to the caller's DAEMONS), back once all of them watch.
topo_srv6d() {
	local srv6d=$1 logs=$2 ns
	shift 2
	for ns in "$@"; do
		"$srv6d" -n "$ns" >"$logs/srv6d-$ns.log" 2>&1 &
		DAEMONS+=($!)
	done
	for _ in $(seq 50); do
		[[ $(cat "$logs"/srv6d-*.log | grep -c watching) == "$#" ]] && break
		sleep 0.1
	done
}

# Cold start: no neighbour entries anywhere.
topo_flush_neigh() {
	local ns
	for ns in "${TOPO_NS[@]}"; do
		nsx "$ns" ip neigh flush all 2>/dev/null || true
	done
}
