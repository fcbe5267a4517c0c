#!/bin/bash
# Builds the USB test VM into $QB_USBVM_WORK (default /var/tmp/qbnet-usbvm):
# the kernel of this machine's Debian release (its linux-image package,
# downloaded and unpacked, never installed), an initramfs with busybox and
# the modules the tests need (resolved with their dependencies by modprobe
# against the unpacked tree), and udevd from Debian's udev package.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
W=${QB_USBVM_WORK:-/var/tmp/qbnet-usbvm}
# Modules the VM loads, in this order, each with its dependencies first:
# usb_f_acm (with u_serial) for the board's ACM console, cdc_acm for the host's side of it;
# usb_f_ncm and cdc_ncm (usbnet) for the USB benchmark's anchor, the kernel's own NCM.
WANTED="virtio_pci 9pnet_virtio 9p overlay configfs dummy_hcd libcomposite usb_f_fs usb_f_acm cdc_acm usb_f_ncm cdc_ncm tun veth"

log() { echo "usbvm-build: $*" >&2; }
die() { log "$*"; exit 1; }

for tool in qemu-system-x86_64 busybox depmod modprobe dpkg-deb apt-get; do
	command -v $tool >/dev/null || die "$tool missing: run tests/deps.sh usb"
done
mkdir -p "$W/debs"
cd "$W"

# 1. The kernel package of this Debian release, via the linux-image-amd64 metapackage.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$kpkg" ]; then
	apt-get update -qq
	kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
[ -n "$kpkg" ] || die "cannot resolve the kernel package behind linux-image-amd64"
if [ ! -f "debs/$kpkg.stamp" ]; then
	log "downloading $kpkg"
	rm -rf debs/linux-image-* kernel
	(cd debs && apt-get download -qq -o APT::Sandbox::User=root "$kpkg") || die "apt-get download $kpkg failed"
	touch "debs/$kpkg.stamp"
fi
if [ ! -d kernel ]; then
	dpkg-deb -x debs/linux-image-*.deb kernel
fi
# Debian 13 ships modules under usr/lib; modprobe -d wants lib/modules.
[ -d kernel/lib/modules ] || { [ -d kernel/usr/lib/modules ] && ln -sfn usr/lib kernel/lib; }
KV=$(ls kernel/lib/modules | head -n 1)
[ -n "$KV" ] || die "no modules in $kpkg"
[ -f "kernel/lib/modules/$KV/modules.dep" ] || depmod -b "$W/kernel" "$KV"

# 2. udevd, so libusb's hotplug hears device events as on a real host.
if [ ! -x udev/usr/bin/udevadm ] && [ ! -x udev/bin/udevadm ]; then
	(cd debs && rm -f udev_*.deb && apt-get download -qq -o APT::Sandbox::User=root udev) || die "apt-get download udev failed"
	rm -rf udev && dpkg-deb -x debs/udev_*.deb udev
fi

# 3. initramfs: busybox, the modules (decompressed, in load order), our init.
rm -rf initrd && mkdir -p initrd/bin initrd/modules initrd/proc initrd/sys initrd/dev
cp "$(command -v busybox)" initrd/bin/busybox
: > initrd/modules/order
for m in $WANTED; do
	deps=$(modprobe -d "$W/kernel" -S "$KV" --show-depends "$m" 2>&1) || die "module $m: $deps"
	echo "$deps" | while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		name=$(basename "$path")
		name=${name%.xz}
		name=${name%.zst}
		[ -f "initrd/modules/$name" ] && continue
		case $path in
		*.xz) xz -dc "$path" > "initrd/modules/$name" ;;
		*.zst) zstd -qdc "$path" > "initrd/modules/$name" ;;
		*) cp "$path" "initrd/modules/$name" ;;
		esac
		echo "$name" >> initrd/modules/order
	done
done
cp "$HERE/init" initrd/init
chmod +x initrd/init
(cd initrd && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > ../initrd.gz)
cp "kernel/boot/vmlinuz-$KV" vmlinuz
echo "$KV" > kernel-version
log "ready: kernel $KV ($kpkg), $(wc -l < initrd/modules/order) modules: $(tr '\n' ' ' < initrd/modules/order)"
