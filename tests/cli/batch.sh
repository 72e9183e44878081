#!/bin/bash
# srv6ctl -b FILE: a batch is applied whole or not at all, and a refusal
# names the line. Runs in a network namespace of its own.
set -euo pipefail
SRV6CTL=$1
NS=srv6batch-$$
TMP=$(mktemp -d)
cleanup() {
	ino=$(stat -L -c %i "/run/netns/$NS" 2>/dev/null) && rm -rf "/sys/fs/bpf/srv6/net$ino"
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
echo "PASS: srv6ctl -b"
