#!/bin/bash
# USB section of `make bench`, run INSIDE the USB test VM (bench.sh boots it):
# bare bulk throughput (qbnet link-test: no NAT, no TCP) against TCP goodput
# through the whole stack (board TUN, qbnetd, USB, qbnet's NAT, host
# sockets), each way, in the same VM run, and where the VM's CPU time goes
# during each (a per-process profile: the emulated CPU is the bottleneck).
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

trap 'qb_topology_down' EXIT
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
# One more run each way, profiled: where the emulated CPU's time goes.
profiled "TCP board to host" 2 5 qb_board iperf3 -c "$INET_ADDR" -p 5201 -t 8 -J
profiled "TCP host to board" 2 5 qb_board iperf3 -c "$INET_ADDR" -p 5201 -t 8 -R -J
qb_qbnet_stop
sleep 2
# link-test sends board to host for 15 s after its JVM starts: the window lands inside that half.
profiled "bare bulk board to host" 9 5 qbnet_cli_vm link-test --seconds 15
