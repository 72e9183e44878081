# shellcheck shell=bash
# Real traffic between two host namespaces, for the namespace tests and the
# demo (sourced after topology.sh, which provides nsx).
#
# Pings never see what breaks real traffic: a locally sent TCP/UDP skb carries
# CHECKSUM_PARTIAL, TCP comes as GSO packets, and both need the path's MTU to
# be right. So each check here moves real data and asserts what arrived:
#
#   traffic_tcp SRC DST ADDR [LABEL]  TCP from SRC to ADDR (in DST), twice:
#                     flow.py sends TRAFFIC_TCP_BYTES of known content and
#                     the receiver must get every byte intact; iperf3 -n
#                     (JSON) must complete without error
#   traffic_udp SRC DST ADDR [LABEL [flow.py udp-send options]]
#                     TRAFFIC_UDP_COUNT datagrams of varying size up to the
#                     hosts' MTU (flow.py): every one arrives, once, intact
#   traffic_both_ways NSA A6 A4 NSB B6 B4 [LABEL]
#                     both of them, both directions, IPv6 and IPv4
#
# Around each run the checksum error counters of its protocol (UDP:
# Udp6InCsumErrors, UdpInCsumErrors; TCP: TcpInCsumErrors, one counter for
# IPv4 and IPv6) at both ends (each receives: data, or TCP's ACKs) are
# read; they must not move. (Per protocol, so that the retransmissions of a
# TCP connection that failed before are not blamed on the next UDP flow.) A black hole fails fast: no
# connection, no acknowledgement or no data for TRAFFIC_TCP_IDLE (4 s) ends
# a TCP run (TCP_USER_TIMEOUT, iperf3 --connect-timeout / --snd-timeout),
# and every process runs under `timeout` (TRAFFIC_TIMEOUT).
#
# traffic_tcp_run / traffic_iperf_run / traffic_udp_run do the same without
# judging, leaving the outcome in TR_OK (1: everything delivered), TR_CSUM
# (the sum of the checksum error counters' increments) and TR_DETAIL, for
# tests that expect a failure (control.sh).
#
# The caller provides a scratch directory in TMP; verdicts go through
# log_test (defined here; it counts failures in ret and nfail).

TRAFFIC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TRAFFIC_PY=${PY:-/usr/bin/python3}
TRAFFIC_TCP_BYTES=${TRAFFIC_TCP_BYTES:-20971520}   # 20 MiB, a multiple of iperf3's 128 KiB block
TRAFFIC_UDP_COUNT=${TRAFFIC_UDP_COUNT:-1000}
TRAFFIC_MTU=${TRAFFIC_MTU:-1500}                   # the hosts' MTU: the largest datagram fits it
TRAFFIC_TIMEOUT=${TRAFFIC_TIMEOUT:-30}             # per process, seconds: generous, for a black hole only
TRAFFIC_TCP_IDLE=${TRAFFIC_TCP_IDLE:-4}            # seconds without progress that end a TCP run
TRAFFIC_PORT=${TRAFFIC_PORT:-5201}
ret=${ret:-0}
nfail=${nfail:-0}

# log_test RC NAME [DETAIL]: one PASS/FAIL line per check, as in selftests.
log_test() {
	if [[ $1 == 0 ]]; then
		printf "    TEST: %-72s [ OK ]\n" "$2"
	else
		printf "    TEST: %-72s [FAIL]\n" "$2"
		[[ -n ${3:-} ]] && printf "        %s\n" "$3"
		nfail=$((nfail + 1))
		ret=1
	fi
	return 0
}

# A namespace's short name for test names (without the run's prefix).
traffic_name() { echo "${1#"${TOPO_PREFIX:-}"}"; }

# traffic_csum NS: "Udp6InCsumErrors UdpInCsumErrors TcpInCsumErrors" of NS
# (the TCP counter is shared by IPv4 and IPv6).
traffic_csum() {
	nsx "$1" awk '
		$1 == "Udp6InCsumErrors" { u6 = $2 }
		$1 == "Udp:" || $1 == "Tcp:" {
			if (!seen[$1]++) { for (i = 2; i <= NF; i++) name[$1, i] = $i }
			else for (i = 2; i <= NF; i++) if (name[$1, i] == "InCsumErrors") v[$1] = $i
		}
		END { printf "%d %d %d\n", u6, v["Udp:"], v["Tcp:"] }' /proc/net/snmp /proc/net/snmp6
}

