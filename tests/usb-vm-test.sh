#!/bin/bash
# End-to-end test over real USB, run INSIDE the USB test VM (tests/usb-vm.sh
# boots it): qbnetd --link usb drives a ConfigFS/FunctionFS gadget on
# dummy_udc.0 from the board netns; qbnet finds it through libusb on the VM's
# host controller. Same topology and kinds of checks as the socket-link tests,
# plus bare-transport throughput, and a 5 s unplug (UDC unbind) in the middle
# of a download and an interactive session that both survive it.
set -u
export QB_LINK=usb QB_PREFIX=qbusb QB_WORK=/tmp/qbnet-usb
. "$(dirname "$0")/lib/topology.sh"
. "$(dirname "$0")/lib/cases.sh"
[ -n "${QB_IN_USBVM:-}" ] || qb_die "run me through tests/usb-vm.sh (inside the USB test VM)"
SIZE_MIB=${USB_TEST_MIB:-32}
GADGET_UDC=/sys/kernel/config/usb_gadget/qbnet/UDC
# A JVM in an emulated CPU starts slowly; a tiered-only JIT is quicker to warm.
export QBNET_JAVA_OPTS="-XX:+UseSerialGC -ea:dev.qbkit.qbnet..."

qbnet_cmd() { "$JAVA_HOME/bin/java" $QBNET_JAVA_OPTS -jar "$QBNET_JAR" "$@"; }

iperf_mbps() { # iperf3 -J on stdin -> receiver MB/s
	python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6))'
}

case_enumerated() {
	local found=""
	for _ in $(seq 100); do # the host enumerates a moment after the UDC is bound
		for d in /sys/bus/usb/devices/*; do
			[ -f "$d/idVendor" ] || continue
			if [ "$(cat "$d/idVendor"):$(cat "$d/idProduct")" = "1209:0001" ]; then
				found="$(basename "$d") speed=$(cat "$d/speed") bcdDevice=$(cat "$d/bcdDevice") serial=$(cat "$d/serial" 2>/dev/null)"
			fi
		done
		[ -n "$found" ] && break
		sleep 0.1
	done
	check "the gadget enumerated as 1209:0001" [ -n "$found" ]
	note "device: $found"
}

case_raw_bulk() {
	# The bare transport, no NAT: qbnet link-test against the running qbnetd.
	local out
	out=$(qbnet_cmd link-test --seconds 4 2>&1)
	echo "$out" | sed 's/^/    /'
	RAW_IN=$(echo "$out" | sed -n 's/.*board -> host:[^0-9]*\([0-9.]*\) MB\/s.*/\1/p' | head -n 1)
	RAW_OUT=$(echo "$out" | sed -n 's/.*host -> board:[^0-9]*\([0-9.]*\) MB\/s.*/\1/p' | head -n 1)
	check "link-test reported both directions ('$RAW_IN', '$RAW_OUT')" test -n "$RAW_IN" -a -n "$RAW_OUT"
	echo "$RAW_IN $RAW_OUT" > "$QB_WORK/raw"
	note "raw bulk: board->host $RAW_IN MB/s, host->board $RAW_OUT MB/s"
}

case_dns_and_page() {
	local got body
	got=$(qb_board getent ahostsv4 "$INET_NAME" | awk 'NR == 1 { print $1 }')
	check "$INET_NAME resolves over USB (got '$got')" [ "$got" = "$INET_ADDR" ]
	body=$(qb_board curl -sS --max-time 20 "http://$INET_NAME/index.html")
	check "page fetched" [ "$body" = "<html><body>qbnet test page</body></html>" ]
}

case_download() {
	download_checked "download $SIZE_MIB MiB over USB" "$QB_WORK/www/big.bin" "http://$INET_ADDR/big.bin"
}

case_upload() {
	upload_checked "upload $SIZE_MIB MiB over USB" "$QB_WORK/upload.bin" "http://$INET_ADDR/upload"
}

case_udp_echo() {
	local out
	out=$(qb_board $QBTOOL udp-echo-client "$INET_ADDR" 7 --count 20 --size 1200 --timeout 3)
	check "UDP echo over USB ($out)" [ "$out" = "20/20" ]
}

case_tcp_goodput() {
	local up down raw_in raw_out
	up=$(qb_board iperf3 -c "$INET_ADDR" -p 5201 -t 5 -J | iperf_mbps)
	down=$(qb_board iperf3 -c "$INET_ADDR" -p 5201 -t 5 -R -J | iperf_mbps)
	check "iperf3 ran both ways ('$up', '$down')" test -n "$up" -a -n "$down"
	note "TCP goodput through the stack: board->host $up MB/s, host->board $down MB/s"
	if [ -s "$QB_WORK/raw" ]; then
		read -r raw_in raw_out < "$QB_WORK/raw"
		# Upload (board->host) rides the board's IN pipe; download the OUT pipe.
		note "TCP/raw: upload $(awk -v a="$up" -v b="$raw_in" 'BEGIN { printf "%.0f%%", 100 * a / b }'), download $(awk -v a="$down" -v b="$raw_out" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
	fi
}

