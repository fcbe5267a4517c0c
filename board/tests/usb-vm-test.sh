#!/bin/sh
# In-VM USB test, run as root inside the test VM (dummy_hcd, libcomposite,
# usb_f_fs, configfs): qbnetd --link usb on the dummy UDC against usb_peer,
# then the system changes, counters, clean removal and error messages.
# Usage: usb-vm-test.sh [QBNETD [USB_PEER]]; exits non-zero on any failure.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
QBNETD=${1:-$HERE/../build/qbnetd}
PEER=${2:-$HERE/../build/usb_peer}
WORK=$(mktemp -d /tmp/qbnet-usb.XXXXXX)
STATE=$WORK/state
GADGET=/sys/kernel/config/usb_gadget/qbnet
SERIAL=QBTEST-0042
PASSED=0
FAILED=0

ok() { PASSED=$((PASSED + 1)); echo "ok: $*"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
check() { what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# Waits up to $1 tenths of a second for the command to succeed.
wait_for() { n=$1; shift; while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }

UDC=$(ls /sys/class/udc 2>/dev/null | head -n 1)
if [ -z "$UDC" ]; then
	echo "FAIL: no UDC in /sys/class/udc: is dummy_hcd loaded?"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "UDC $UDC (maximum speed $(cat /sys/class/udc/$UDC/maximum_speed 2>/dev/null))"
: > "$WORK/resolv.conf"

# A stale gadget of the same name, as a crashed run leaves it: qbnetd must
# remove it first.
mkdir -p "$GADGET/strings/0x409" "$GADGET/configs/c.1/strings/0x409" "$GADGET/functions/ffs.qbnet"
ln -s "$GADGET/functions/ffs.qbnet" "$GADGET/configs/c.1/" 2>/dev/null

"$QBNETD" --link usb --serial "$SERIAL" --state-dir "$STATE" --resolv-conf "$WORK/resolv.conf" \
	--route-mode replace -v > "$WORK/qbnetd.log" 2>&1 &
PID=$!
check "qbnetd bound the gadget to $UDC" wait_for 100 grep -q "waiting for the host" "$WORK/qbnetd.log"
if ! kill -0 $PID 2>/dev/null; then
	cat "$WORK/qbnetd.log"
	echo "usb-vm-test: $PASSED passed, $((FAILED + 1)) failed (qbnetd did not start)"
	exit 1
fi
check "stale gadget removed at start" grep -q "removed the stale gadget" "$WORK/qbnetd.log"
check "UDC file names $UDC" grep -qx "$UDC" "$GADGET/UDC"
echo "os_desc: use $(cat $GADGET/os_desc/use), b_vendor_code $(cat $GADGET/os_desc/b_vendor_code), qw_sign $(cat $GADGET/os_desc/qw_sign)"
check "os_desc: use 1, vendor code 0xcd, MSFT100, configuration linked" sh -c \
	"grep -qx 1 $GADGET/os_desc/use && grep -qiE \"^0x(ffffff)?cd\$\" $GADGET/os_desc/b_vendor_code && grep -q MSFT100 $GADGET/os_desc/qw_sign && [ -L $GADGET/os_desc/c.1 ]"

timeout 120 "$PEER" --serial "$SERIAL" --udc-file "$GADGET/UDC" --udc "$UDC"
check "usb_peer checks" [ $? -eq 0 ]

check "default route via 10.113.98.1 on qb0" sh -c "ip route show default | grep -q 'via 10.113.98.1 dev qb0'"
check "resolv.conf has the host's DNS" grep -q "nameserver 10.113.98.3" "$WORK/resolv.conf"

kill -USR1 $PID
sleep 0.5
stat() { sed -n "s/.*stats: $1 *\([0-9]*\) .*/\1/p" "$WORK/qbnetd.log" | tail -n 1; }
check "link-test frames counted ($(stat link_test_rx))" [ "$(stat link_test_rx)" -gt 0 ]
check "LINK_TEST filler sent ($(stat link_test_tx))" [ "$(stat link_test_tx)" -gt 0 ]
check "bad-magic bundle counted ($(stat rx_bad_magic))" [ "$(stat rx_bad_magic)" -ge 1 ]
check "bad-length bundle counted ($(stat rx_bad_length))" [ "$(stat rx_bad_length)" -ge 1 ]
check "link came back after the rebind ($(stat link_connects) connects)" [ "$(stat link_connects)" -ge 2 ]

kill -TERM $PID
check "qbnetd exits 0 on SIGTERM" wait_for 100 sh -c "! kill -0 $PID 2>/dev/null"
wait $PID
check "exit status 0" [ $? -eq 0 ]
check "gadget removed at exit" [ ! -e "$GADGET" ]
check "functionfs unmounted at exit" sh -c "! grep -q ' $STATE/ffs ' /proc/self/mounts"

# An ep0 that fails leaves the gadget dead: qbnetd must tear down and exit 1
# (its supervisor restarts it), not live on without a gadget. A test-only
# LD_PRELOAD library makes ep0 reads fail once a trigger file exists; an
# unbind then makes qbnetd read ep0.
FAULT_LIB=$(dirname "$QBNETD")/fault_ep0.so
if [ -f "$FAULT_LIB" ]; then
	LD_PRELOAD=$FAULT_LIB QB_FAULT_EP0=$WORK/ep0-fault "$QBNETD" --link usb --serial "$SERIAL" \
		--state-dir "$STATE" --resolv-conf none -v > "$WORK/fault.log" 2>&1 &
	PID=$!
	check "ep0 fault run: gadget bound" wait_for 100 grep -q "waiting for the host" "$WORK/fault.log"
	touch "$WORK/ep0-fault"
	echo "" > "$GADGET/UDC"
	check "ep0 read fails: qbnetd exits" wait_for 100 sh -c "! kill -0 $PID 2>/dev/null"
	kill -KILL $PID 2>/dev/null
	wait $PID
	rc=$?
	check "ep0 read fails: exit status 1 (got $rc)" [ $rc -eq 1 ]
	check "ep0 read fails: the log says so" grep -q "cannot read USB events from ep0" "$WORK/fault.log"
	check "ep0 read fails: gadget removed" [ ! -e "$GADGET" ]
	rm -f "$WORK/ep0-fault"
else
	bad "ep0 fault library $FAULT_LIB missing (make -C board check-usb builds it)"
fi

# Errors name the fix; nothing is left behind.
"$QBNETD" --link usb --usb-udc no_such_udc --state-dir "$STATE" --resolv-conf none \
	> "$WORK/err1.log" 2>&1
rc=$?
check "unknown UDC: exit 1 with a clear error" sh -c \
	"[ $rc -eq 1 ] && grep -q \"no UDC named 'no_such_udc'\" $WORK/err1.log && [ ! -e $GADGET ]"
"$QBNETD" --link usb --usb-id nope > "$WORK/err2.log" 2>&1
rc=$?
check "bad --usb-id: exit 2, one line naming the flag" sh -c \
	"[ $rc -eq 2 ] && head -n 1 $WORK/err2.log | grep -q -- '--usb-id'"
if rmmod dummy_hcd 2>/dev/null; then
	"$QBNETD" --link usb --state-dir "$STATE" --resolv-conf none > "$WORK/err3.log" 2>&1
	rc=$?
	check "no UDC: exit 1, names the fix" sh -c \
		"[ $rc -eq 1 ] && grep -q 'no USB device controller (UDC)' $WORK/err3.log && [ ! -e $GADGET ]"
fi

if [ "$FAILED" -ne 0 ]; then
	echo "--- qbnetd log"
	cat "$WORK/qbnetd.log"
fi
grep -E "LINK_TEST|USB link|recovery|link (up|down)" "$WORK/qbnetd.log" | tail -n 20
echo "usb-vm-test: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
