#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end test of the SRv6 fast path across network namespaces.
#
#   hostA --- R1 --- R2 --- R3 --- hostB
#
#   hostA 2001:db8:a::1/64 10.0.1.1/24   hostB 2001:db8:b::1/64 10.0.2.1/24
#   R1-R2 fd00:12::/64 (.1/.2)           R2-R3 fd00:23::/64 (.2/.3)
#
#   hostA -> hostB   R1 (ours)   H.Encaps     segs fc00:2::e,fc00:3::d6 (IPv6)
#                                H.Encaps.Red segs fc00:2::e,fc00:3::d4 (IPv4)
#                    R2 (ours)   End          fc00:2::e
#                    R3 (kernel) End.DX6 fc00:3::d6, End.DX4 fc00:3::d4
#   hostB -> hostA   R3 (kernel) encap / encap.red segs fc00:2::e,fc00:1::d6|d4
#                    R2 (ours)   End          fc00:2::e
#                    R1 (ours)   End.DX6 fc00:1::d6, End.DX4 fc00:1::d4
#                                (the kernel's with E2E_KERNEL_R1)
#
# No plain route joins the hosts' prefixes: only SRv6 connects them. The core
# links have MTU 1600 (the hosts 1500), so that traffic does not depend on
# path MTU discovery (pmtud.sh is about that).
#
# Besides pings (cold caches), the SRH on the wire, the counters and Time
# Exceeded, real traffic crosses (traffic.sh): TCP (every byte checked, and
# iperf3) and counted UDP flows, both directions, IPv6 and IPv4, with the
# hosts' offloads at their defaults (checksum offload, TSO/GSO), the
# receivers' checksum error counters unmoved; then again with GRO on on
# every router veth: TC then sees GSO packets, and a router's GRO makes
# CHECKSUM_PARTIAL packets of its own (merged, then segmented again on the
# way out), so a checksum must be completed even where no host left it
# partial.
#
# usage: e2e.sh SRV6CTL [SRV6D]            with SRV6D: srv6d runs on R1 and R2
#                                         (and R3, which runs our datapath
#                                         where the kernel has no seg6)
#                                         (the forwarding cache on), checked
#        E2E_KERNEL_ONLY=1 e2e.sh    kernel seg6/seg6local on R1 and R2 instead
#                                    of srv6ctl (the differential baseline)
#        E2E_KERNEL_R1=1 e2e.sh SRV6CTL [SRV6D]
#                                    R1 is the kernel's seg6 encap, R2 ours:
#                                    the kernel as the previous hop of our End.
#                                    R2 attaches both devices with the default
#                                    egress; their peers (R1's r1-r2, R3's
#                                    r3-r2) have GRO on, so they take R2's XDP
#                                    redirects, both ways
#        TOPO_HOOK=tc e2e.sh SRV6CTL our datapath at TC only (default: XDP)
#        TOPO_HOOK=generic e2e.sh SRV6CTL    at generic XDP
set -euo pipefail

SRV6CTL=${1:-}
SRV6D=${2:-}
DAEMONS=()
KERNEL_ONLY=${E2E_KERNEL_ONLY:-0}
KERNEL_R1=${E2E_KERNEL_R1:-0}
[[ $KERNEL_ONLY == 1 ]] && KERNEL_R1=1
PY=/usr/bin/python3   # the interpreter with scapy
COUNT=5               # echo requests per ping
HERE=$(cd "$(dirname "$0")" && pwd)
TOPO_PREFIX="srv6e2e-$$-"
# shellcheck source=tests/netns/topology.sh
source "$HERE/topology.sh"
# shellcheck source=tests/netns/traffic.sh
source "$HERE/traffic.sh"

if [[ $KERNEL_ONLY != 1 && ! -x $SRV6CTL ]]; then
	echo "usage: $0 SRV6CTL   (or E2E_KERNEL_ONLY=1 $0)" >&2
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
	if [[ $KERNEL_ONLY != 1 ]]; then topo_srv6ctl_cleanup "$SRV6CTL"; fi
	topo_destroy
	rm -rf "$TMP"
}
trap cleanup EXIT

