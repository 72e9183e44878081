#!/bin/bash
# srv6ctl -b FILE: a batch is applied whole or not at all, and a refusal
# names the line. Runs in a network namespace of its own.
set -euo pipefail
SRV6CTL=$1
NS=srv6batch-$$
TMP=$(mktemp -d)
cleanup() {
	"$SRV6CTL" -n "$NS" instance del --all 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip netns add "$NS"
fail() { echo "FAIL: $*"; exit 1; }

"$SRV6CTL" -n "$NS" sid add fc00::1 action End
cat > "$TMP/bad" <<'CMDS'
# three good lines, then a SID that exists
sid add fc00::2 action End
policy add 10.0.0.0/8 encap segs fc00::2
sid add fc00::3 action End.T table 10
sid add fc00::1 action End
CMDS
if "$SRV6CTL" -n "$NS" -b "$TMP/bad" 2>"$TMP/err"; then fail "a bad batch was accepted"; fi
grep -q "line 5: SID fc00::1/128 exists" "$TMP/err" || fail "no line number: $(cat "$TMP/err")"
[[ $("$SRV6CTL" -j -n "$NS" sid show) == '[{"sid":"fc00::1/128","action":"End"}]' ]] || fail "a refused batch changed the SIDs"
[[ $("$SRV6CTL" -j -n "$NS" policy show) == '[]' ]] || fail "a refused batch changed the policies"

# a parse error refuses the batch too, before anything is read from the maps
printf 'sid add fc00::2 action End\nsid add fc00::4 action Nope\n' > "$TMP/bad2"
if "$SRV6CTL" -n "$NS" -b "$TMP/bad2" 2>"$TMP/err"; then fail "a batch with a bad line was accepted"; fi
grep -q "line 2: sid add: unknown action Nope" "$TMP/err" || fail "no line number: $(cat "$TMP/err")"

head -n 4 "$TMP/bad" | "$SRV6CTL" -n "$NS" -b - || fail "a good batch from stdin was refused"
[[ $("$SRV6CTL" -j -n "$NS" sid show | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == 3 ]] || fail "not 3 SIDs"
[[ $("$SRV6CTL" -j -n "$NS" policy show | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == 1 ]] || fail "not 1 policy"
# Every refusal names its line and changes nothing; the first refused line
# wins, whatever is wrong with later ones.
sids() { "$SRV6CTL" -j -n "$NS" sid show; }
policies() { "$SRV6CTL" -j -n "$NS" policy show; }
refused() {  # refused NEEDLE: the batch on stdin is refused with NEEDLE, nothing changed
	local before_s before_p
	before_s=$(sids); before_p=$(policies)
	if "$SRV6CTL" -n "$NS" -b - 2>"$TMP/err"; then fail "accepted, expected: $1"; fi
	grep -qF "$1" "$TMP/err" || fail "expected \"$1\", got: $(cat "$TMP/err")"
	[[ $(sids) == "$before_s" && $(policies) == "$before_p" ]] || fail "a refused batch changed the tables ($1)"
}
printf 'sid add fc00::5 action End\nsid add fc00::5 action End.T table 3\n' | refused "line 2: SID fc00::5/128 exists"
printf 'sid add fc00::5 action End\nsid del fc00::77\nsid add fc00::5 action End\n' | refused "line 2: SID fc00::77/128 not found"
printf 'sid add fc00::5 action End\nsid add fc00::5 action End\nsid del fc00::77\n' | refused "line 2: SID fc00::5/128 exists"
printf 'sid del fc00::2\nsid del fc00::2\n' | refused "line 2: SID fc00::2/128 not found"
printf 'sid del fc00::2\nsid add fc00::6 action End\nsid add fc00::1 action End\n' | refused "line 3: SID fc00::1/128 exists"
printf 'sid add fc00::6 action End\nsid add fc00::7 action End.X nh6 fc00::9 oif nosuchdev0\n' | refused "line 2: device nosuchdev0 not found"
printf 'sid add fc00::6 action End\nsid add fc00::8 action End.X nh6 ff02::1\n' | refused "line 2: sid add: End.X: nh6 ff02::1 must not be multicast"
printf 'policy add 10.0.0.0/8 encap segs fc00::3\n' | refused "line 1: policy 10.0.0.0/8 exists"
printf 'policy del 10.0.0.0/16\n' | refused "line 1: policy 10.0.0.0/16 not found"
# only deletions (the tables are asked key by key, not read whole)
printf 'sid del fc00::3\nsid del fc00::4\n' | refused "line 2: SID fc00::4/128 not found"
[[ $(sids) == *'"sid":"fc00::3/128","action":"End.T","table":10'* ]] || fail "a refused deletion lost an entry: $(sids)"

# Within one batch: delete then add again, add then delete.
printf 'sid del fc00::3\nsid add fc00::3 action End.T table 7\nsid add fc00::9 action End\nsid del fc00::9\n' |
	"$SRV6CTL" -n "$NS" -b - || fail "delete-then-add was refused"
[[ $(sids) == '[{"sid":"fc00::1/128","action":"End"},{"sid":"fc00::2/128","action":"End"},{"sid":"fc00::3/128","action":"End.T","table":7}]' ]] ||
	fail "delete-then-add: $(sids)"

# LPM tables: a key is there only if it is there exactly. A locator does not
# make the SIDs inside it exist, nor does a covering policy prefix.
printf 'sid add fc00:1::/48 action End\nsid add fc00:1::1 action End\n' | "$SRV6CTL" -n "$NS" -b - ||
	fail "a SID inside a locator was refused: $(cat "$TMP/err")"
"$SRV6CTL" -n "$NS" sid add fc00:1::2 action End || fail "a SID inside a locator was refused (one command)"
printf 'sid del fc00:1::3\n' | refused "line 1: SID fc00:1::3/128 not found"
printf 'sid add fc00::/16 action End\n' | "$SRV6CTL" -n "$NS" -b - || fail "a locator over SIDs was refused"
printf 'policy add 10.1.0.0/16 encap segs fc00::2\npolicy add 2001:db8::/32 encap segs fc00::2\n' |
	"$SRV6CTL" -n "$NS" -b - || fail "a prefix inside a policy's was refused"
printf 'policy del 2001:db8:1::/48\n' | refused "line 1: policy 2001:db8:1::/48 not found"
printf 'sid del fc00:1::1\nsid del fc00:1::/48\nsid del fc00::/16\nsid del fc00:1::2\npolicy del 10.1.0.0/16\n' |
	"$SRV6CTL" -n "$NS" -b - || fail "deleting exact keys under prefixes was refused"
[[ $(sids | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == 3 ]] || fail "not 3 SIDs: $(sids)"

# Standard input from a file, part of it read already: the batch starts there.
printf 'sid add fc00::41 action End\nsid add fc00::42 action End\n' > "$TMP/offset"
{ read -r _; "$SRV6CTL" -n "$NS" -b -; } < "$TMP/offset" || fail "a batch from a partly read stdin was refused"
[[ $(sids) == *fc00::42/128* && $(sids) != *fc00::41/128* ]] || fail "partly read stdin: $(sids)"
: > "$TMP/empty"
"$SRV6CTL" -n "$NS" -b "$TMP/empty" || fail "an empty batch was refused"
if "$SRV6CTL" -n "$NS" -b "$TMP/nonexistent" 2>"$TMP/err"; then fail "a missing file was accepted"; fi
grep -q "cannot read $TMP/nonexistent" "$TMP/err" || fail "missing file: $(cat "$TMP/err")"

# A full table: the line that does not fit is named. Then batches larger
# than one batch map operation (4096), in and out.
NS2=$NS-cap
cleanup2() { "$SRV6CTL" -n "$NS2" instance del --all 2>/dev/null || true; ip netns del "$NS2" 2>/dev/null || true; cleanup; }
trap cleanup2 EXIT
ip netns add "$NS2"
"$SRV6CTL" -n "$NS2" --capacity 6000 sid add fc00:ffff::1 action End
seq 1 6000 | awk '{ printf "sid add fc00:%x::%x action End\n", int($1 / 65536) + 1, $1 % 65536 }' > "$TMP/6000"
NS_SAVE=$NS; NS=$NS2
refused "line 6000: SID fc00:1::1770/128: table full" < "$TMP/6000"
head -n 5999 "$TMP/6000" | "$SRV6CTL" -n "$NS2" -b - || fail "5999 SIDs in a table of 6000 were refused"
[[ $(sids | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') == 6000 ]] || fail "not 6000 SIDs"
head -n 5999 "$TMP/6000" | sed 's/ add \(.*\) action End/ del \1/' | "$SRV6CTL" -n "$NS2" -b - || fail "deleting 5999 SIDs was refused"
[[ $(sids) == '[{"sid":"fc00:ffff::1/128","action":"End"}]' ]] || fail "left after deleting: $(sids)"
NS=$NS_SAVE

echo "PASS: srv6ctl -b"
