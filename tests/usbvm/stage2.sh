#!/bin/sh
# Stage 2 of the USB test VM, chrooted into this machine's root (overlaid):
# starts udevd (device events for libusb hotplug), then runs the test script
# named in $QB_USBVM_OUT/cmd with its arguments, as root, and exits with its code.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
out=$(sed -n 's/.*qbvm_out=\([^ ]*\).*/\1/p' /proc/cmdline)
work=$(sed -n 's/.*qbvm_work=\([^ ]*\).*/\1/p' /proc/cmdline)
export QB_USBVM_OUT=$out QB_USBVM_WORK=$work QB_IN_USBVM=1

udevadm=$work/udev/usr/bin/udevadm
[ -x "$udevadm" ] || udevadm=$work/udev/bin/udevadm
if [ -x "$udevadm" ]; then
	mkdir -p /run/udev
	# udevadm is multi-call: invoked as systemd-udevd it is the daemon.
	ln -sf "$udevadm" /run/systemd-udevd
	SYSTEMD_IGNORE_CHROOT=1 /run/systemd-udevd --daemon --resolve-names=never >/dev/null 2>&1 ||
		echo "[usbvm] udevd did not start: libusb hotplug will not fire, rescans still work"
fi

cd "$out" || exit 99
set -- $(cat "$out/cmd")
{ "$@"; echo $? > "$out/rc"; } 2>&1 | tee "$out/stdout"
exit "$(cat "$out/rc")"
