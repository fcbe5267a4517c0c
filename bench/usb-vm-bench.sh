#!/bin/bash
# USB section of `make bench`, run INSIDE the USB test VM (bench.sh boots it,
# once per speed, with two UDCs): bare bulk throughput (qbnet link-test: no
# NAT, no TCP), TCP goodput through the whole stack (board TUN, qbnetd, USB,
# qbnet's NAT, host sockets) and, as the anchor, the kernel's own USB network
# function: f_ncm on the second UDC, cdc_ncm on the VM's host side, iperf3
# between the same two namespaces at MTU 1500 with the kernel's defaults.
# qbnet and NCM take turns run by run in one boot; each run charges the CPU
# time it took per GB moved (bench/usb-cost.py: the whole VM, softirq,
# qbnetd, the JVM). Then where the VM's CPU time goes in one more run each
# way (a per-process profile: the emulated CPU is the bottleneck).
# Writes results.tsv to $QB_USBVM_OUT.
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
# The NCM anchor: a gadget on the second UDC, its two ends in the same namespaces as qbnet's.
NCM_UDC=dummy_udc.1
NCM_GADGET=/sys/kernel/config/usb_gadget/qbbench-ncm
NCM_DEV_MAC=02:71:62:00:00:01
NCM_HOST_MAC=02:71:62:00:00:02
NCM_BOARD_ADDR=10.113.99.1
NCM_HOST_ADDR=10.113.99.2
NCM_HOST_IF=""

ncm_down() {
	[ -d "$NCM_GADGET" ] || return 0
	echo "" > "$NCM_GADGET/UDC" 2>/dev/null
	rm -f "$NCM_GADGET"/configs/c.1/ncm.usb0
	rmdir "$NCM_GADGET"/configs/c.1/strings/0x409 "$NCM_GADGET"/configs/c.1 \
		"$NCM_GADGET"/functions/ncm.usb0 "$NCM_GADGET"/strings/0x409 "$NCM_GADGET" 2>/dev/null
	return 0
}
trap 'ncm_down; qb_topology_down' EXIT

# The netdev whose MAC is $1, in the VM's root namespace.
netdev_by_mac() {
	local dev
	for dev in /sys/class/net/*; do
		[ "$(cat "$dev/address" 2>/dev/null)" = "$1" ] && { basename "$dev"; return 0; }
	done
	return 1
}

# Waits (bounded) for the board to reach the NCM host end.
ncm_ready() {
	for _ in $(seq 100); do
		qb_board ping -n -q -c 1 -W 1 "$NCM_HOST_ADDR" > /dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# f_ncm on $NCM_UDC with fixed MACs; its gadget end goes to the board
# namespace, the host end (cdc_ncm) to the "internet" namespace, MTU 1500.
ncm_up() {
	local g=$NCM_GADGET gif="" hif=""
	mkdir -p "$g/strings/0x409" "$g/configs/c.1/strings/0x409" "$g/functions/ncm.usb0" || return 1
	echo 0x1d6b > "$g/idVendor" # Linux Foundation, multifunction composite gadget
	echo 0x0104 > "$g/idProduct"
	echo qbnet-bench > "$g/strings/0x409/manufacturer"
	echo "NCM anchor" > "$g/strings/0x409/product"
	echo NCM0001 > "$g/strings/0x409/serialnumber"
	echo NCM > "$g/configs/c.1/strings/0x409/configuration"
	echo "$NCM_DEV_MAC" > "$g/functions/ncm.usb0/dev_addr"
	echo "$NCM_HOST_MAC" > "$g/functions/ncm.usb0/host_addr"
	ln -s "$g/functions/ncm.usb0" "$g/configs/c.1/"
	echo "$NCM_UDC" > "$g/UDC" || return 1
	for _ in $(seq 300); do
		hif=$(netdev_by_mac "$NCM_HOST_MAC") && gif=$(netdev_by_mac "$NCM_DEV_MAC") && break
		sleep 0.1
	done
	[ -n "$hif" ] && [ -n "$gif" ] || { qb_log "NCM: no interfaces (host '$hif', gadget '$gif')"; return 1; }
	sleep 1 # udev may still rename the host's end: look it up again
	hif=$(netdev_by_mac "$NCM_HOST_MAC") && gif=$(netdev_by_mac "$NCM_DEV_MAC") || return 1
	ip link set "$gif" netns "$BOARD_NS" && ip link set "$hif" netns "$INET_NS" || return 1
	ip -n "$BOARD_NS" link set "$gif" mtu 1500 up
	ip -n "$BOARD_NS" addr add "$NCM_BOARD_ADDR/30" dev "$gif"
	ip -n "$INET_NS" link set "$hif" mtu 1500 up
	ip -n "$INET_NS" addr add "$NCM_HOST_ADDR/30" dev "$hif"
	NCM_HOST_IF=$hif
	ncm_ready || { qb_log "NCM: no ping through the link"; return 1; }
	qb_log "NCM up: gadget $gif (board), host $hif (buses at $(cat /sys/bus/usb/devices/usb*/speed | sort -u | tr '\n' ' ')Mbit/s)"
}

# The host end down stops cdc_ncm's URBs, so an idle anchor costs the qbnet
# runs nothing; up again before its own runs.
ncm_host() { ip -n "$INET_NS" link set "$NCM_HOST_IF" "$1"; }