case_parallel_streams() {
	# Issue 11 over USB: 8 streams toward the board, then 8 each way; the session lives through both.
	local from board_from down both errors
	from=$(($(wc -l < "$QB_WORK/qbnet.log") + 1))
	board_from=$(($(wc -l < "$QB_WORK/qbnetd.log") + 1))
	down=$(qb_board iperf3 -c "$INET_ADDR" -p 5201 -t 3 -P 8 -R -J | iperf_mbps)
	both=$(qb_board iperf3 -c "$INET_ADDR" -p 5201 -t 3 -P 8 --bidir -J |
		python3 -c 'import json,sys; e=json.load(sys.stdin)["end"]; print("%.1f" % ((e["sum_received"]["bits_per_second"] + e["sum_received_bidir_reverse"]["bits_per_second"]) / 8e6))')
	check "iperf3 -P 8 ran down and both ways ('$down', '$both')" test -n "$down" -a -n "$both"
	errors=$( (tail -n +"$from" "$QB_WORK/qbnet.log"; tail -n +"$board_from" "$QB_WORK/qbnetd.log") |
		grep -E 'ERROR|Exception|internal error|link down|\] error:' | head -n 3)
	check "no error and no relink on either side: ${errors:-none}" [ -z "$errors" ]
	note "8 streams over USB: host->board $down MB/s, both ways $both MB/s, one session"
}

case_unplug_replug() {
	# The cable pulled for 5 s in the middle of a download and an interactive session: qbnet holds
	# the board's connections (--hold, 30 s by default) and both finish intact once it is back.
	local want got chat_rc=0 start took lines_cut
	want=$(sha256sum "$QB_WORK/www/big.bin" | cut -d' ' -f1)
	rm -f "$QB_WORK/chat.out" "$QB_WORK/chat.expect"
	qb_board bash -c "curl -sS --max-time 120 --limit-rate 2M http://$INET_ADDR/big.bin | sha256sum | cut -d' ' -f1" \
		> "$QB_WORK/cut-dl.sha" 2> "$QB_WORK/cut-dl.err" &
	local dl=$!
	qb_board $QBTOOL chat-client "$INET_ADDR" 7003 --lines 100 --interval 0.05 --timeout 60 \
		--transcript "$QB_WORK/chat.out" --expect "$QB_WORK/chat.expect" > "$QB_WORK/chat.result" 2>&1 &
	local chat=$!
	# Pull the cable once the session is under way: a Python start under single-threaded TCG
	# takes seconds, so a fixed sleep saw 3 lines on one run. At most 30 s, then the check says.
	local _try
	for _try in $(seq 60); do
		[ "$(wc -l 2> /dev/null < "$QB_WORK/chat.out" || echo 0)" -ge 8 ] && break
		sleep 0.5
	done
	echo "" > "$GADGET_UDC" # the cable is pulled
	lines_cut=$(wc -l < "$QB_WORK/chat.out")
	sleep 5 # (qbnet status is checked in the socket-link test: a JVM start costs seconds in this CPU)
	check "qbnet held the board: $(grep -m1 'holding the board' "$QB_WORK/qbnet.log" | cut -c1-160)" \
		grep -q "holding the board" "$QB_WORK/qbnet.log"
	echo "$QB_UDC" > "$GADGET_UDC" # and plugged back in after 5 s
	start=$(date +%s.%N)
	check "the link came back by itself" qb_wait_linked 30
	took=$(since "$start")
	wait $dl 2>/dev/null || true
	wait $chat || chat_rc=$?
	got=$(cat "$QB_WORK/cut-dl.sha")
	check "the session was under way when the cable went ($lines_cut of 100 lines)" [ "$lines_cut" -ge 5 -a "$lines_cut" -lt 100 ]
	check "the $SIZE_MIB MiB download survived the unplug: sha256 equal ($(head -c 200 "$QB_WORK/cut-dl.err"))" [ "$got" = "$want" ]
	check "the interactive session survived it: $(cat "$QB_WORK/chat.result")" [ "$chat_rc" = 0 ]
	check "its transcript is byte-exact" cmp -s "$QB_WORK/chat.out" "$QB_WORK/chat.expect"
	check "qbnet resumed the held session" grep -q "resumed its" "$QB_WORK/qbnet.log"
	note "5 s unplug (UDC unbind) mid-download: link back $took s after the replug; the $SIZE_MIB MiB download and the 100-line session (cut at line $lines_cut) both intact"
	check "qbnetd survived" kill -0 "$(qbnetd_pid)"
	check "qbnet survived" kill -0 "$(qbnet_pid)"
}

SELECTED=("$@")
trap 'qb_topology_down' EXIT
qb_topology_up
head -c $((SIZE_MIB * 1048576)) /dev/urandom > "$QB_WORK/www/big.bin"
head -c $((SIZE_MIB * 1048576)) /dev/urandom > "$QB_WORK/upload.bin"
qb_servers_up
ip netns exec "$INET_NS" iperf3 -s -p 5201 > "$QB_WORK/iperf3.log" 2>&1 &
qb_track $! iperf3
ip netns exec "$INET_NS" $QBTOOL echo-server --bind 0.0.0.0 --port 7003 > "$QB_WORK/inet-echo.log" 2>&1 &
qb_track $! inet-echo
qb_qbnetd_start
for _ in $(seq 100); do [ "$(cat "$GADGET_UDC" 2>/dev/null)" = "$QB_UDC" ] && break; sleep 0.1; done
run_case enumerated case_enumerated
run_case raw-bulk case_raw_bulk
qb_qbnet_start
qb_wait_linked 60 || qb_die "the board did not link over USB: $(tail -n 20 "$QB_WORK/qbnetd.log") / $(tail -n 20 "$QB_WORK/qbnet.log")"
run_case dns-and-page case_dns_and_page
run_case download case_download
run_case upload case_upload
run_case udp-echo case_udp_echo
run_case tcp-goodput case_tcp_goodput
run_case parallel-streams case_parallel_streams
run_case unplug-replug case_unplug_replug
cp "$RESULTS" "$QB_USBVM_OUT/results.txt" 2>/dev/null
qb_summary usb-vm
