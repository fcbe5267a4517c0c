#!/bin/bash
# Real-board set-ups over USB, run INSIDE the USB test VM with four UDCs
# (tests/usb-vm.sh --udcs 4 --test usb-boards-test.sh): four boards, each a
# qbnetd in its own network namespace on its own UDC, set up the ways boards
# are (qbnetd's gadget with an ACM console; only qbnetd's FunctionFS in a
# gadget someone else made; a UDC that appears late; the SysV init script),
# and one qbnet serving them all: serial consoles beside the network, four
# downloads at once sharing the bus fairly, status, list and per-serial forwards.
set -u
export QB_LINK=usb QB_PREFIX=qbub QB_WORK=/tmp/qbnet-usb-boards
. "$(dirname "$0")/lib/topology.sh"
. "$(dirname "$0")/lib/cases.sh"
. "$(dirname "$0")/lib/wait.sh"
[ -n "${QB_IN_USBVM:-}" ] || qb_die "run me through tests/usb-vm.sh --udcs 4 (inside the USB test VM)"
[ -d /sys/class/udc/dummy_udc.3 ] || qb_die "needs four UDCs: tests/usb-vm.sh --udcs 4"
SIZE_MIB=${USB_BOARDS_MIB:-16}
GADGETS=/sys/kernel/config/usb_gadget
PEER=$QB_ROOT/board/build/usb_peer
export QBNET_JAVA_OPTS="-XX:+UseSerialGC"
qbnet_vm() { "$JAVA_HOME/bin/java" $QBNET_JAVA_OPTS -jar "$QBNET_JAR" "$@"; }

# Board N: namespace, serial, gadget name, UDC. Board 0 is the topology's own namespace.
ns() { if [ "$1" = 0 ]; then echo "$BOARD_NS"; else echo "$QB_PREFIX-board$1"; fi; }
serial() { echo "QBM-$1"; }
in_board() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

board_ns_up() {
	local n=$1 name
	name=$(ns "$n")
	[ "$n" = 0 ] && return 0
	ip netns add "$name"
	ip -n "$name" link set lo up
	mkdir -p "/etc/netns/$name"
	printf '# before qbnetd\n' > "/etc/netns/$name/resolv.conf"
}

# qbnetd for board N with its own state, FunctionFS mount and serial; extra args follow.
board_qbnetd() {
	local n=$1
	shift
	mkdir -p "$QB_WORK/state$n"
	# ip netns exec execs qbnetd: $! is qbnetd itself (a shell function here would fork).
	ip netns exec "$(ns "$n")" "$QBNETD" --link usb --serial "$(serial "$n")" --state-dir "$QB_WORK/state$n" \
		--usb-ffs "$QB_WORK/ffs$n" "$@" >> "$QB_WORK/qbnetd$n.log" 2>&1 &
	echo $! > "$QB_WORK/qbnetd$n.pid"
	qb_track $! "qbnetd$n"
}

# The sysfs directory of the enumerated device with SERIAL, if any.
usb_device() {
	local d
	for d in /sys/bus/usb/devices/*; do
		[ "$(cat "$d/serial" 2>/dev/null)" = "$1" ] && { echo "$d"; return 0; }
	done
	return 1
}

enumerated() { usb_device "$1" > /dev/null; }
gone() { ! enumerated "$1"; }


linked() { in_board "$1" ip -4 addr show dev qb0 2>/dev/null | grep -q "inet $BOARD_ADDR/" &&
	in_board "$1" timeout 5 bash -c "exec 3<>/dev/tcp/$INET_ADDR/80" 2>/dev/null; }

# The host's tty for the ACM function of the board with SERIAL.
host_tty() {
	local dev t
	dev=$(usb_device "$1") || return 1
	for t in "$dev"/*/tty/ttyACM*; do [ -e "$t" ] && { echo "/dev/$(basename "$t")"; return 0; }; done
	return 1
}

