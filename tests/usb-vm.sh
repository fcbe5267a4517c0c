#!/bin/bash
# `make test-usb`: the USB end-to-end test. Boots the USB test VM and runs
# tests/usb-vm-test.sh inside it (gadget on dummy_hcd <-> libusb host driver),
# or another in-VM script of tests/ given with --test (tests/usb-replug.sh).
# Usage: tests/usb-vm.sh [--speed high|super|full] [--udcs N] [--test SCRIPT] [case-name-substring...]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
speed=high
udcs=1
test=usb-vm-test.sh
while [ $# -gt 0 ]; do
	case $1 in
	--speed) speed=$2; shift 2 ;;
	--test) test=$2; shift 2 ;;
	--udcs) udcs=$2; shift 2 ;;
	*) break ;;
	esac
done
[ -x "$HERE/../board/build/qbnetd" ] && [ -f "$HERE/../host/target/qbnet.jar" ] || {
	echo "${test%-test.sh}: build first (make)" >&2
	exit 1
}
# The whole VM run is bounded; QB_USBVM_TIMEOUT (seconds) lets a longer in-VM script ask for more.
exec "$HERE/usbvm/run.sh" --speed "$speed" --udcs "$udcs" --timeout "${QB_USBVM_TIMEOUT:-420}" "$HERE/$test" "$@"
