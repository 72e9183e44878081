#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# L3VPN across network namespaces: two tenants with overlapping addresses,
# each in a routing table of its own on both PEs (no VRF device).
#
#   hA1 --- PE1 --- P --- PE2 --- hA2      tenant A = table 100 on both PEs
#   hB1 --/               \-- hB2          tenant B = table 200 on both PEs
#
#   hA1, hB1   10.1.0.2/24 2001:db8:1::2/64   gateway 10.1.0.1 2001:db8:1::1
#                                             (PE1's pe1-a and pe1-b alike)
#   hA2, hB2   10.2.0.2/24 2001:db8:2::2/64   gateway 10.2.0.1 2001:db8:2::1
#                                             (PE2's pe2-a and pe2-b alike)
#   core       PE1-P fd00:12::/64 (.1/.2), P-PE2 fd00:23::/64 (.2/.3), IPv6
#              only, MTU 1600 (the hosts 1500: room for the encapsulation)
#   locators   PE1 fc00:1::/32, P fc00:b::/32, PE2 fc00:2::/32 (static
#              routes); tunsrc PE1 fc00:1::1, PE2 fc00:2::1 (on lo)
#
#   PE1  pe1-a bound to table 100, pe1-b to table 200 (srv6ctl link set)
#        End.DT46 fc00:1::100 table 100, fc00:1::200 table 200
#        table 100: 10.2.0.0/24, 2001:db8:2::/64 encap.red segs fc00:2::100
#        table 200: 10.2.0.0/24, 2001:db8:2::/64 encap.red segs fc00:b::1,fc00:2::200
#   P    End fc00:b::1
#   PE2  the mirror image: End.DT46 fc00:2::100 / fc00:2::200, policies for
#        10.1.0.0/24, 2001:db8:1::/64 to fc00:1::100 (A), fc00:b::1,fc00:1::200 (B)
#
# Every router device runs our datapath: native XDP (TC behind it; the
# hosts' veths have GRO on, so the PEs' tenant-facing veths take XDP
# frames and every hop redirects at XDP), or TC only (TOPO_HOOK=tc). srv6d
# runs on the three routers when given.
#
# Checks:
#  1. pings from cold caches (no neighbour entries), each tenant both ways,
#     IPv6 and IPv4: 0% loss, reply TTL / hop limit 63;
#  2. each ping answered by its tenant's host: its Icmp(6) InEchos move by
#     the count, those of the other tenant's host (same address) do not;
#  3. real traffic inside each tenant (traffic.sh): TCP (every byte checked,
#     and iperf3), IPv6 and IPv4, both tenants, both ways; counted UDP
#     flows, each tenant, family and direction: every datagram arrives
#     intact; no checksum error counter moves at either end;
#  4. nothing crosses between tenants: the other tenant's host (same
#     address) receives none of those UDP datagrams;
#  5. on the PE1-P wire (captured on P's side): tenant A's packets have
#     outer DA fc00:2::100 and no SRH, tenant B's outer DA fc00:b::1 and
#     the SRH of H.Encaps.Red (RFC 8986 5.2: the first SID only in the DA):
#     segment list [fc00:2::200], SL 1, last entry 0, as the kernel's
#     encap.red builds it; both from tunsrc fc00:1::1, inner packets the
#     tenant's own;
#  6. counters: End.DT46 SIDs of both PEs, P's End and every tenant policy
#     counted packets (at least what the pings alone sent), no errors;
#     at native XDP with srv6d, no packet left XDP for the skb path
#     (skb_egress) during the pings and the traffic. Before all that,
#     `srv6ctl link show`: every router device at the variant's hook (XDP:
#     native, XDP egress), the tenant devices bound to their tables.
#
# usage: l3vpn.sh SRV6CTL [SRV6D]       with SRV6D: srv6d on PE1, P, PE2
#        TOPO_HOOK=tc l3vpn.sh SRV6CTL  our datapath at TC only (default: XDP)
set -euo pipefail