case_acm_descriptors() {
	# qbnetd's own gadget with an ACM function beside the qbnet interface.
	board_qbnetd 0 --usb-udc dummy_udc.0 --usb-gadget qbnet0 --usb-acm
	check "board 0 enumerated" wait_for 200 enumerated "$(serial 0)"
	BOARD0_TTY=$(sed -n 's/.*ACM serial function: \(\/dev\/ttyGS[0-9]*\) .*/\1/p' "$QB_WORK/qbnetd0.log")
	check "qbnetd named its ACM tty ('$BOARD0_TTY')" test -c "$BOARD0_TTY"
	echo "$BOARD0_TTY" > "$QB_WORK/tty0"
	timeout 60 "$PEER" --serial "$(serial 0)" --acm --bcd-device 0111 --descriptors-only | sed 's/^/    /'
	check "descriptors of the composite gadget (usb_peer)" test "${PIPESTATUS[0]}" = 0
}

case_function_only() {
	# Someone else's gadget: an ACM console first, then qbnetd's FunctionFS
	# (so the qbnet interface is number 2), bound once ep2 exists.
	local g=$GADGETS/qbext
	mkdir -p "$g/strings/0x409" "$g/configs/c.1/strings/0x409" "$g/functions/acm.ext" "$g/functions/ffs.qbnet1"
	echo 0x1209 > "$g/idVendor"
	echo 0x0001 > "$g/idProduct"
	echo 0x0111 > "$g/bcdDevice"
	echo 0xef > "$g/bDeviceClass"
	echo 0x02 > "$g/bDeviceSubClass"
	echo 0x01 > "$g/bDeviceProtocol"
	echo "$(serial 1)" > "$g/strings/0x409/serialnumber"
	echo "Vendor board" > "$g/strings/0x409/product"
	echo "console + qbnet" > "$g/configs/c.1/strings/0x409/configuration"
	echo 1 > "$g/os_desc/use"
	echo 0xcd > "$g/os_desc/b_vendor_code"
	echo MSFT100 > "$g/os_desc/qw_sign"
	ln -s "$g/configs/c.1" "$g/os_desc/c.1"
	ln -s "$g/functions/acm.ext" "$g/configs/c.1/"
	ln -s "$g/functions/ffs.qbnet1" "$g/configs/c.1/"
	board_qbnetd 1 --usb-function-only --usb-gadget qbnet1
	# The mount is in qbnetd's mount namespace (ip netns exec makes one): its log says when.
	check "qbnetd filled its FunctionFS instance" wait_for 100 grep -q "FunctionFS ffs.qbnet1 of gadget $g ready" "$QB_WORK/qbnetd1.log"
	echo dummy_udc.1 > "$g/UDC"
	check "the owner's gadget bound to dummy_udc.1" grep -qx dummy_udc.1 "$g/UDC"
	check "board 1 enumerated" wait_for 200 enumerated "$(serial 1)"
	echo "/dev/ttyGS$(cat "$g/functions/acm.ext/port_num")" > "$QB_WORK/tty1"
	timeout 60 "$PEER" --serial "$(serial 1)" --acm --bcd-device 0111 --descriptors-only | sed 's/^/    /'
	check "descriptors: qbnet is interface 2, MS OS descriptors point there (usb_peer)" test "${PIPESTATUS[0]}" = 0
}