# ping_ok NS ADDR NAME: 0% loss, and the reply TTL/hop limit is the kernel
# baseline's 63: the kernel decrements the inner header once per SR domain
# (the encapsulating router copies it to the outer header undecremented,
# the decapsulating router forwards the inner packet).
ping_ok() {
	local out rc=0
	out=$(nsx "$1" ping -c "$COUNT" -i 0.2 -W 2 "$2" 2>&1) || true
	grep -q " 0% packet loss" <<<"$out" || rc=1
	log_test $rc "$3" "$(tail -n 3 <<<"$out" | head -n 1)"
	rc=0
	local ttls
	ttls=$(grep -o 'ttl=[0-9]*' <<<"$out" | sort -u | tr '\n' ' ')
	[[ $ttls == "ttl=63 " ]] || rc=1
	log_test $rc "$3: reply hlim 63 (kernel)" "got: ${ttls:-no replies}"
}

ping_fails() {
	local rc=0
	nsx "$1" ping -c 2 -i 0.2 -W 1 "$2" >/dev/null 2>&1 && rc=1
	log_test $rc "$3"
}

# srh_check PCAP v6|v4 [after-end]: the SRv6 packets R1 sent toward R2
# (outer src fd00:12::1) carry the expected SRH (after-end: as R2's End left
# them, on the R2-R3 link); prints what it saw.
srh_check() {
	"$PY" - "$@" <<-'EOF'
	import logging, sys
	logging.getLogger("scapy").setLevel(logging.ERROR)
	from scapy.all import rdpcap, IPv6, IPv6ExtHdrSegmentRouting as SRH
	pcap, fam = sys.argv[1:3]
	after_end = sys.argv[3:] == ["after-end"]
	want = {"v6": (41, ["fc00:3::d6", "fc00:2::e"], 1, 1),
	        "v4": (4, ["fc00:3::d4"], 1, 0)}[fam]
	dst = "fc00:2::e"
	if after_end:
	    want, dst = (want[0], want[1], 0, want[3]), want[1][0]
	seen, bad = 0, []
	for p in rdpcap(pcap):
	    if SRH not in p or p[IPv6].src != "fd00:12::1" or p[SRH].nh != want[0]:
	        continue
	    seen += 1
	    s = p[SRH]
	    got = (s.nh, list(s.addresses), s.segleft, s.lastentry)
	    inner = s.payload
	    ttl = inner.hlim if fam == "v6" else inner.ttl
	    line = (f"dst={p[IPv6].dst} hlim={p[IPv6].hlim} segs={got[1]} "
	            f"sl={got[2]} le={got[3]} inner={inner.src}->{inner.dst} ttl={ttl}")
	    if seen == 1:
	        print(line)
	    if p[IPv6].dst != dst or got != want:
	        bad.append(line)
	print(f"{seen} packets, {len(bad)} wrong")
	for line in bad[:3]:
	    print("wrong:", line)
	sys.exit(0 if seen and not bad else 1)
	EOF
}

# stats_check NS KIND KEY MIN: the counters of one SID or policy in
# `srv6ctl -j -s stats` reach MIN packets, with bytes > 0.
stats_check() {
	"$SRV6CTL" -j -s -n "$1" stats | "$PY" -c '
import ipaddress, json, sys
kind, key, least = sys.argv[1], ipaddress.ip_network(sys.argv[2]), int(sys.argv[3])
doc = json.load(sys.stdin)
field = {"sids": "sid", "policies": "prefix"}[kind]
for e in doc[kind]:
    if ipaddress.ip_network(e[field]) == key:
        st = e["stats"]
        print(f"{e[field]}: {st}")
        sys.exit(0 if st["packets"] >= least and st["bytes"] > 0 else 1)
print(f"{key}: not in {kind}")
sys.exit(1)' "$2" "$3" "$4"
}

