#!/bin/bash
# `make test-usb`: the USB end-to-end test. Boots the USB test VM and runs
# tests/usb-vm-test.sh inside it (gadget on dummy_hcd <-> libusb host driver).
# Usage: tests/usb-vm.sh [--speed high|super|full] [case-name-substring...]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
speed=high
if [ "${1:-}" = --speed ]; then speed=$2; shift 2; fi
[ -x "$HERE/../board/build/qbnetd" ] && [ -f "$HERE/../host/target/qbnet.jar" ] || {
	echo "usb-vm: build first (make)" >&2
	exit 1
}
exec "$HERE/usbvm/run.sh" --speed "$speed" --timeout 420 "$HERE/usb-vm-test.sh" "$@"
