#!/usr/bin/env bash
# Runs CMD when this kernel has the seg6/seg6local lwtunnels; else says why
# and exits 77 (ctest: SKIP_RETURN_CODE). For the tests that put the kernel's
# SRv6 beside our datapath in one topology. The test VM (run.sh, Debian's
# 6.12) loads our programs, but does not host them yet: under software
# emulation the namespace tests run out of time (pmtud and veth_peer, run
# there: over 120 s), and the diff harness, which takes 6 minutes there, finds 6.12's
# SRv6 different from 6.18's in 191 of its 2093 cases (End.X to a link-local
# next hop dropped, an ICMP error for a truncated End.DT6 packet, and the
# TCP socket cases: the harness's check that they exercised offload fails).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if "$here/has-seg6.sh"; then exec "$@"; fi
echo "SKIPPED: kernel $(uname -r) has no seg6/seg6local (CONFIG_IPV6_SEG6_LWTUNNEL unset);" \
	"this test puts the kernel's SRv6 beside our datapath and needs both on one kernel" >&2
exit 77