# edge_counts NS NAME PFX6 PFX4 SID6 SID4: an edge router on our datapath
# (R1, and R3 where the kernel has no seg6) counted, per family, COUNT
# requests and COUNT replies through each policy (what it sends into the
# tunnel) and through each End.DX* SID (what comes back out of it).
edge_counts() {
	local ns=$1 name=$2 key kind what
	for key in "${@:3}"; do
		if [[ $key == */* ]]; then kind=policies what=policy; else kind=sids what=End.DX* key=$key/128; fi
		out=$(stats_check "$ns" "$kind" "$key" $((2 * COUNT)) 2>&1) && rc=0 || rc=$?
		log_test "$rc" "$name stats: $what $key >= $((2 * COUNT)) packets" "$out"
	done
}

# dp_summary NAME: one line of what the datapath did (srv6ctl -j -s stats
# on stdin), for the reader: reasons that moved, SID/policy packets/errors.
dp_summary() {
	"$PY" -c "$(cat <<-'EOF'
	import json, sys
	d = json.load(sys.stdin)
	r = " ".join(f"{k}={v}" for k, v in d["reasons"].items() if v) or "none"
	e = []
	for x in d["sids"] + d["policies"]:
	    key, st = x.get("sid") or x.get("prefix"), x["stats"]
	    e.append(f"{key}={st['packets']}/{st['errors']}")
	hits = d["fwd_cache"]["hits"]
	print(f"        {sys.argv[1]}: reasons {r}; packets/errors {' '.join(e)}; cache hits {hits}")
	EOF
	)" "$1"
}

if [[ $KERNEL_ONLY == 1 ]]; then
	what="kernel-only baseline"
	DP_NS=()              # namespaces running our datapath
elif [[ $KERNEL_R1 == 1 ]]; then
	what="R1 the kernel's seg6, R2 $SRV6CTL at ${TOPO_HOOK:-xdp}"
	DP_NS=("$R2")
else
	what="$SRV6CTL at ${TOPO_HOOK:-xdp}"
	DP_NS=("${TOPO_OURS[@]}") # R3 too where the kernel has no seg6 (topology.sh)
fi
echo "SRv6 e2e ($what)"
topo_create
if [[ $KERNEL_R1 == 1 ]]; then
	topo_kernel_r1
fi
if [[ $KERNEL_ONLY == 1 ]]; then
	topo_kernel_r2
elif [[ $KERNEL_R1 == 1 ]]; then
	# R2's neighbours are kernel routers: GRO on makes their veths take
	# XDP frames, so R2's End redirects both ways at XDP.
	nsx "$R1" ethtool -K r1-r2 gro on
	nsx "$R3" ethtool -K r3-r2 gro on
	TOPO_R2_EGRESS="" topo_srv6ctl_r2 "$SRV6CTL"
else
	topo_srv6ctl_r1 "$SRV6CTL"
	topo_srv6ctl_r2 "$SRV6CTL"
	topo_srv6ctl_r3 "$SRV6CTL"
fi
if [[ -n $SRV6D && ${#DP_NS[@]} -gt 0 ]]; then
	topo_srv6d "$SRV6D" "$TMP" "${DP_NS[@]}"
fi

# Capture the R1-R2 link while the pings run (ip netns exec execs tcpdump,
# so $! is tcpdump itself and SIGINT flushes the file). With our R1, from
# R2's side: tcpdump sees R1's packets only because R2 hands them to the skb
# path (R3 is an "egress skb" device); a frame R2 XDP-redirected would
# bypass it. With the kernel's R1, from R1's side (its transmit path). At
# generic XDP, whose redirects pass no tap on R1 or R2 (generic_xdp_tx, and
# XDP before the receive taps), on R3's side, as R2's End left them.
SRH_AT=
if [[ ${TOPO_HOOK:-xdp} == generic && $KERNEL_ONLY != 1 ]]; then
	cap_ns=$R3 cap_dev=r3-r2 SRH_AT=after-end
elif [[ $KERNEL_R1 == 1 && $KERNEL_ONLY != 1 ]]; then
	cap_ns=$R1 cap_dev=r1-r2
else
	cap_ns=$R2 cap_dev=r2-r1
fi
ip netns exec "$cap_ns" tcpdump -i "$cap_dev" -U -n -w "$TMP/r1r2.pcap" ip6 2>"$TMP/tcpdump.err" &
TCPDUMP_PID=$!
for _ in $(seq 50); do
	grep -q "listening on" "$TMP/tcpdump.err" && break
	sleep 0.1
done

topo_flush_neigh
ping_ok "$HA" 2001:db8:b::1 "ping -6 hostA -> hostB, cold caches"
ping_ok "$HA" 10.0.2.1 "ping -4 hostA -> hostB, cold caches"
ping_ok "$HB" 2001:db8:a::1 "ping -6 hostB -> hostA"
ping_ok "$HB" 10.0.1.1 "ping -4 hostB -> hostA"

sleep 0.5
kill -INT "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null || true
TCPDUMP_PID=
out=$(srh_check "$TMP/r1r2.pcap" v6 $SRH_AT 2>&1) && rc=0 || rc=$?
sed 's/^/        /' <<<"$out"
if [[ -n $SRH_AT ]]; then wire="R2-R3 wire, after R2's End:" sl=0; else wire="R1-R2 wire:" sl=1; fi
log_test "$rc" "$wire H.Encaps SRH [fc00:3::d6,fc00:2::e] SL=$sl LE=1"
out=$(srh_check "$TMP/r1r2.pcap" v4 $SRH_AT 2>&1) && rc=0 || rc=$?
sed 's/^/        /' <<<"$out"
log_test "$rc" "$wire H.Encaps.Red SRH [fc00:3::d4] SL=$sl LE=0"

if [[ $KERNEL_ONLY != 1 ]]; then
	# Per direction and family: COUNT requests hostA->hostB and COUNT
	# replies hostA->hostB (to hostB's pings) go through R1's policies;
	# everything (8 x COUNT packets) goes through R2's End.
	if [[ $KERNEL_R1 != 1 ]]; then
		edge_counts "$R1" R1 2001:db8:b::/64 10.0.2.0/24 fc00:1::d6 fc00:1::d4
	fi
	if [[ $KERNEL_R1 != 1 && $TOPO_SEG6 == 0 ]]; then
		edge_counts "$R3" R3 2001:db8:a::/64 10.0.1.0/24 fc00:3::d6 fc00:3::d4
	fi
	out=$(stats_check "$R2" sids "$R2_END/128" $((8 * COUNT)) 2>&1) && rc=0 || rc=$?
	log_test "$rc" "R2 stats: End $R2_END >= $((8 * COUNT)) packets" "$out"
	if [[ -n $SRV6D ]]; then
		for ns in "${DP_NS[@]}"; do
			out=$("$SRV6CTL" -j -n "$ns" stats | "$PY" -c '
import json, sys
c = json.load(sys.stdin)["fwd_cache"]
print(c)
sys.exit(0 if c["on"] and c["hits"] > 0 else 1)' 2>&1) && rc=0 || rc=$?
			log_test "$rc" "$ns: srv6d keeps the forwarding cache on, and it served packets" "$out"
		done
	fi
	"$SRV6CTL" -n "${DP_NS[0]}" stats | sed 's/^/        /' || true
fi

# Real traffic, offloads at their defaults; then with GRO on on every
# router veth (GRO hands TC GSO packets, which XDP never sees).
traffic_both_ways "$HA" 2001:db8:a::1 10.0.1.1 "$HB" 2001:db8:b::1 10.0.2.1
for ns in "${TOPO_ROUTERS[@]}"; do traffic_gro "$ns" on; done
traffic_both_ways "$HA" 2001:db8:a::1 10.0.1.1 "$HB" 2001:db8:b::1 10.0.2.1 "[GRO on]"

for ns in "${DP_NS[@]}"; do
	"$SRV6CTL" -j -s -n "$ns" stats | dp_summary "$(traffic_name "$ns") after the traffic" || true
done

# Hop limit exhausted at R2's End: hostA sends hop limit 2, R1 copies it to
# the outer header and forwards with 1, so R2 must hand the packet to its
# kernel, which sends Time Exceeded to the outer source, R1 (as the kernel's
# own seg6local does).
icmp_te() { nsx "$R1" nstat -az Icmp6InTimeExcds | awk '/Icmp6InTimeExcds/ {print $2}'; }
te_before=$(icmp_te)
nsx "$HA" ping -6 -c 1 -t 2 -W 1 2001:db8:b::1 >/dev/null 2>&1 || true
sleep 0.3
te_after=$(icmp_te)
rc=0; ((te_after > te_before)) || rc=1
log_test $rc "hop limit exhausted at R2: Time Exceeded reaches R1" "Icmp6InTimeExcds $te_before -> $te_after"
if [[ $KERNEL_ONLY != 1 ]]; then
	hl=$("$SRV6CTL" -j -n "$R2" stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["reasons"]["hop_limit"])')
	rc=0; ((hl >= 1)) || rc=1
	log_test $rc "R2 stats: hop_limit hand-off counted" "hop_limit=$hl"
fi

# Without R1's datapath (or its kernel stand-in) nothing joins the hosts.
if [[ $KERNEL_R1 == 1 ]]; then
	topo_kernel_r1_del
else
	"$SRV6CTL" -n "$R1" detach r1-a
	"$SRV6CTL" -n "$R1" detach r1-r2
fi
ping_fails "$HA" 2001:db8:b::1 "ping -6 hostA -> hostB fails without R1's policy"
ping_fails "$HA" 10.0.2.1 "ping -4 hostA -> hostB fails without R1's policy"

echo
if [[ $ret == 0 ]]; then echo "PASS: all checks"; else echo "FAIL: $nfail check(s)"; fi
exit $ret
