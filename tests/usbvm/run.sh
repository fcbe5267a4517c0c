#!/bin/bash
# Boots the USB test VM and runs a script inside it, as root, on a real Linux
# USB stack: dummy_hcd connects a gadget (UDC dummy_udc.0) to the VM's own
# host controller. The VM sees this machine's root read-only (with a
# throw-away overlay), so binaries built here run there unchanged.
# Usage: tests/usbvm/run.sh [--speed high|super|full] [--udcs N] [--timeout SECONDS] SCRIPT [ARG...]
# (--udcs N: dummy_hcd num=N, N UDCs dummy_udc.0 .. N-1; default 1)
# The script's output is shown and kept in $QB_USBVM_OUT (a fresh temp dir by
# default), which is writable inside the VM at the same path; exit code = the script's.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export QB_USBVM_WORK=${QB_USBVM_WORK:-/var/tmp/qbnet-usbvm}
speed=high
udcs=1
timeout=300
while [ $# -gt 0 ]; do
	case $1 in
	--speed) speed=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--udcs) udcs=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "usbvm: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: $0 [--speed high|super|full] [--timeout S] SCRIPT [ARG...]" >&2; exit 2; }
case $speed in high|super|full) ;; *) echo "usbvm: --speed high, super or full" >&2; exit 2 ;; esac
case $udcs in [1-9]|[12][0-9]|3[0-2]) ;; *) echo "usbvm: --udcs 1..32 (dummy_hcd's limit)" >&2; exit 2 ;; esac
script=$(realpath "$1")
shift
[ "$(id -u)" = 0 ] || { echo "usbvm: needs root (9p export of /)" >&2; exit 1; }

# Rebuild when our init or build script differs from the ones the work dir
# was built from (by content: checkouts of other versions share the work dir),
# or when the initrd is newer than that record: an older checkout's run.sh
# rebuilds without writing it.
inputs=$(cat "$HERE/build.sh" "$HERE/init" | sha256sum | cut -c1-16)
if [ ! -f "$QB_USBVM_WORK/initrd.gz" ] || [ "$(cat "$QB_USBVM_WORK/inputs" 2>/dev/null)" != "$inputs" ] ||
	[ "$QB_USBVM_WORK/initrd.gz" -nt "$QB_USBVM_WORK/inputs" ]; then
	"$HERE/build.sh"
	echo "$inputs" > "$QB_USBVM_WORK/inputs"
fi

out=${QB_USBVM_OUT:-$(mktemp -d /tmp/qbnet-usbvm-out.XXXXXX)}
mkdir -p "$out"
rm -f "$out/rc"
echo "$script $*" > "$out/cmd"
echo "usbvm: booting ($speed speed, kernel $(cat "$QB_USBVM_WORK/kernel-version")); output in $out" >&2
# One VM at a time on this machine. Single-threaded TCG: with thread=multi a
# JVM in the guest crashed in freshly patched JIT code (a cross-modifying-code
# race of multi-threaded TCG, as in utmapp/UTM#7070); one TCG thread is slower
# but exact.
flock /tmp/qbnet-vm.lock timeout --kill-after=10 "$timeout" \
	qemu-system-x86_64 -accel tcg,thread=single -m 2048 -smp 2 -nographic -no-reboot -nic none \
	-kernel "$QB_USBVM_WORK/vmlinuz" -initrd "$QB_USBVM_WORK/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1 qbvm_speed=$speed qbvm_udcs=$udcs qbvm_out=$out qbvm_work=$QB_USBVM_WORK qbvm_stage2=$HERE/stage2.sh" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$out,mount_tag=qbout,security_model=none,multidevs=remap" \
	< /dev/null > "$out/console.log" 2>&1 &
vm=$!
# Show the script's output as it comes (it is teed to the console).
tail -n +1 -f "$out/console.log" --pid=$vm 2>/dev/null |
	sed -u -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' |
	grep --line-buffered -v -e '^\[usbvm\]' -e 'SeaBIOS' -e 'Booting from ROM' -e 'reboot: Power down' &
shown=$!
wait $vm || true
wait $shown 2>/dev/null || true
if [ ! -f "$out/rc" ]; then
	echo "usbvm: the VM ended without a result (crash or timeout after ${timeout}s); console tail:" >&2
	tail -n 40 "$out/console.log" >&2
	exit 1
fi
rc=$(cat "$out/rc")
if [ "$rc" != 0 ]; then
	# The live view hides the VM's own [usbvm] lines and the kernel's: show them on a failure.
	echo "usbvm: $script exited $rc; the VM console's last lines ($out/console.log):" >&2
	sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' "$out/console.log" | tail -n 25 | sed 's/^/  | /' >&2
fi
exit "$rc"
