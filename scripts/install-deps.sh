#!/usr/bin/env bash
# Installs every build, test and demo dependency from Debian 12 (bookworm) packages.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git
  clang llvm libclang-rt-14-dev libelf-dev zlib1g-dev
  libbpf-dev libxdp-dev xdp-tools bpftool linux-libc-dev libmnl-dev
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libboost-dev
  iproute2 iputils-ping ethtool tcpdump iperf3 python3 python3-scapy python3-matplotlib util-linux procps kmod
  qemu-system-x86 busybox-static cpio   # tests/vm: the kernel oracle where this kernel lacks seg6
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# bpffs: the loader pins maps under /sys/fs/bpf/srv6.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
