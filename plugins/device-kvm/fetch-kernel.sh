#!/bin/sh
# fetch-kernel.sh places the test guest's kernel in the device-kvm asset
# cache: vmlinuz and e1000.ko from Debian's linux-image package (the
# kernel has e1000 as a module and no IP autoconfig; the tests build an
# initramfs that loads it). Idempotent: nothing is downloaded when both
# files are already there.
#
# Usage: fetch-kernel.sh [DIR]
#   DIR defaults to $CLOUDPHONE_KVM_ASSETS, else ~/.cache/cloudphone/kvm.
#   LINUX_IMAGE picks the package (default: the one linux-image-amd64
#   depends on, e.g. linux-image-6.1.0-56-amd64).
#
# Needs apt-get and dpkg-deb (Debian); the package registry must be
# reachable the first time.
set -eu

dir=${1:-${CLOUDPHONE_KVM_ASSETS:-${HOME}/.cache/cloudphone/kvm}}
mkdir -p "$dir"
if [ -s "$dir/vmlinuz" ] && [ -s "$dir/e1000.ko" ]; then
	echo "fetch-kernel: $dir already has vmlinuz and e1000.ko"
	exit 0
fi

pkg=${LINUX_IMAGE:-}
if [ -z "$pkg" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
fi
if [ -z "$pkg" ]; then
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
		cut -d' ' -f1 | sort -V | tail -n 1)
fi
if [ -z "$pkg" ]; then
	echo "fetch-kernel: no linux-image-*-amd64 package found (run apt-get update)" >&2
	exit 1
fi

work=$(mktemp -d)
chmod 755 "$work" # apt-get download runs as _apt
trap 'rm -rf "$work"' EXIT
echo "fetch-kernel: downloading $pkg"
(cd "$work" && apt-get download "$pkg" >/dev/null)
dpkg-deb -x "$work"/"$pkg"_*.deb "$work/root"

vmlinuz=$(ls "$work"/root/boot/vmlinuz-* | head -n 1)
e1000=$(find "$work/root/lib/modules" -name e1000.ko -path '*/intel/e1000/*' | head -n 1)
if [ -z "$vmlinuz" ] || [ -z "$e1000" ]; then
	echo "fetch-kernel: $pkg has no vmlinuz or e1000.ko" >&2
	exit 1
fi
# Copy then rename, so an interrupted run never leaves half a file.
cp "$vmlinuz" "$dir/vmlinuz.tmp" && mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
cp "$e1000" "$dir/e1000.ko.tmp" && mv "$dir/e1000.ko.tmp" "$dir/e1000.ko"
echo "$pkg" >"$dir/kernel-package"
echo "fetch-kernel: $dir/vmlinuz and $dir/e1000.ko from $pkg"
