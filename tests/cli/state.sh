#!/bin/bash
# An instance's state never leaks or tears (issue 8):
#  1. reading commands on a missing instance say so and create nothing;
#  2. pins are keyed by the netns cookie: a namespace that gets a dead
#     one's inode starts empty, and the dead one's pins are collected;
#  3. `instance list|add|del`;
#  4. missing pins are an error naming them; a device left running a
#     datapath whose pins are gone is found, and `detach` takes it off;
#  5. writers take the instance's lock: a waiting writer says what it waits
#     for; two concurrent batches of 20,000 SIDs lose nothing and share no
#     counter slot;
#  6. a batch of 10^5 SIDs killed (SIGKILL, SIGINT, SIGTERM) at random
#     points leaves the tables before or after it, never between;
#  7. an instance owns its devices: another instance's attach and detach
#     are refused and change nothing; a failed attach leaves the previous
#     attachment as it was.
# usage: state.sh SRV6CTL
set -euo pipefail
SRV6CTL=$1
P=srv6state-$$
PY=/usr/bin/python3
TMP=$(mktemp -d)
NSS=()
cleanup() {
	local ns
	for ns in "${NSS[@]}"; do
		[[ -e /run/netns/$ns ]] || continue
		"$SRV6CTL" -n "$ns" instance del --all 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
fail() { echo "FAIL: $*"; exit 1; }
mkns() { ip netns add "$1"; NSS+=("$1"); }
ctl() { "$SRV6CTL" "$@"; }
count() {  # count NS [INSTANCE]: SIDs of the instance
	ctl -j -n "$1" --instance "${2:-default}" sid show | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
dir_of() {  # dir_of NS [INSTANCE]: its pin directory, from `instance list`
	ctl -j -n "$1" instance list | $PY -c '
import json, sys
d = [x["dir"] for x in json.load(sys.stdin) if x["this_netns"] and x["name"] == sys.argv[1]]
print(d[0] if d else "")' "${2:-default}"
}
ns_dirs() { ls /sys/fs/bpf/srv6 2>/dev/null | sort; }

echo "1. reading commands on a missing instance"
A=$P-a
mkns "$A"
before=$(ns_dirs)
for cmd in "sid show" "policy show" "stats" "stats reset" "sid del fc00::1" "policy del 10.0.0.0/8"; do
	# shellcheck disable=SC2086
	if ctl -n "$A" $cmd 2>"$TMP/err"; then fail "'$cmd' on no instance exited 0"; fi
	grep -q "no instance 'default' in this network namespace" "$TMP/err" || fail "'$cmd': $(cat "$TMP/err")"
done
# (dead namespaces' pins may go meanwhile: nothing may come)
new=$(comm -13 <(echo "$before") <(ns_dirs))
[[ -z $new ]] || fail "a reading command created pins: $new"
[[ $(ctl -j -n "$A" instance list | $PY -c 'import json,sys; print(sum(x["this_netns"] for x in json.load(sys.stdin)))') == 0 ]] ||
	fail "instance list shows an instance in a fresh namespace"

echo "2. a namespace with a dead one's inode starts empty"
B=$P-b
mkns "$B"
ctl -n "$B" sid add fc00:b::1 action End
ctl -n "$B" policy add 10.9.0.0/16 encap segs fc00:b::1
dead=$(dir_of "$B")
ino=$(stat -L -c %i "/run/netns/$B")
ip netns del "$B"
reused=0
for i in $(seq 600); do
	ip netns add "$B"
	if [[ $(stat -L -c %i "/run/netns/$B") == "$ino" ]]; then reused=$i; break; fi
	ip netns del "$B"
	sleep 0.05
done
[[ $reused != 0 ]] || fail "the kernel did not hand out inode $ino again in 600 namespaces"
echo "   inode $ino again after $reused namespace(s)"
if ctl -n "$B" sid show 2>"$TMP/err"; then fail "the new namespace sees an instance"; fi
grep -q "no instance 'default'" "$TMP/err" || fail "$(cat "$TMP/err")"
ctl -n "$B" instance list >/dev/null   # collects the dead namespace's pins
[[ ! -e $dead ]] || fail "the dead namespace's pins $dead are still there"
ctl -n "$B" sid add fc00:b::2 action End
[[ $(ctl -j -n "$B" sid show) == '[{"sid":"fc00:b::2/128","action":"End"}]' ]] || fail "the new instance is not new"
[[ $(ctl -j -n "$B" policy show) == '[]' ]] || fail "the new instance has the dead one's policies"
[[ $(dir_of "$B") != "$dead" ]] || fail "the new namespace reuses the dead one's pin directory"

echo "3. instance add, list, del"
ctl -n "$A" instance add blue
ctl -n "$A" --capacity 100 instance add red
if ctl -n "$A" instance add blue 2>"$TMP/err"; then fail "instance add of an existing one exited 0"; fi
grep -q "instance 'blue' exists" "$TMP/err" || fail "$(cat "$TMP/err")"
if ctl -n "$A" instance add 'a.b' 2>"$TMP/err"; then fail "a dotted instance name was accepted"; fi
ctl -n "$A" --instance blue sid add fc00:a::1 action End
ctl -n "$A" instance list > "$TMP/list"
grep -qE '^blue +this \(ns[0-9]+\) +1 +0 ' "$TMP/list" || fail "instance list: $(cat "$TMP/list")"
grep -qE '^red +this' "$TMP/list" || fail "instance list: $(cat "$TMP/list")"
[[ $(count "$A" red) == 0 ]] || fail "red is not empty"
ctl -n "$A" instance del red
[[ -z $(dir_of "$A" red) ]] || fail "instance del left red"
if ctl -n "$A" instance del red 2>"$TMP/err"; then fail "instance del of a missing one exited 0"; fi
if ctl -n "$A" --instance red sid show 2>/dev/null; then fail "red is still there"; fi

echo "4. missing pins"
d=$(dir_of "$A" blue)
mv "$d/sids" "$d/../sids~moved"
if ctl -n "$A" --instance blue sid show 2>"$TMP/err"; then fail "sid show with a missing pin exited 0"; fi
grep -q "instance .blue. ($d) is missing its pins sids" "$TMP/err" || fail "the error does not name the missing pin: $(cat "$TMP/err")"
if ctl -n "$A" --instance blue sid add fc00:a::2 action End 2>/dev/null; then fail "sid add with a missing pin exited 0"; fi
[[ ! -e $d/sids ]] || fail "a command re-created the missing pin"
mv "$d/../sids~moved" "$d/sids"
[[ $(count "$A" blue) == 1 ]] || fail "the instance is not back whole"
# A device that runs a datapath whose instance's pins are gone
ip -n "$A" link add o0 type veth peer name o1
ip -n "$A" link set o0 up; ip -n "$A" link set o1 up
ctl -n "$A" --instance green attach o0 tc
gd=$(dir_of "$A" green)
mv "$gd" "$gd~moved"   # as a cleanup that took the wrong directory would
if ctl -n "$A" --instance green sid show 2>"$TMP/err"; then fail "sid show on moved pins exited 0"; fi
if ctl -n "$A" --instance green sid add fc00:a::3 action End 2>"$TMP/err"; then
	fail "a fresh instance was made while o0 runs the orphaned datapath"
fi
grep -q "o0 run.* whose instance's pins are gone" "$TMP/err" || fail "no orphan named: $(cat "$TMP/err")"
[[ -z $(dir_of "$A" green) ]] || fail "a refused command left pins"
ctl -n "$A" --instance green detach o0 2>"$TMP/err" || fail "detach of the orphan: $(cat "$TMP/err")"
[[ -z $(tc -n "$A" filter show dev o0 ingress) ]] || fail "the orphan's TC filter stays"
rm -rf "$gd~moved"

echo "5. writers take the lock"
W=$P-w
mkns "$W"
ctl -n "$W" --capacity 50000 instance add default
wd=$(dir_of "$W")
flock "$wd" sleep 1.5 &
holder=$!
sleep 0.2
ctl -n "$W" sid add fc00:ff::1 action End 2>"$TMP/err"
wait "$holder"
grep -q "waiting for instance 'default': pid $holder (sleep" "$TMP/err" ||
	grep -q "waiting for instance 'default': pid [0-9]* (flock" "$TMP/err" ||
	fail "the waiting writer did not say what it waits for: $(cat "$TMP/err")"
ctl -n "$W" sid del fc00:ff::1
for w in 1 2; do
	seq 0 19999 | awk -v w="$w" '{ printf "sid add fc00:%x:%x::%x action End\n", w, int($1 / 65536), $1 % 65536 }' > "$TMP/w$w"
done
ctl -n "$W" -b "$TMP/w1" 2>"$TMP/e1" & p1=$!
ctl -n "$W" -b "$TMP/w2" 2>"$TMP/e2" & p2=$!
r1=0; r2=0
wait "$p1" || r1=$?
wait "$p2" || r2=$?
[[ $r1 == 0 && $r2 == 0 ]] || fail "concurrent batches: $r1 $(cat "$TMP/e1") / $r2 $(cat "$TMP/e2")"
[[ $(count "$W") == 40000 ]] || fail "two batches of 20000: $(count "$W") SIDs"
# every SID its own counter slot (srv6_sid_entry.stats_idx, bytes 4-7)
bpftool -j map dump pinned "$wd/sids" | $PY -c '
import json, sys
slots = [int.from_bytes(bytes(int(b, 16) for b in e["value"][4:8]), "little") for e in json.load(sys.stdin)]
dup = len(slots) - len(set(slots))
print(f"   {len(slots)} SIDs on {len(set(slots))} counter slots")
sys.exit(1 if dup or len(slots) != 40000 else 0)' || fail "SIDs share counter slots"

echo "6. a killed batch leaves the tables before or after it"
K=$P-k
mkns "$K"
ctl -n "$K" --capacity 200000 instance add default
seq 0 99999 | awk '{ printf "sid add fc00:%x:%x::e action End\n", int($1 / 65536) + 1, $1 % 65536 }' > "$TMP/big"
seq 0 99999 | awk '{ printf "sid del fc00:%x:%x::e\n", int($1 / 65536) + 1, $1 % 65536 }' > "$TMP/bigdel"
start=$(date +%s%N)
ctl -n "$K" -b "$TMP/big"
full_ms=$((($(date +%s%N) - start) / 1000000))
ctl -n "$K" -b "$TMP/bigdel"
echo "   the batch takes ${full_ms} ms"
seen_before=0; seen_after=0
for round in $(seq 12); do
	sig=$(((round % 3 == 0) ? 15 : (round % 3 == 1) ? 9 : 2))
	"$SRV6CTL" -n "$K" -b "$TMP/big" 2>/dev/null &   # no subshell: the signal reaches srv6ctl
	pid=$!
	sleep "$(awk -v r=$RANDOM -v m="$full_ms" 'BEGIN { printf "%.3f", r / 32768 * (m + 50) / 1000 }')"
	kill -"$sig" "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	n=$(count "$K" 2>/dev/null)   # the next command rolls an interrupted batch back
	case $n in
	0) seen_before=$((seen_before + 1)) ;;
	100000) seen_after=$((seen_after + 1)); ctl -n "$K" -b "$TMP/bigdel" ;;
	*) fail "signal $sig at a random point left $n of 100000 SIDs" ;;
	esac
