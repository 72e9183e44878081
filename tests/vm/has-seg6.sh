#!/usr/bin/env bash
# Exit 0 when this kernel has the seg6local lwtunnel (the tests' oracle).
set -euo pipefail
ns=srv6-seg6-probe-$$
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link set lo up
ip -n "$ns" -6 route add fc00::1/128 encap seg6local action End dev lo 2>/dev/null