SRV6CTL=${1:-}
SRV6D=${2:-}
DAEMONS=()
PY=/usr/bin/python3   # the interpreter with scapy
COUNT=5               # echo requests per ping
HERE=$(cd "$(dirname "$0")" && pwd)
TOPO_PREFIX="srv6l3vpn-$$-"
# topology.sh for nsx, topo_link, topo_attach, topo_flush_neigh and
# topo_destroy (over TOPO_NS, set below); its own topology is not built.
# shellcheck source=tests/netns/topology.sh
source "$HERE/topology.sh"
# shellcheck source=tests/netns/traffic.sh
source "$HERE/traffic.sh"

HA1=${TOPO_PREFIX}hA1 HB1=${TOPO_PREFIX}hB1 PE1=${TOPO_PREFIX}PE1 P=${TOPO_PREFIX}P
PE2=${TOPO_PREFIX}PE2 HA2=${TOPO_PREFIX}hA2 HB2=${TOPO_PREFIX}hB2
TOPO_NS=("$HA1" "$HB1" "$PE1" "$P" "$PE2" "$HA2" "$HB2")
TOPO_ROUTERS=("$PE1" "$P" "$PE2")
HOSTS=("$HA1" "$HB1" "$HA2" "$HB2")
HOOK=${TOPO_HOOK:-xdp}
SRC1=fc00:1::1 SRC2=fc00:2::1   # the PEs' tunsrc

if [[ ! -x $SRV6CTL ]]; then
	echo "usage: $0 SRV6CTL [SRV6D]" >&2
	exit 2
fi
if [[ $(id -u) != 0 ]]; then
	echo "FAIL: needs root" >&2
	exit 1
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

TMP=$(mktemp -d)
TCPDUMP_PID=
ret=0
nfail=0

