#!/bin/bash
# USB section of `make bench`, run INSIDE the USB test VM (bench.sh boots it):
# bare bulk throughput (qbnet link-test: no NAT, no TCP) against TCP goodput
# through the whole stack (board TUN, qbnetd, USB, qbnet's NAT, host
# sockets), each way, in the same VM run. Writes results.tsv to $QB_USBVM_OUT.
set -u
export QB_LINK=usb QB_PREFIX=qbusbb QB_WORK=/tmp/qbnet-usb-bench
. "$(dirname "$0")/../tests/lib/topology.sh"
[ -n "${QB_IN_USBVM:-}" ] || qb_die "run me through bench/bench.sh usb (inside the USB test VM)"
REPEAT=${REPEAT:-3}
SECS=${SECS:-5}
SPEED=$(cat /sys/module/dummy_hcd/parameters/is_super_speed 2>/dev/null)
[ "$SPEED" = Y ] && SPEED=super || SPEED=high
RESULTS=$QB_USBVM_OUT/results.tsv
: > "$RESULTS"
record() { printf 'usb\t%s\t%s\t%s\t%s\t%s\tMB/s\n' "$1" "$SPEED" "$2" "$3" "$4" >> "$RESULTS"; }
qbnet_cli_vm() { "$JAVA_HOME/bin/java" -XX:+UseSerialGC -jar "$QBNET_JAR" "$@"; }

trap 'qb_topology_down' EXIT
qb_topology_up
qb_servers_up
ip netns exec "$INET_NS" iperf3 -s -p 5201 > "$QB_WORK/iperf3.log" 2>&1 &
qb_track $! iperf3
qb_qbnetd_start -q
for _ in $(seq 100); do [ "$(cat /sys/kernel/config/usb_gadget/qbnet/UDC 2>/dev/null)" = "$QB_UDC" ] && break; sleep 0.1; done
for run in $(seq "$REPEAT"); do
	out=$(qbnet_cli_vm link-test --seconds "$SECS" 2>&1)
	record raw up "$run" "$(echo "$out" | sed -n 's/.*board -> host:[^0-9]*\([0-9.]*\) MB\/s.*/\1/p')"
	record raw down "$run" "$(echo "$out" | sed -n 's/.*host -> board:[^0-9]*\([0-9.]*\) MB\/s.*/\1/p')"
	echo "$out" | grep "MB/s"
done
export QBNET_JAVA_OPTS="-XX:+UseSerialGC"
qb_qbnet_start -q
qb_wait_linked 90 || qb_die "no link over USB"
mbps() { python3 -c 'import json,sys
try: print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6))
except Exception: pass'; }
for run in $(seq "$REPEAT"); do
	up=$(qb_board iperf3 -c "$INET_ADDR" -p 5201 -t "$SECS" -J | mbps)
	down=$(qb_board iperf3 -c "$INET_ADDR" -p 5201 -t "$SECS" -R -J | mbps)
	record tcp up "$run" "$up"
	record tcp down "$run" "$down"
	echo "TCP through the stack: up $up MB/s, down $down MB/s"
done
