#!/usr/bin/env bash
# Runs a command inside a qemu guest that boots Debian's own kernel (the
# package linux-image-amd64 of bookworm-backports, 6.12: seg6/seg6local,
# VRF, and new enough for our BPF programs) on this machine's file
# system, for the tests whose oracle is the kernel's SRv6 when this host's
# kernel was built without it (CONFIG_IPV6_SEG6_LWTUNNEL unset).
#
#   tests/vm/run.sh [--if-no-seg6] CMD [ARG...]
#
# The guest sees the host's / (9p, read-write: build output lands where it
# would), with its own /run, bpffs and network namespaces; CMD runs in
# the current directory with this environment, its output on stdout, its exit
# code returned. --if-no-seg6: run CMD directly when this kernel has seg6.
# Software emulation by default (nested KVM hangs at boot on these
# machines); SRV6_VM_ACCEL=kvm where it works.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ ${1-} == --if-no-seg6 ]]; then
	shift
	if "$here/has-seg6.sh"; then exec "$@"; fi
fi
(($#)) || { echo "usage: $0 [--if-no-seg6] CMD [ARG...]" >&2; exit 2; }
accel=${SRV6_VM_ACCEL:-tcg}
[[ $accel != kvm || -c /dev/kvm ]] || { echo "run.sh: SRV6_VM_ACCEL=kvm but no /dev/kvm" >&2; exit 1; }
read -r dir rel < <("$here/kernel.sh")
job=$(mktemp -d /tmp/srv6-vm.XXXXXX)
trap 'rm -rf "$job"' EXIT
{
	export -p | grep -v -E '^declare -x (BASH_|SHLVL|OLDPWD|PWD|_=)'
	printf 'cd %q || exit 125\n' "$PWD"
	printf 'exec'; printf ' %q' "$@"; printf '\n'
} > "$job/cmd"
mem=${SRV6_VM_MEM:-2048}
timeout "${SRV6_VM_TIMEOUT:-1800}" qemu-system-x86_64 -machine q35,accel=$accel -cpu max \
	-smp "$(nproc)" -m "$mem" -nodefaults -no-user-config -display none -no-reboot \
	-kernel "$dir/kernel/boot/vmlinuz-$rel" -initrd "$dir/initrd-$rel.cpio.gz" \
	-append "console=ttyS0 quiet loglevel=1 panic=-1 srv6vm.job=$job srv6vm.modules=$dir/kernel/lib/modules/$rel" \
	-serial stdio -monitor none \
	-fsdev local,id=hostroot,path=/,security_model=passthrough,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-fsdev local,id=job,path="$job",security_model=passthrough \
	-device virtio-9p-pci,fsdev=job,mount_tag=job < /dev/null
[[ -f $job/rc ]] || { echo "run.sh: the test VM stopped without an exit code" >&2; exit 1; }
exit "$(cat "$job/rc")"
