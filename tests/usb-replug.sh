#!/bin/bash
# The unplug/replug robustness test over real USB: boots the USB test VM and
# runs tests/usb-replug-test.sh inside (REPLUG_CYCLES, default 20, each under
# load; the link must be back within REPLUG_MAX_S, default 2, every time).
# Usage: tests/usb-replug.sh [--speed high|super|full]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# The VM sees this machine's root read-only, but not its environment: settings go in through a file.
out=${QB_USBVM_OUT:-$(mktemp -d /tmp/qbnet-usbvm-out.XXXXXX)}
export QB_USBVM_OUT=$out
printf 'export REPLUG_CYCLES=%q REPLUG_MAX_S=%q\n' "${REPLUG_CYCLES:-20}" "${REPLUG_MAX_S:-2}" > "$out/env"
# Booting, the load and the checks take up to 5 minutes on a slow day, each cycle under 8 s.
export QB_USBVM_TIMEOUT=$((300 + 8 * ${REPLUG_CYCLES:-20}))
exec "$HERE/usb-vm.sh" --test usb-replug-test.sh "$@"