case_wait_udc() {
	# A UDC driver that probes late: dummy_udc.3 leaves /sys/class/udc and comes back.
	local pid start rc=0
	echo dummy_udc.3 > /sys/bus/platform/drivers/dummy_udc/unbind
	check "dummy_udc.3 is gone" test ! -e /sys/class/udc/dummy_udc.3
	board_qbnetd 3 --usb-udc dummy_udc.3 --usb-gadget qbnet3 --wait-udc
	pid=$(cat "$QB_WORK/qbnetd3.pid")
	check "qbnetd waits for the UDC" wait_for 100 grep -q "waiting for a UDC" "$QB_WORK/qbnetd3.log"
	check "and keeps running" kill -0 "$pid"
	start=$(date +%s.%N)
	kill -TERM "$pid"
	check "SIGTERM while waiting: it exits" wait_for 50 sh -c "! kill -0 $pid 2>/dev/null"
	wait "$pid" || rc=$?
	check "with status 0 ($rc)" test "$rc" = 0
	note "wait-udc: exit $(since "$start") s after SIGTERM while waiting"
	check "its gadget is removed" test ! -e "$GADGETS/qbnet3"
	mv "$QB_WORK/qbnetd3.log" "$QB_WORK/qbnetd3-first.log"
	board_qbnetd 3 --usb-udc dummy_udc.3 --usb-gadget qbnet3 --wait-udc
	wait_for 100 grep -q "waiting for a UDC" "$QB_WORK/qbnetd3.log"
	echo dummy_udc.3 > /sys/bus/platform/drivers/dummy_udc/bind
	check "qbnetd bound the gadget once the UDC appeared" wait_for 50 grep -q "UDC dummy_udc.3 appeared" "$QB_WORK/qbnetd3.log"
	check "board 3 enumerated" wait_for 200 enumerated "$(serial 3)"
	check "two log lines while waiting, no more" test "$(grep -c "UDC" "$QB_WORK/qbnetd3.log")" -le 3
}

# The SysV/BusyBox init script of board/packaging, generated as `make install`
# generates it (it reads /etc/default/qbnetd: the VM's /etc is a throw-away
# overlay), started and stopped as init would, for board 2 in its namespace;
# QBNETD_DAEMON and QBNETD_PIDFILE point it at this build and this run.
INIT_SCRIPT=$QB_WORK/init/qbnetd.init
export QBNETD_DAEMON=$QBNETD QBNETD_PIDFILE=$QB_WORK/qbnetd2.pid
case_init_start() {
	local rc=0
	make -s -C "$QB_ROOT/board" BUILD="$QB_WORK/init" init-files > "$QB_WORK/init-make.log" 2>&1 || rc=$?
	check "make -C board init-files ($rc: $(cat "$QB_WORK/init-make.log"))" test -x "$INIT_SCRIPT"
	printf 'QBNETD_ARGS="--usb-udc dummy_udc.2 --usb-gadget qbnet2 --serial %s --state-dir %s --usb-ffs %s"\nQBNETD_LOG=%s\n' \
		"$(serial 2)" "$QB_WORK/state2" "$QB_WORK/ffs2" "$QB_WORK/qbnetd2.log" > /etc/default/qbnetd
	mkdir -p "$QB_WORK/state2"
	rc=0
	in_board 2 sh "$INIT_SCRIPT" start > "$QB_WORK/init-start.log" 2>&1 || rc=$?
	check "qbnetd.init start: exit 0 ($rc: $(cat "$QB_WORK/init-start.log"))" test "$rc" = 0
	check "its pid file names a live qbnetd" sh -c "kill -0 \$(cat '$QBNETD_PIDFILE')"
	rc=0
	in_board 2 sh "$INIT_SCRIPT" status > "$QB_WORK/init-status.log" 2>&1 || rc=$?
	check "qbnetd.init status: running, exit 0 ($rc: $(cat "$QB_WORK/init-status.log"))" test "$rc" = 0
	check "board 2 enumerated" wait_for 200 enumerated "$(serial 2)"
}

case_four_linked() {
	local n tenths=900	# the first waits for qbnet's JVM to start in the emulated CPU
	for n in 0 1 2 3; do
		check "board $n linked (own address $BOARD_ADDR, own NAT)" wait_for "$tenths" linked "$n"
		tenths=300
	done
}

