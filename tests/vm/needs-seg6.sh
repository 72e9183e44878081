#!/usr/bin/env bash
# Runs CMD when this kernel has the seg6/seg6local lwtunnels; else says why
# and exits 77 (ctest: SKIP_RETURN_CODE). For the tests that put the kernel's
# SRv6 beside our datapath in one topology: the test VM (run.sh) cannot host
# them, since its kernel (Debian's 6.1) cannot load our programs
# (bpf_cast_to_kern_ctx came in 6.2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if "$here/has-seg6.sh"; then exec "$@"; fi
echo "SKIPPED: kernel $(uname -r) has no seg6/seg6local (CONFIG_IPV6_SEG6_LWTUNNEL unset);" \
	"this test puts the kernel's SRv6 beside our datapath and needs both on one kernel" >&2
exit 77
