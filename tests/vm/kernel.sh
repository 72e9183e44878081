#!/usr/bin/env bash
# Fetches a Debian kernel and builds the initramfs that tests/vm/run.sh
# boots it with. Idempotent; prints the directory it made and the release.
# The kernel is linux-image-amd64 of bookworm-backports (SRV6_VM_SUITE):
# Debian's 6.12, which has seg6/seg6local, VRF and the 9p client as
# modules and is new enough for our BPF programs (bookworm's own 6.1 lacks
# kfuncs they call), so the guest runs the kernel and our datapath side by
# side. apt-get works on a state directory of its own under $dir: the
# host's sources and lists stay as they are.
# Needs apt-get (root), kmod, busybox-static and cpio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${SRV6_VM_DIR:-/var/cache/srv6-test-vm}
suite=${SRV6_VM_SUITE:-bookworm-backports}
mkdir -p "$dir/apt/lists/partial" "$dir/apt/archives/partial"
cd "$dir"
echo "deb http://deb.debian.org/debian $suite main" > apt/sources.list
apt=(-o Dir::Etc::SourceList="$dir/apt/sources.list" -o Dir::Etc::SourceParts=-
	-o Dir::State::Lists="$dir/apt/lists" -o Dir::Cache::Archives="$dir/apt/archives")
# a day-old index is good enough; a kernel already here is used as it is
if [[ -z $(find apt/lists -name '*Packages*' -mtime -1 2>/dev/null) ]]; then
	apt-get "${apt[@]}" -q update >/dev/null ||
		[[ -n $(find apt/lists -name '*Packages*') ]] ||
		{ echo "kernel.sh: apt-get update of $suite failed" >&2; exit 1; }
fi
# linux-image-amd64 names the suite's current image package
pkg=$(apt-cache "${apt[@]}" depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[[ -n $pkg ]] || { echo "kernel.sh: $suite has no linux-image-amd64" >&2; exit 1; }
rel=${pkg#linux-image-}
if [[ ! -f kernel/boot/vmlinuz-$rel ]]; then
	rm -rf kernel download && mkdir -p download
	(cd download && apt-get "${apt[@]}" download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
	deb=$(ls download/*.deb 2>/dev/null | head -1)
	[[ -n $deb ]] || { echo "kernel.sh: apt-get download $pkg failed" >&2; exit 1; }
	dpkg-deb -x "$deb" kernel.tmp
	depmod -b kernel.tmp "$rel"
	rm -rf download
	mv kernel.tmp kernel
fi
if [[ ! -f initrd-$rel.cpio.gz || $here/init -nt initrd-$rel.cpio.gz ]]; then
	rm -rf initrd.tmp && mkdir -p initrd.tmp/{bin,dev,proc,sys,newroot,modules}
	cp /bin/busybox initrd.tmp/bin/busybox
	for m in virtio_pci 9pnet_virtio 9p veth vrf; do
		modprobe -d kernel -S "$rel" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++' > initrd.tmp/modules/order
	while read -r ko; do cp "$ko" initrd.tmp/modules/; done < initrd.tmp/modules/order
	sed -i 's|.*/||' initrd.tmp/modules/order
	cp "$here/init" initrd.tmp/init
	chmod +x initrd.tmp/init
	(cd initrd.tmp && find . | cpio -o -H newc --quiet | gzip -1) > "initrd-$rel.cpio.gz.tmp"
	mv "initrd-$rel.cpio.gz.tmp" "initrd-$rel.cpio.gz"
	rm -rf initrd.tmp
fi
echo "$dir $rel"