# traffic_csum_delta udp|tcp NS BEFORE AFTER: the increments of that
# protocol's counters: TR_CSUM (+=) and TR_CSUM_DETAIL.
traffic_csum_delta() {
	local -a was now which=(0 1)
	local names=(Udp6InCsumErrors UdpInCsumErrors TcpInCsumErrors) i d
	[[ $1 == tcp ]] && which=(2)
	shift
	read -r -a was <<<"$2"
	read -r -a now <<<"$3"
	for i in "${which[@]}"; do
		d=$((now[i] - was[i]))
		TR_CSUM=$((TR_CSUM + d))
		((d == 0)) || TR_CSUM_DETAIL+="$(traffic_name "$1") ${names[i]} +$d; "
	done
}

traffic_family() { [[ $1 == *:* ]] && echo v6 || echo v4; }

# traffic_wait_listen NS PORT: until something listens on TCP PORT in NS.
traffic_wait_listen() {
	for _ in $(seq 100); do
		[[ -n $(nsx "$1" ss -Hltn "sport = :$2") ]] && return 0
		sleep 0.05
	done
	return 1
}

# traffic_tcp_run SRC DST ADDR: flow.py sends TRAFFIC_TCP_BYTES of known
# content from SRC to ADDR in DST; the receiver checks every byte.
traffic_tcp_run() {
	local src=$1 dst=$2 addr=$3 port=$((TRAFFIC_PORT++)) rcv_pid cb db out
	local ready=$TMP/tcp-$port.ready res=$TMP/tcp-$port.recv.json snd=$TMP/tcp-$port.send.json
	TR_OK=0 TR_CSUM=0 TR_CSUM_DETAIL='' TR_DETAIL=''
	cb=$(traffic_csum "$src") db=$(traffic_csum "$dst")
	timeout "$TRAFFIC_TIMEOUT" ip netns exec "$dst" "$TRAFFIC_PY" "$TRAFFIC_DIR/flow.py" tcp-recv \
		"$addr" "$port" "$TRAFFIC_TCP_BYTES" "$ready" "$TRAFFIC_TCP_IDLE" >"$res" 2>&1 &
	rcv_pid=$!
	for _ in $(seq 100); do
		[[ -e $ready ]] && break
		sleep 0.05
	done
	timeout "$TRAFFIC_TIMEOUT" ip netns exec "$src" "$TRAFFIC_PY" "$TRAFFIC_DIR/flow.py" tcp-send \
		"$addr" "$port" "$TRAFFIC_TCP_BYTES" "$TRAFFIC_TCP_IDLE" >"$snd" 2>&1 || true
	# A sender that succeeded has the receiver's answer, so the receiver is
	# done; one that gave up leaves it waiting for data: stop it (it reports).
	for _ in $(seq 20); do
		kill -0 "$rcv_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill "$rcv_pid" 2>/dev/null || true
	wait "$rcv_pid" 2>/dev/null || true
	traffic_csum_delta tcp "$src" "$cb" "$(traffic_csum "$src")"
	traffic_csum_delta tcp "$dst" "$db" "$(traffic_csum "$dst")"
	out=$("$TRAFFIC_PY" - "$snd" "$res" <<-'EOF'
	import json, sys
	def load(path):
	    try:
	        with open(path) as f:
	            return json.loads(f.read().strip().splitlines()[-1])
	    except Exception:
	        return {"error": "no result from the " + ("sender" if "send" in path else "receiver")}
	snd, rcv = load(sys.argv[1]), load(sys.argv[2])
	want = rcv.get("expected")
	ok = snd.get("acknowledged") == want and rcv.get("intact") == want == rcv.get("received")
	line = (f"received {rcv.get('received', 0)} bytes, {rcv.get('intact', 0)} intact, of {want}"
	        f" ({snd.get('gbit_s', 0)} Gbit/s)")
	if rcv.get("first_bad") is not None:
	    line += f"; first wrong byte at {rcv['first_bad']}"
	for side, r in (("sender", snd), ("receiver", rcv)):
	    if r.get("error"):
	        line += f"; {side}: {r['error']}"
	print(int(ok), line)
	EOF
	)
	TR_OK=${out%% *}
	TR_DETAIL=${out#* }
}

# traffic_iperf_run SRC DST ADDR: iperf3 client in SRC sends
# TRAFFIC_TCP_BYTES (-n) to the server at ADDR in DST. iperf3 only counts
# at the server until the client says the test is over, so data still in
# flight then is not counted (esnet/iperf#382): what iperf3 can assert is
# that the transfer completes, without error, and moves data; exactness is
# traffic_tcp_run's.
traffic_iperf_run() {
	local src=$1 dst=$2 addr=$3 port=$((TRAFFIC_PORT++)) srv_pid out
	local cli_json=$TMP/iperf-$port-client.json srv_json=$TMP/iperf-$port-server.json
	TR_OK=0 TR_DETAIL=''
	timeout "$TRAFFIC_TIMEOUT" ip netns exec "$dst" iperf3 -s -1 -J -p "$port" >"$srv_json" 2>&1 &
	srv_pid=$!
	traffic_wait_listen "$dst" "$port" || true
	timeout "$TRAFFIC_TIMEOUT" ip netns exec "$src" iperf3 -c "$addr" -p "$port" -J \
		-n "$TRAFFIC_TCP_BYTES" --connect-timeout "$((TRAFFIC_TCP_IDLE * 1000))" --snd-timeout "$((TRAFFIC_TCP_IDLE * 1000))" \
		>"$cli_json" 2>&1 || true
	# The server ends by itself once the client is done; one that never saw
	# the client (black hole) is stopped.
	for _ in $(seq 40); do
		kill -0 "$srv_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill "$srv_pid" 2>/dev/null || true
	wait "$srv_pid" 2>/dev/null || true
	out=$("$TRAFFIC_PY" - "$cli_json" "$srv_json" "$TRAFFIC_TCP_BYTES" <<-'EOF'
	import json, sys
	def load(path):
	    try:
	        with open(path) as f:
	            return json.load(f)
	    except Exception:
	        return {"error": "no iperf3 JSON from the " + ("client" if "client" in path else "server")}
	cli, srv, want = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
	sent = cli.get("end", {}).get("sum_sent", {}).get("bytes", 0)
	got = srv.get("end", {}).get("sum_received", {}).get("bytes", 0)
	secs = srv.get("end", {}).get("sum_received", {}).get("seconds", 0) or 0
	err = cli.get("error") or srv.get("error") or ""
	ok = not err and sent >= want and 0 < got <= sent
	line = f"client sent {sent} of {want}, server counted {got}"
	if secs and got:
	    line += f", {got * 8 / secs / 1e9:.2f} Gbit/s"
	print(int(ok), line + (f"; iperf3: {err}" if err else ""))
	EOF
	)
	TR_OK=${out%% *}
	TR_DETAIL=${out#* }
}

# traffic_udp_run SRC DST ADDR [flow.py udp-send options]: TRAFFIC_UDP_COUNT
# datagrams from SRC to ADDR in DST.
traffic_udp_run() {
	local src=$1 dst=$2 addr=$3 port=$((TRAFFIC_PORT++)) rcv_pid cb db out maxlen
	local ready=$TMP/udp-$port.ready done=$TMP/udp-$port.done res=$TMP/udp-$port.json
	TR_OK=0 TR_CSUM=0 TR_CSUM_DETAIL='' TR_DETAIL=''
	if [[ $(traffic_family "$addr") == v6 ]]; then maxlen=$((TRAFFIC_MTU - 48)); else maxlen=$((TRAFFIC_MTU - 28)); fi
	cb=$(traffic_csum "$src") db=$(traffic_csum "$dst")
	timeout "$TRAFFIC_TIMEOUT" ip netns exec "$dst" "$TRAFFIC_PY" "$TRAFFIC_DIR/flow.py" udp-recv \
		"$addr" "$port" "$TRAFFIC_UDP_COUNT" "$maxlen" "$ready" "$done" >"$res" 2>&1 &
	rcv_pid=$!
	for _ in $(seq 100); do
		[[ -e $ready ]] && break
		sleep 0.05
	done
	timeout "$TRAFFIC_TIMEOUT" ip netns exec "$src" "$TRAFFIC_PY" "$TRAFFIC_DIR/flow.py" udp-send \
		"$addr" "$port" "$TRAFFIC_UDP_COUNT" "$maxlen" "${@:4}" >"$TMP/udp-$port.send" 2>&1 ||
		TR_DETAIL="sender failed: $(tail -n 1 "$TMP/udp-$port.send"); "
	touch "$done"
	wait "$rcv_pid" 2>/dev/null || true
	traffic_csum_delta udp "$src" "$cb" "$(traffic_csum "$src")"
	traffic_csum_delta udp "$dst" "$db" "$(traffic_csum "$dst")"
	out=$("$TRAFFIC_PY" -c '
import json, sys
try:
    r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
except Exception:
    print("0 no result from the receiver")
    sys.exit()
n, want, bad, dup, miss = (r[k] for k in ("received", "expected", "wrong", "duplicates", "missing_first"))
ok = n == want and not bad and not dup
print(f"{int(ok)} received {n} of {want} intact, {bad} wrong, {dup} duplicated"
      + (f"; missing {miss}..." if miss else ""))
' "$res")
	[[ -z $TR_DETAIL ]] || out="0 $TR_DETAIL${out#* }"
	TR_OK=${out%% *}
	TR_DETAIL=${out#* }
}

# traffic_verdict WHAT: the verdict of the last run.
traffic_verdict() {
	log_test "$((TR_OK != 1))" "$1" "$TR_DETAIL"
	[[ $TR_OK == 1 && -n ${TRAFFIC_VERBOSE:-} ]] && echo "        $TR_DETAIL"
	return 0
}
traffic_csum_verdict() {
	log_test "$((TR_CSUM != 0))" "$1: no checksum errors at either end" "$TR_CSUM_DETAIL"
}

traffic_tcp() { # SRC DST ADDR [LABEL]
	local what csum=0 detail=''
	what="${4:+$4 }TCP $(traffic_family "$3") $(traffic_name "$1") -> $(traffic_name "$2")"
	traffic_tcp_run "$1" "$2" "$3"
	csum=$TR_CSUM detail=$TR_CSUM_DETAIL
	traffic_verdict "$what: $TRAFFIC_TCP_BYTES bytes arrive intact"
	# iperf3 only where the path carries TCP at all (a black hole would
	# only cost another timeout); its checksum counters count too.
	local cb db
	cb=$(traffic_csum "$1") db=$(traffic_csum "$2")
	if [[ $TR_OK == 1 ]]; then
		traffic_iperf_run "$1" "$2" "$3"
	else
		TR_DETAIL="not run: the transfer before it failed"
	fi
	traffic_verdict "$what: iperf3 -n completes"
	TR_CSUM=$csum TR_CSUM_DETAIL=$detail
	traffic_csum_delta tcp "$1" "$cb" "$(traffic_csum "$1")"
	traffic_csum_delta tcp "$2" "$db" "$(traffic_csum "$2")"
	traffic_csum_verdict "$what"
}

traffic_udp() { # SRC DST ADDR [LABEL [flow.py udp-send options]]
	local what
	what="${4:+$4 }UDP $(traffic_family "$3") $(traffic_name "$1") -> $(traffic_name "$2")"
	traffic_udp_run "$1" "$2" "$3" "${@:5}"
	traffic_verdict "$what: $TRAFFIC_UDP_COUNT datagrams arrive intact"
	traffic_csum_verdict "$what"
}

# traffic_both_ways NSA ADDR6A ADDR4A NSB ADDR6B ADDR4B [LABEL]
traffic_both_ways() {
	local a=$1 a6=$2 a4=$3 b=$4 b6=$5 b4=$6 label=${7:-}
	traffic_tcp "$a" "$b" "$b6" "$label"
	traffic_tcp "$a" "$b" "$b4" "$label"
	traffic_tcp "$b" "$a" "$a6" "$label"
	traffic_tcp "$b" "$a" "$a4" "$label"
	traffic_udp "$a" "$b" "$b6" "$label"
	traffic_udp "$a" "$b" "$b4" "$label"
	traffic_udp "$b" "$a" "$a6" "$label"
	traffic_udp "$b" "$a" "$a4" "$label"
}

# traffic_gro NS on|off: GRO on every veth of NS (TC then sees GSO packets).
traffic_gro() {
	local dev
	for dev in $(nsx "$1" ls /sys/class/net); do
		[[ $dev == lo ]] && continue
		nsx "$1" ethtool -K "$dev" gro "$2"
	done
}

# xdp_obj_attach NS DEV native|generic OBJ PROGRAM: one of the tests' own
# XDP programs (xdp_fwd.bpf.o), loaded by iproute2; xdp_obj_detach NS DEV.
xdp_obj_attach() {
	local how=xdpdrv
	[[ $3 == generic ]] && how=xdpgeneric
	ip -n "$1" link set dev "$2" "$how" obj "$4" program "$5"
}
xdp_obj_detach() {
	ip -n "$1" link set dev "$2" xdpdrv off 2>/dev/null || true
	ip -n "$1" link set dev "$2" xdpgeneric off 2>/dev/null || true
}

# xdp_obj_count NS DEV redirected|passed: the counter of the program on DEV.
xdp_obj_count() {
	local id map idx=0
	[[ $3 == passed ]] && idx=1
	id=$(ip -n "$1" -j link show dev "$2" | "$TRAFFIC_PY" -c '
import json, sys
x = json.load(sys.stdin)[0].get("xdp", {})
print(x.get("prog", {}).get("id") or next((p["id"] for p in x.get("attached", []) if "id" in p), 0))')
	[[ $id != 0 ]] || { echo 0; return; }
	map=$(bpftool -j prog show id "$id" | "$TRAFFIC_PY" -c 'import json, sys; print(json.load(sys.stdin)["map_ids"][0])')
	bpftool -j map lookup id "$map" key "$idx" 0 0 0 | "$TRAFFIC_PY" -c '
import json, sys
print(sum(v["value"] for v in json.load(sys.stdin)["formatted"]["values"]))'
}