cleanup() {
	if [[ -n $TCPDUMP_PID ]]; then kill "$TCPDUMP_PID" 2>/dev/null || true; fi
	for pid in "${DAEMONS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for ns in "${TOPO_ROUTERS[@]}"; do
		[[ -e /run/netns/$ns ]] && "$SRV6CTL" -n "$ns" instance del --all >/dev/null 2>&1 || true
	done
	topo_destroy
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

l3vpn_create() {
	local ns dev
	for ns in "${TOPO_NS[@]}"; do
		ip netns add "$ns"
		nsx "$ns" ip link set lo up
		nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	topo_link "$HA1" eth0 "$PE1" pe1-a
	topo_link "$HB1" eth0 "$PE1" pe1-b
	topo_link "$PE1" pe1-p "$P" p-pe1
	topo_link "$P" p-pe2 "$PE2" pe2-p
	topo_link "$PE2" pe2-a "$HA2" eth0
	topo_link "$PE2" pe2-b "$HB2" eth0
	for dev in "$PE1 pe1-p" "$P p-pe1" "$P p-pe2" "$PE2 pe2-p"; do
		# shellcheck disable=SC2086 # NS DEV
		nsx ${dev% *} ip link set "${dev#* }" mtu 1600
	done

	# The tenants' hosts: the same addresses on both sides of each PE.
	local site
	for h in "$HA1 1" "$HB1 1" "$HA2 2" "$HB2 2"; do  # NS SITE
		read -r ns site <<<"$h"
		nsx "$ns" ip addr add "10.$site.0.2/24" dev eth0
		nsx "$ns" ip -6 addr add "2001:db8:$site::2/64" dev eth0 nodad
		nsx "$ns" ip route add default via "10.$site.0.1"
		nsx "$ns" ip -6 route add default via "2001:db8:$site::1"
	done
	# GRO on the hosts' veths: their peers (the PEs' tenant-facing devices)
	# then take XDP frames, so decapsulated packets are XDP-redirected to
	# the hosts too (native XDP; nothing changes at TC).
	for ns in "${HOSTS[@]}"; do nsx "$ns" ethtool -K eth0 gro on; done

	# The PEs' tenant-facing devices, both with the gateway's addresses.
	for dev in pe1-a pe1-b; do
		nsx "$PE1" ip addr add 10.1.0.1/24 dev $dev
		nsx "$PE1" ip -6 addr add 2001:db8:1::1/64 dev $dev nodad
	done
	for dev in pe2-a pe2-b; do
		nsx "$PE2" ip addr add 10.2.0.1/24 dev $dev
		nsx "$PE2" ip -6 addr add 2001:db8:2::1/64 dev $dev nodad
	done
	# The tenant tables' connected routes, for End.DT46 (the kernel puts
	# them in main only).
	nsx "$PE1" ip route add 10.1.0.0/24 dev pe1-a table 100
	nsx "$PE1" ip -6 route add 2001:db8:1::/64 dev pe1-a table 100
	nsx "$PE1" ip route add 10.1.0.0/24 dev pe1-b table 200
	nsx "$PE1" ip -6 route add 2001:db8:1::/64 dev pe1-b table 200
	nsx "$PE2" ip route add 10.2.0.0/24 dev pe2-a table 100
	nsx "$PE2" ip -6 route add 2001:db8:2::/64 dev pe2-a table 100
	nsx "$PE2" ip route add 10.2.0.0/24 dev pe2-b table 200
	nsx "$PE2" ip -6 route add 2001:db8:2::/64 dev pe2-b table 200

	# The core: IPv6 only, static routes for the locators.
	nsx "$PE1" ip -6 addr add fd00:12::1/64 dev pe1-p nodad
	nsx "$PE1" ip -6 addr add "$SRC1/128" dev lo nodad
	nsx "$P" ip -6 addr add fd00:12::2/64 dev p-pe1 nodad
	nsx "$P" ip -6 addr add fd00:23::2/64 dev p-pe2 nodad
	nsx "$PE2" ip -6 addr add fd00:23::3/64 dev pe2-p nodad
	nsx "$PE2" ip -6 addr add "$SRC2/128" dev lo nodad
	nsx "$PE1" ip -6 route add fc00:b::/32 via fd00:12::2
	nsx "$PE1" ip -6 route add fc00:2::/32 via fd00:12::2
	nsx "$P" ip -6 route add fc00:1::/32 via fd00:12::1
	nsx "$P" ip -6 route add fc00:2::/32 via fd00:23::3
	nsx "$PE2" ip -6 route add fc00:b::/32 via fd00:23::2
	nsx "$PE2" ip -6 route add fc00:1::/32 via fd00:23::2

	# Routers forward, accept SRHs, no reverse-path drops of decapsulated IPv4.
	for ns in "${TOPO_ROUTERS[@]}"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.seg6_enabled=1 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0
		for dev in $(nsx "$ns" ls /sys/class/net); do
			nsx "$ns" sysctl -qw "net.ipv6.conf.$dev.seg6_enabled=1" "net.ipv4.conf.$dev.rp_filter=0"
		done
	done
}

# pe_config NS LOC REMOTE_LOC TUNSRC DEV_A DEV_B REMOTE_V4 REMOTE_V6: a PE's
# datapath on every device; DEV_A bound to table 100, DEV_B to 200; End.DT46
# LOC::100 / LOC::200 into them; policies to the remote sites' prefixes
# (A: REMOTE_LOC::100; B: through P's End, fc00:b::1,REMOTE_LOC::200).
pe_config() {
	local ns=$1 loc=$2 rloc=$3 src=$4 deva=$5 devb=$6 r4=$7 r6=$8 dev pfx
	for dev in $(nsx "$ns" ls /sys/class/net); do
		[[ $dev == lo ]] || topo_attach "$SRV6CTL" "$ns" "$dev"
	done
	"$SRV6CTL" -n "$ns" link set "$deva" table 100
	"$SRV6CTL" -n "$ns" link set "$devb" table 200
	"$SRV6CTL" -n "$ns" sid add "$loc::100" action End.DT46 table 100
	"$SRV6CTL" -n "$ns" sid add "$loc::200" action End.DT46 table 200
	"$SRV6CTL" -n "$ns" tunsrc set "$src"
	for pfx in "$r4" "$r6"; do
		"$SRV6CTL" -n "$ns" policy add "$pfx" table 100 encap.red segs "$rloc::100"
		"$SRV6CTL" -n "$ns" policy add "$pfx" table 200 encap.red segs "fc00:b::1,$rloc::200"
	done
}

# snmp NS NAME...: the sum of counters of NS, named as nstat names them
# (IcmpInEchos, Icmp6InEchos, UdpInDatagrams, Udp6NoPorts...).
snmp() {
	local ns=$1
	shift
	nsx "$ns" awk -v want="$*" '
		BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) wanted[w[i]] = 1 }
		FILENAME ~ /snmp6$/ { if ($1 in wanted) sum += $2; next }
		{ p = substr($1, 1, length($1) - 1)
		  if (!seen[p]++) { for (i = 2; i <= NF; i++) name[p, i] = p $i }
		  else for (i = 2; i <= NF; i++) if (name[p, i] in wanted) sum += $i }
		END { print sum + 0 }' /proc/net/snmp /proc/net/snmp6
}
in_echos() { if [[ $2 == *:* ]]; then snmp "$1" Icmp6InEchos; else snmp "$1" IcmpInEchos; fi; }
# udp_in NS v4|v6: UDP datagrams that reached NS (delivered, no port, or errors)
udp_in() {
	if [[ $2 == v6 ]]; then
		snmp "$1" Udp6InDatagrams Udp6NoPorts Udp6InErrors Udp6InCsumErrors
	else
		snmp "$1" UdpInDatagrams UdpNoPorts UdpInErrors UdpInCsumErrors
	fi
}