# One measured iperf3 run, its CPU charged per GB: SYSTEM DIR RUN TARGET.
measure() {
	local system=$1 dir=$2 run=$3 target=$4 flag="" pids=()
	[ "$dir" = down ] && flag=-R
	[ "$system" = ncm ] || pids=(qbnetd="$(qbnetd_pid)" jvm="$(qbnet_pid)")
	python3 "$QB_ROOT/bench/usb-cost.py" "$RESULTS" "$SPEED" "$system" "$dir" "$run" "${pids[@]}" -- \
		ip netns exec "$BOARD_NS" iperf3 -c "$target" -p 5201 -t "$SECS" $flag -J
}

qb_topology_up
qb_servers_up
ip netns exec "$INET_NS" iperf3 -s -p 5201 > "$QB_WORK/iperf3.log" 2>&1 &
qb_track $! iperf3
qb_qbnetd_start -q
for _ in $(seq 100); do [ "$(cat /sys/kernel/config/usb_gadget/qbnet/UDC 2>/dev/null)" = "$QB_UDC" ] && break; sleep 0.1; done
# Where the VM's CPU ticks go from SKIP seconds from now, for LENGTH seconds:
# one sampler process (started before the window, so its own start-up is not
# in it) reads every process's utime+stime and the idle time twice, and
# records each process's share of all ticks charged in the window.
cpu_window() { # WHAT SKIP LENGTH
	python3 - "$@" "$RESULTS" "$SPEED" << 'PY'
import os, sys, time
what, skip, length, results, speed = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
me = str(os.getpid())

def snapshot():
    ticks = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if pid == me:
            continue
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        ticks[pid] = (name, int(fields[11]) + int(fields[12]))
    cpu = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return ticks, cpu[3] + cpu[4]

def group(name):
    if name == "java":
        return "qbnet (JVM)"
    if name.startswith(("kworker", "rcu_", "ksoftirqd", "migration")):
        return "kernel threads"
    return name

time.sleep(skip)
a, idle_a = snapshot()
time.sleep(length)
b, idle_b = snapshot()
shares = {}
for pid, (name, t) in b.items():
    before = a[pid][1] if pid in a and a[pid][0] == name else 0
    shares[group(name)] = shares.get(group(name), 0) + t - before
shares["idle"] = idle_b - idle_a
total = sum(shares.values())
if total <= 0:
    sys.exit(0)
shown = {k: 100 * v / total for k, v in shares.items() if 100 * v / total >= 1 or k == "idle"}
with open(results, "a") as f:
    for k, v in shown.items():
        f.write(f"usbcpu\t{what}\t{speed}\t{k}\t1\t{v:.1f}\t%\n")
print(what + ": " + ", ".join(f"{k} {v:.0f}%" for k, v in sorted(shown.items(), key=lambda kv: -kv[1])))
PY
}
# Runs COMMAND in the background and profiles the VM's CPU from SKIP s in, for LENGTH s.
profiled() { # WHAT SKIP LENGTH COMMAND...
	local what=$1 skip=$2 length=$3
	shift 3
	"$@" > "$QB_WORK/profiled.out" 2>&1 &
	local job=$!
	cpu_window "$what" "$skip" "$length"
	wait "$job"
}

for run in $(seq "$REPEAT"); do
	out=$(qbnet_cli_vm link-test --seconds "$SECS" 2>&1)
	record raw up "$run" "$(echo "$out" | sed -n 's/.*board -> host:[^0-9]*\([0-9.]*\) MB\/s.*/\1/p')"
	record raw down "$run" "$(echo "$out" | sed -n 's/.*host -> board:[^0-9]*\([0-9.]*\) MB\/s.*/\1/p')"
	echo "$out" | grep "MB/s"
done
NCM=1
[ -d "/sys/class/udc/$NCM_UDC" ] || { qb_log "no $NCM_UDC (boot with tests/usbvm/run.sh --udcs 2): NCM anchor skipped"; NCM=0; }
[ $NCM = 1 ] && { ncm_up || { qb_log "NCM anchor failed to come up: skipped"; NCM=0; }; }
[ $NCM = 1 ] && ncm_host down
export QBNET_JAVA_OPTS="-XX:+UseSerialGC"
qb_qbnet_start -q
qb_wait_linked 90 || qb_die "no link over USB"
# qbnet's first run each way after it links (the JIT is cold) is kept apart
# as tcp-first; the medians are of the runs after it.
measure tcp-first up 1 "$INET_ADDR"
measure tcp-first down 1 "$INET_ADDR"
# NCM and qbnet take turns, each way, REPEAT rounds.
for run in $(seq "$REPEAT"); do
	if [ $NCM = 1 ]; then
		ncm_host up
		ncm_ready || qb_log "NCM: no ping after its host end came up"
		measure ncm up "$run" "$NCM_HOST_ADDR"
		measure ncm down "$run" "$NCM_HOST_ADDR"
		ncm_host down
	fi
	measure tcp up "$run" "$INET_ADDR"
	measure tcp down "$run" "$INET_ADDR"
done
# One more run each way, profiled: where the emulated CPU's time goes.
profiled "TCP board to host" 2 5 qb_board iperf3 -c "$INET_ADDR" -p 5201 -t 8 -J
profiled "TCP host to board" 2 5 qb_board iperf3 -c "$INET_ADDR" -p 5201 -t 8 -R -J
qb_qbnet_stop
sleep 2
# link-test sends board to host for 15 s after its JVM starts: the window lands inside that half.
profiled "bare bulk board to host" 9 5 qbnet_cli_vm link-test --seconds 15