done
echo "   12 kills at random points: $seen_before left it before, $seen_after after"
# SIGKILL while the maps are being written (the journal is pinned then)
kd=$(dir_of "$K")
rolled=0
for round in 1 2 3; do
	"$SRV6CTL" -n "$K" -b "$TMP/big" 2>/dev/null &   # no subshell: the signal reaches srv6ctl
	pid=$!
	while [[ ! -e $kd/journal ]] && kill -0 "$pid" 2>/dev/null; do :; done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[[ -e $kd/journal ]] && rolled=$((rolled + 1))
	n=$(count "$K")
	[[ ! -e $kd/journal ]] || fail "reading the instance left the journal"
	case $n in
	0) ;;
	100000) ctl -n "$K" -b "$TMP/bigdel" ;;
	*) fail "SIGKILL while writing left $n of 100000 SIDs" ;;
	esac
done
[[ $rolled -gt 0 ]] || fail "no SIGKILL landed while the maps were written"
echo "   $rolled SIGKILL(s) while writing: rolled back by the next command"
ctl -n "$K" -b "$TMP/big" || fail "the batch after the kills was refused"
[[ $(count "$K") == 100000 ]] || fail "the batch after the kills: $(count "$K") SIDs"

echo "7. an instance owns its devices"
O=$P-o
mkns "$O"
ip -n "$O" link add v0 type veth peer name v1
ip -n "$O" link add br0 type bridge
for dev in v0 v1 br0; do ip -n "$O" link set "$dev" up; done
xdp_id() { ip -n "$O" -j link show dev "$1" | $PY -c 'import json,sys; l=json.load(sys.stdin)[0]; print(l.get("xdp", {}).get("prog", {}).get("id", 0))'; }
tc_ids() { tc -n "$O" filter show dev "$1" ingress | grep -o 'id [0-9]*' | sort; }
ctl -n "$O" attach v0 xdp
ctl -n "$O" --instance other sid add fc00:0:1::1 action End
x0=$(xdp_id v0); t0=$(tc_ids v0)
[[ $x0 != 0 && -n $t0 ]] || fail "attach v0 xdp: XDP $x0, TC '$t0'"
if ctl -n "$O" --instance other detach v0 2>"$TMP/err"; then fail "another instance's detach exited 0"; fi
grep -q "v0 is attached to instance 'default', not 'other'" "$TMP/err" || fail "$(cat "$TMP/err")"
if ctl -n "$O" --instance other attach v0 tc 2>"$TMP/err"; then fail "another instance's attach exited 0"; fi
grep -q "v0 is attached to instance 'default'" "$TMP/err" || fail "$(cat "$TMP/err")"
[[ $(xdp_id v0) == "$x0" && $(tc_ids v0) == "$t0" ]] || fail "a refused command changed v0's programs"
# the same instance replaces its program in place (XDP_FLAGS_REPLACE)
ctl -n "$O" attach v0 xdp
[[ $(xdp_id v0) != 0 && -n $(tc_ids v0) ]] || fail "re-attach left v0 without its programs"
ctl -n "$O" attach br0 xdp
xb=$(xdp_id br0); tb=$(tc_ids br0)
[[ $xb != 0 && -n $tb ]] || fail "attach br0 xdp: XDP $xb, TC '$tb'"
if ctl -n "$O" attach br0 xdp mode native 2>"$TMP/err"; then fail "native XDP on a bridge exited 0"; fi
grep -q "previous attachment\|has no native XDP" "$TMP/err" || fail "$(cat "$TMP/err")"
[[ $(xdp_id br0) == "$xb" && $(tc_ids br0) == "$tb" ]] || fail "a failed attach changed br0: XDP $(xdp_id br0), TC '$(tc_ids br0)'"
ip -n "$O" -d link show dev br0 | grep -q "xdpgeneric" || fail "br0 lost its generic XDP"
ctl -n "$O" detach br0
ctl -n "$O" detach v0
[[ $(xdp_id v0) == 0 && -z $(tc_ids v0) ]] || fail "detach left programs on v0"
if ctl -n "$O" detach v0 2>/dev/null; then fail "detaching a bare device exited 0"; fi
echo "PASS"