# Four downloads at once, and both serial consoles carrying data meanwhile.
case_four_downloads() {
	local n first="" sizes=() want got rc
	for n in 0 1 2 3; do
		rm -f "$QB_WORK/dl$n.bin"
		in_board "$n" curl -sS --max-time 120 -o "$QB_WORK/dl$n.bin" "http://$INET_ADDR/big.bin" \
			> "$QB_WORK/curl$n.log" 2>&1 &
		echo $! > "$QB_WORK/curl$n.pid"
	done
	for n in 0 1; do
		python3 "$QB_ROOT/tests/tools/tty_pair.py" "$(cat "$QB_WORK/tty$n")" "$(host_tty "$(serial "$n")")" \
			--bytes 65536 --timeout 60 > "$QB_WORK/tty$n.out" 2>&1 &
		echo $! > "$QB_WORK/ttypair$n.pid"
	done
	# When the first download ends, how far each had got: all four started together.
	while [ -z "$first" ]; do
		for n in 0 1 2 3; do kill -0 "$(cat "$QB_WORK/curl$n.pid")" 2>/dev/null || first=$n; done
		sleep 0.1
	done
	for n in 0 1 2 3; do sizes+=("$(stat -c %s "$QB_WORK/dl$n.bin" 2>/dev/null || echo 0)"); done
	for n in 0 1; do
		rc=0
		wait "$(cat "$QB_WORK/ttypair$n.pid")" || rc=$?
		check "board $n's ACM console both ways during the downloads: $(cat "$QB_WORK/tty$n.out")" test "$rc" = 0
	done
	want=$(sha256sum < "$QB_WORK/www/big.bin" | cut -d' ' -f1)
	for n in 0 1 2 3; do
		wait "$(cat "$QB_WORK/curl$n.pid")" || true
		got=$(sha256sum < "$QB_WORK/dl$n.bin" | cut -d' ' -f1)
		check "board $n downloaded $SIZE_MIB MiB, sha256 ok ($(cat "$QB_WORK/curl$n.log"))" test "$got" = "$want"
	done
	note "four boards at once: bytes when board $first finished: ${sizes[*]}"
	check "each board got at least half its fair share (${sizes[*]})" python3 -c '
import sys
s = [int(x) for x in sys.argv[1:]]
fair = sum(s) / len(s)
sys.exit(0 if min(s) >= fair / 2 else 1)' "${sizes[@]}"
}

case_status_and_list() {
	local out
	out=$(qbnet_cli status --json)
	check "qbnet status: four boards, each with its serial and its own traffic" python3 -c '
import json, sys
d = json.load(sys.stdin)
want = {"QBM-%d" % n for n in range(4)}
boards = {b["serial"]: b for b in d["boards"]}
assert set(boards) == want, sorted(boards)
assert len({b["id"] for b in d["boards"]}) == 4
assert all(b["traffic"]["bytesToBoard"] >= int(sys.argv[1]) for b in boards.values()), [b["traffic"] for b in boards.values()]
' "$((SIZE_MIB * 1048576))" <<< "$out"
	out=$(qbnet_vm list 2>&1)
	echo "$out" | sed 's/^/    /'
	for n in 0 1 2 3; do
		check "qbnet list shows $(serial "$n")" grep -q "serial $(serial "$n")" <<< "$out"
	done
}

case_forward_by_serial() {
	# Each board serves its own name on port 8080; a forward names the board by serial.
	local body
	body=$(curl -sS --max-time 20 "http://127.0.0.1:18082/whoami")
	check "QBM-2/tcp:18082:8080 reaches board 2 (got '$body')" test "$body" = "board 2"
	body=$(curl -sS --max-time 20 "http://127.0.0.1:18080/whoami")
	check "QBM-0/tcp:18080:8080 reaches board 0 (got '$body')" test "$body" = "board 0"
}