# ping_ok NS ADDR NAME: 0% loss, and the reply TTL/hop limit is 63 (the
# kernel decrements the inner header once per SR domain, at the
# decapsulating PE), as e2e.sh checks it.
ping_ok() {
	local out rc=0 ttls
	out=$(nsx "$1" ping -c "$COUNT" -i 0.2 -W 2 "$2" 2>&1) || true
	grep -q " 0% packet loss" <<<"$out" || rc=1
	log_test $rc "$3" "$(tail -n 3 <<<"$out" | head -n 1)"
	rc=0
	# (|| true: no replies at all must fail this check, not end the script)
	ttls=$(grep -o 'ttl=[0-9]*' <<<"$out" | sort -u | tr '\n' ' ') || true
	[[ $ttls == "ttl=63 " ]] || rc=1
	log_test $rc "$3: reply hlim 63" "got: ${ttls:-no replies}"
}

# ping_tenant SRC ADDR RIGHT WRONG NAME: SRC pings ADDR (checks 1); RIGHT's
# echo requests counter moves by COUNT, WRONG's (the other tenant's host
# with the same address) does not (check 2).
ping_tenant() {
	local src=$1 addr=$2 right=$3 wrong=$4 name=$5 r0 w0 r1 w1 rc=0
	r0=$(in_echos "$right" "$addr") w0=$(in_echos "$wrong" "$addr")
	ping_ok "$src" "$addr" "$name"
	r1=$(in_echos "$right" "$addr") w1=$(in_echos "$wrong" "$addr")
	((r1 - r0 == COUNT && w1 == w0)) || rc=1
	log_test $rc "$name: answered by $(traffic_name "$right") only" \
		"echo requests at $(traffic_name "$right") +$((r1 - r0)) (want $COUNT), at $(traffic_name "$wrong") +$((w1 - w0)) (want 0)"
}

# udp_isolated SRC DST OTHER ADDR: the counted UDP flow SRC -> ADDR arrives
# intact at DST (checks 3) and OTHER, the other tenant's host with the same
# address, receives none of it (check 4).
udp_isolated() {
	local src=$1 dst=$2 other=$3 addr=$4 fam o0 o1 rc=0
	fam=$(traffic_family "$addr")
	o0=$(udp_in "$other" "$fam")
	traffic_udp "$src" "$dst" "$addr"
	o1=$(udp_in "$other" "$fam")
	((o1 == o0)) || rc=1
	log_test $rc "UDP $fam $(traffic_name "$src") -> $addr: none of it reaches $(traffic_name "$other")" \
		"$(traffic_name "$other") counted $((o1 - o0)) UDP datagrams"
}

# stats_check NS sids|policies KEY TABLE MIN: the counters of one SID
# (TABLE -) or of one policy of TABLE in `srv6ctl -j -s stats` reach MIN
# packets, with bytes > 0 and no errors.
stats_check() {
	"$SRV6CTL" -j -s -n "$1" stats | "$PY" -c '
import ipaddress, json, sys
kind, key, table, least = sys.argv[1], ipaddress.ip_network(sys.argv[2]), sys.argv[3], int(sys.argv[4])
doc = json.load(sys.stdin)
field = {"sids": "sid", "policies": "prefix"}[kind]
for e in doc[kind]:
    if ipaddress.ip_network(e[field]) == key and (table == "-" or str(e.get("table")) == table):
        st, tbl = e["stats"], e.get("table", "-")
        print(f"{e[field]} table {tbl}: {st}")
        sys.exit(0 if st["packets"] >= least and st["bytes"] > 0 and st["errors"] == 0 else 1)
print(f"{key} (table {table}): not in {kind}")
sys.exit(1)' "$2" "$3" "$4" "$5"
}
# reasons_summary WHEN: for the reader, the drop/hand-off reasons that
# moved on each router.
reasons_summary() {
	local ns
	for ns in "${TOPO_ROUTERS[@]}"; do
		"$SRV6CTL" -j -n "$ns" stats | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["reasons"]
print(f"        {sys.argv[1]} {sys.argv[2]}: reasons " + (" ".join(f"{k}={v}" for k, v in r.items() if v) or "none"))' \
			"$(traffic_name "$ns")" "$1" || true
	done
}
# link_check NS DEV=TABLE...: `srv6ctl -j link show` of NS lists exactly
# (TABLE a number, main 254)
# these devices, each bound to TABLE, at the variant's hook (xdp: native,
# and with srv6d the XDP egress).
link_check() {
	local ns=$1 out rc
	shift
	out=$("$SRV6CTL" -j -n "$ns" link show | "$PY" -c '
import json, sys
hook, watched, want = sys.argv[1], sys.argv[2] == "1", dict(a.split("=") for a in sys.argv[3:])
got, bad = json.load(sys.stdin), []
for d in got:
    dev = d["dev"]
    w = {"hook": hook, "table": int(want[dev]) if dev in want else "(not expected)"}
    if hook == "xdp":
        w["mode"] = "native"
        if watched:
            w["egress"] = "xdp"
    bad += [f"{d['dev']} {k} {d.get(k)} (want {v})" for k, v in w.items() if d.get(k) != v]
bad += [f"{dev} not attached" for dev in want if dev not in [d["dev"] for d in got]]
print("; ".join(bad))
sys.exit(1 if bad else 0)' "$HOOK" "$([[ -n $SRV6D ]] && echo 1 || echo 0)" "$@" 2>&1) && rc=0 || rc=$?
	log_test "$rc" "$(traffic_name "$ns"): $* at $HOOK$([[ $HOOK == xdp ]] && echo " native")" "$out"
}
reason() { "$SRV6CTL" -j -n "$1" stats | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["reasons"][sys.argv[1]])' "$2"; }

# wire_check PCAP TUNSRC COUNT: what PE1 sent to P (outer source TUNSRC):
# tenant A outer DA fc00:2::100, no SRH; tenant B outer DA fc00:b::1, SRH
# [fc00:2::200] SL 1 LE 0 (H.Encaps.Red of fc00:b::1,fc00:2::200: the
# first SID is not in the SRH, SL still counts it); the inner packets the tenant's
# (10.1.0.2 -> 10.2.0.2, 2001:db8:1::2 -> 2001:db8:2::2); at least COUNT
# of each tenant and inner family; nothing else from TUNSRC.
wire_check() {
	"$PY" - "$@" <<-'EOF'
	import logging, sys
	logging.getLogger("scapy").setLevel(logging.ERROR)
	from scapy.all import rdpcap, IPv6, IP, IPv6ExtHdrSegmentRouting as SRH
	pcap, tunsrc, least = sys.argv[1], sys.argv[2], int(sys.argv[3])
	inner_ok = {4: ("10.1.0.2", "10.2.0.2"), 41: ("2001:db8:1::2", "2001:db8:2::2")}
	seen = {(t, nh): 0 for t in "AB" for nh in (4, 41)}
	first, bad = {}, []
	for p in rdpcap(pcap):
	    if IPv6 not in p or p[IPv6].src != tunsrc:
	        continue
	    o = p[IPv6]
	    if o.dst == "fc00:2::100":
	        tenant, nh, inner = "A", o.nh, o.payload
	        ok = SRH not in p and nh in inner_ok
	        line = f"A: dst={o.dst} nh={o.nh} (no SRH: {SRH not in p})"
	    elif o.dst == "fc00:b::1":
	        tenant = "B"
	        if SRH not in p:
	            bad.append(f"B: dst={o.dst} nh={o.nh}, no SRH")
	            continue
	        s = p[SRH]
	        nh, inner = s.nh, s.payload
	        ok = (o.nh == 43 and s.type == 4 and list(s.addresses) == ["fc00:2::200"]
	              and s.segleft == 1 and s.lastentry == 0 and nh in inner_ok)
	        line = f"B: dst={o.dst} SRH segs={list(s.addresses)} sl={s.segleft} le={s.lastentry} nh={nh}"
	    else:
	        bad.append(f"?: dst={o.dst} nh={o.nh}: neither tenant's SID")
	        continue
	    if ok:
	        ok = (inner.src, inner.dst) == inner_ok[nh]
	    line += f" inner={getattr(inner, 'src', '?')}->{getattr(inner, 'dst', '?')}"
	    if not ok:
	        bad.append(line)
	        continue
	    seen[(tenant, nh)] += 1
	    first.setdefault((tenant, nh), line)
	for k in sorted(first):
	    print(first[k])
	print("packets (tenant, inner nh): " + ", ".join(f"{t}/{nh}={n}" for (t, nh), n in seen.items())
	      + f"; {len(bad)} wrong")
	for line in bad[:3]:
	    print("wrong:", line)
	sys.exit(0 if not bad and all(n >= least for n in seen.values()) else 1)
	EOF
}

echo "SRv6 L3VPN, two tenants in tables 100 and 200 ($SRV6CTL at $HOOK)"
l3vpn_create
# srv6d_start NS: srv6d on NS, once its instance exists (it loads the
# programs, seconds: the routers' daemons start while the next is set up).
srv6d_start() {
	[[ -n $SRV6D ]] || return 0
	"$SRV6D" -n "$1" >"$TMP/srv6d-$1.log" 2>&1 &
	DAEMONS+=($!)
}
pe_config "$PE1" fc00:1 fc00:2 "$SRC1" pe1-a pe1-b 10.2.0.0/24 2001:db8:2::/64
srv6d_start "$PE1"
pe_config "$PE2" fc00:2 fc00:1 "$SRC2" pe2-a pe2-b 10.1.0.0/24 2001:db8:1::/64
srv6d_start "$PE2"
topo_attach "$SRV6CTL" "$P" p-pe1
topo_attach "$SRV6CTL" "$P" p-pe2
"$SRV6CTL" -n "$P" sid add fc00:b::1 action End
srv6d_start "$P"
if [[ -n $SRV6D ]]; then
	# Up to a minute: three daemons verifying their programs on two busy
	# cores take several seconds each.
	for _ in $(seq 600); do
		[[ $(cat "$TMP"/srv6d-*.log | grep -c watching) == "${#TOPO_ROUTERS[@]}" ]] && break
		sleep 0.1
	done
	rc=0
	[[ $(cat "$TMP"/srv6d-*.log | grep -c watching) == "${#TOPO_ROUTERS[@]}" ]] || rc=1
	log_test $rc "srv6d watching on PE1, P and PE2" "$(cat "$TMP"/srv6d-*.log)"
fi
for ns in "${TOPO_ROUTERS[@]}"; do
	"$SRV6CTL" -n "$ns" link show | sed "s/^/        $(traffic_name "$ns"): /"
done
# Every router device runs the variant's hook (native XDP: XDP redirects to
# every egress once srv6d follows the peers), the tenant devices bound.
link_check "$PE1" pe1-a=100 pe1-b=200 pe1-p=254
link_check "$P" p-pe1=254 p-pe2=254
link_check "$PE2" pe2-a=100 pe2-b=200 pe2-p=254
skb0=()
for ns in "${TOPO_ROUTERS[@]}"; do skb0+=("$(reason "$ns" skb_egress)"); done

# 1, 2. Pings from cold caches, each answered by its tenant's host only.
topo_flush_neigh
ping_tenant "$HA1" 10.2.0.2 "$HA2" "$HB2" "ping -4 hA1 -> hA2, cold caches"
ping_tenant "$HA1" 2001:db8:2::2 "$HA2" "$HB2" "ping -6 hA1 -> hA2, cold caches"
ping_tenant "$HB1" 10.2.0.2 "$HB2" "$HA2" "ping -4 hB1 -> hB2, cold caches"
ping_tenant "$HB1" 2001:db8:2::2 "$HB2" "$HA2" "ping -6 hB1 -> hB2, cold caches"
topo_flush_neigh
ping_tenant "$HA2" 10.1.0.2 "$HA1" "$HB1" "ping -4 hA2 -> hA1, cold caches"
ping_tenant "$HA2" 2001:db8:1::2 "$HA1" "$HB1" "ping -6 hA2 -> hA1, cold caches"
ping_tenant "$HB2" 10.1.0.2 "$HB1" "$HA1" "ping -4 hB2 -> hB1, cold caches"
ping_tenant "$HB2" 2001:db8:1::2 "$HB1" "$HA1" "ping -6 hB2 -> hB1, cold caches"

reasons_summary "after the pings"

# 3, 4. Real traffic inside each tenant; the other tenant's host, which has
# the same address, receives none of the UDP flows.
traffic_tcp "$HA1" "$HA2" 2001:db8:2::2 "[A]"
traffic_tcp "$HA2" "$HA1" 10.1.0.2 "[A]"
traffic_tcp "$HB1" "$HB2" 10.2.0.2 "[B]"
traffic_tcp "$HB2" "$HB1" 2001:db8:1::2 "[B]"
udp_isolated "$HA1" "$HA2" "$HB2" 10.2.0.2
udp_isolated "$HA1" "$HA2" "$HB2" 2001:db8:2::2
udp_isolated "$HA2" "$HA1" "$HB1" 10.1.0.2
udp_isolated "$HA2" "$HA1" "$HB1" 2001:db8:1::2
udp_isolated "$HB1" "$HB2" "$HA2" 10.2.0.2
udp_isolated "$HB1" "$HB2" "$HA2" 2001:db8:2::2
udp_isolated "$HB2" "$HB1" "$HA1" 10.1.0.2
udp_isolated "$HB2" "$HB1" "$HA1" 2001:db8:1::2
# Fresh namespaces: the checksum error counters of every host are still 0.
for ns in "${HOSTS[@]}"; do
	csum=$(traffic_csum "$ns")
	rc=0
	[[ $csum == "0 0 0" ]] || rc=1
	log_test $rc "$(traffic_name "$ns"): Udp6InCsumErrors UdpInCsumErrors TcpInCsumErrors all 0" "got $csum"
done

# 6 (part). At native XDP with srv6d every egress takes XDP frames (the
# core peers run XDP, the hosts' veths GRO): nothing of the pings or the
# traffic was left to the skb path for want of an XDP egress.
if [[ $HOOK == xdp && -n $SRV6D ]]; then
	i=0
	for ns in "${TOPO_ROUTERS[@]}"; do
		skb1=$(reason "$ns" skb_egress)
		rc=0
		((skb1 == skb0[i])) || rc=1
		log_test $rc "$(traffic_name "$ns"): pings and traffic redirected at XDP (skb_egress unmoved)" \
			"skb_egress ${skb0[i]} -> $skb1"
		i=$((i + 1))
	done
fi
reasons_summary "after the traffic"

# 5. The PE1-P wire, captured on P's side (ip netns exec execs tcpdump, so
# $! is tcpdump itself). tcpdump sees a frame there only if P's XDP passes
# it up: tenant A's (not ours at P: the kernel forwards them), and tenant
# B's only while P's End cannot redirect at XDP, so at native XDP P's
# p-pe2 is re-attached with "egress skb" for the capture: its End then runs
# at TC, behind the tap. --immediate-mode: without it the last second's
# packets may still sit in the capture buffer when tcpdump is stopped.
if [[ $HOOK == xdp ]]; then
	"$SRV6CTL" -n "$P" attach p-pe2 xdp egress skb
fi
ip netns exec "$P" tcpdump -i p-pe1 --immediate-mode -U -n -w "$TMP/pe1-p.pcap" ip6 2>"$TMP/tcpdump.err" &
TCPDUMP_PID=$!
for _ in $(seq 50); do
	grep -q "listening on" "$TMP/tcpdump.err" && break
	sleep 0.1
done
ping_ok "$HA1" 10.2.0.2 "ping -4 hA1 -> hA2 (capture)"
ping_ok "$HA1" 2001:db8:2::2 "ping -6 hA1 -> hA2 (capture)"
ping_ok "$HB1" 10.2.0.2 "ping -4 hB1 -> hB2 (capture)"
ping_ok "$HB1" 2001:db8:2::2 "ping -6 hB1 -> hB2 (capture)"
sleep 0.5
kill -INT "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null || true
TCPDUMP_PID=
out=$(wire_check "$TMP/pe1-p.pcap" "$SRC1" "$COUNT" 2>&1) && rc=0 || rc=$?
sed 's/^/        /' <<<"$out"
log_test "$rc" "PE1-P wire: A to fc00:2::100 no SRH; B to fc00:b::1 SRH [fc00:2::200] SL 1 LE 0"

# 6. Counters, at least what the pings alone sent: per tenant and family,
# COUNT requests each way and COUNT replies each way, so a policy saw
# 2 x COUNT, a PE's End.DT46 4 x COUNT (both families), P's End 8 x COUNT.
for pe in "$PE1 fc00:1 10.2.0.0/24 2001:db8:2::/64" "$PE2 fc00:2 10.1.0.0/24 2001:db8:1::/64"; do
	read -r ns loc r4 r6 <<<"$pe"
	for t in 100 200; do
		out=$(stats_check "$ns" sids "$loc::$t/128" - $((4 * COUNT)) 2>&1) && rc=0 || rc=$?
		log_test "$rc" "$(traffic_name "$ns") stats: End.DT46 $loc::$t >= $((4 * COUNT)) packets, no errors" "$out"
		for pfx in "$r4" "$r6"; do
			out=$(stats_check "$ns" policies "$pfx" "$t" $((2 * COUNT)) 2>&1) && rc=0 || rc=$?
			log_test "$rc" "$(traffic_name "$ns") stats: table $t policy $pfx >= $((2 * COUNT)) packets, no errors" "$out"
		done
	done
done
out=$(stats_check "$P" sids fc00:b::1/128 - $((8 * COUNT)) 2>&1) && rc=0 || rc=$?
log_test "$rc" "P stats: End fc00:b::1 >= $((8 * COUNT)) packets, no errors" "$out"

echo
if [[ $ret == 0 ]]; then echo "PASS: all checks"; else echo "FAIL: $nfail check(s)"; fi
exit $ret