case_init_stop() {
	local pid rc=0
	pid=$(cat "$QBNETD_PIDFILE" 2>/dev/null)
	in_board 2 sh "$INIT_SCRIPT" stop > "$QB_WORK/init-stop.log" 2>&1 || rc=$?
	check "qbnetd.init stop: exit 0 ($rc: $(cat "$QB_WORK/init-stop.log"))" test "$rc" = 0
	check "qbnetd of board 2 ($pid) has exited" sh -c "[ -n '$pid' ] && ! kill -0 '$pid' 2>/dev/null"
	check "it logged an orderly teardown" grep -q "USB gadget removed" "$QB_WORK/qbnetd2.log"
	check "its gadget is removed" test ! -e "$GADGETS/qbnet2"
	check "board 2 left the bus" wait_for 50 gone "$(serial 2)"
	rc=0
	in_board 2 sh "$INIT_SCRIPT" status > /dev/null 2>&1 || rc=$?
	check "qbnetd.init status: not running, exit 3 ($rc)" test "$rc" = 3
}

# run_case, and on a failure the tails of every board's log and of qbnet's (cases.sh shows board 0's only).
board_case() {
	local failed=$FAIL log
	run_case "$@"
	[ "$FAIL" = "$failed" ] && return 0
	for log in "$QB_WORK"/qbnetd[0-9]*.log "$QB_WORK/qbnet.log"; do
		[ -s "$log" ] || continue
		echo "    $(basename "$log"):"
		tail -n 12 "$log" | sed 's/^/      /'
	done
}

keep_logs() {
	cp "$QB_WORK"/qbnetd[0-9]*.log "$QB_WORK/qbnet.log" "$QB_USBVM_OUT/" 2>/dev/null
	return 0
}

cleanup() {
	local g=$GADGETS/qbext
	keep_logs
	[ -x "$INIT_SCRIPT" ] && in_board 2 sh "$INIT_SCRIPT" stop > /dev/null 2>&1
	qb_topology_down
	for n in 1 2 3; do
		ip netns pids "$(ns "$n")" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$(ns "$n")" 2>/dev/null
		rm -rf "/etc/netns/$(ns "$n")"
	done
	if [ -d "$g" ]; then
		echo "" > "$g/UDC" 2>/dev/null
		rm -f "$g/os_desc/c.1" "$g/configs/c.1/acm.ext" "$g/configs/c.1/ffs.qbnet1"
		rmdir "$g/configs/c.1/strings/0x409" "$g/configs/c.1" "$g/functions/acm.ext" \
			"$g/functions/ffs.qbnet1" "$g/strings/0x409" "$g" 2>/dev/null
	fi
}

SELECTED=("$@")
trap cleanup EXIT
ip link set lo up	# the VM's own loopback, where qbnet's forwards listen
qb_topology_up
: > "$QB_WORK/qbnet.log"
: > "$QB_WORK/qbnetd.log"	# cases.sh shows it on failures; the boards log to qbnetdN.log
for n in 0 1 2 3; do board_ns_up "$n"; done
head -c $((SIZE_MIB * 1048576)) /dev/urandom > "$QB_WORK/www/big.bin"
qb_servers_up
for n in 0 1 2 3; do
	mkdir -p "$QB_WORK/whoami$n"
	printf 'board %s' "$n" > "$QB_WORK/whoami$n/whoami"
	in_board "$n" $QBTOOL httpd --bind 0.0.0.0 --port 8080 --root "$QB_WORK/whoami$n" > "$QB_WORK/whoami$n.log" 2>&1 &
	qb_track $! "whoami$n"
done
board_case acm-descriptors case_acm_descriptors
board_case function-only case_function_only
board_case wait-udc case_wait_udc
board_case init-start case_init_start
qb_qbnet_start --forward "$(serial 2)/tcp:18082:8080" --forward "$(serial 0)/tcp:18080:8080"
board_case four-linked case_four_linked
board_case four-downloads case_four_downloads
board_case status-and-list case_status_and_list
board_case forward-by-serial case_forward_by_serial
board_case init-stop case_init_stop
keep_logs
qb_summary usb-boards
