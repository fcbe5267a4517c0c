#!/bin/bash
# Measures single-stream TCP throughput through qbnetd + qbnet (socket link)
# for a range of link MTUs: the numbers behind the default MTU. iperf3 runs
# between the simulated board and the test "internet" namespace only.
# Usage: bench/mtu-sweep.sh [MTU...]   (SECS=5 per direction; REPEAT=3)
set -u
QB_PREFIX=${QB_PREFIX:-qbmtu}
. "$(dirname "$0")/../tests/lib/topology.sh"
SECS=${SECS:-5}
REPEAT=${REPEAT:-3}
MTUS=("$@")
[ ${#MTUS[@]} -gt 0 ] || MTUS=(1500 4096 9000 16384 32768 65520)

qb_require_root
qb_require_built
command -v iperf3 >/dev/null || qb_die "iperf3 missing: tests/deps.sh bench"
trap 'qb_topology_down' EXIT
trap 'exit 130' INT TERM
qb_topology_up
qb_servers_up
ip netns exec "$INET_NS" iperf3 -s -p 5201 > "$QB_WORK/iperf3.log" 2>&1 &
qb_track $! iperf3
sleep 0.5

gbps() { # iperf3 -J output on stdin -> receiver Gbit/s
	python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-7s %-28s %-28s\n' MTU "upload Gb/s (median; runs)" "download Gb/s (median; runs)"
for mtu in "${MTUS[@]}"; do
	qb_qbnet_start --mtu "$mtu" -q
	[ -f "$QB_WORK/qbnetd.pid" ] && kill -0 "$(qbnetd_pid)" 2>/dev/null || qb_qbnetd_start -q
	for _ in $(seq 100); do
		[ "$(qb_board cat /sys/class/net/qb0/mtu 2>/dev/null)" = "$mtu" ] && qb_wait_linked 1 && break
		sleep 0.1
	done
	[ "$(qb_board cat /sys/class/net/qb0/mtu)" = "$mtu" ] || qb_die "board did not take MTU $mtu"
	ups=() downs=()
	for _ in $(seq "$REPEAT"); do
		ups+=("$(qb_board iperf3 -c "$INET_ADDR" -p 5201 -t "$SECS" -J | gbps)")
		downs+=("$(qb_board iperf3 -c "$INET_ADDR" -p 5201 -t "$SECS" -R -J | gbps)")
	done
	up=$(printf '%s\n' "${ups[@]}" | median)
	down=$(printf '%s\n' "${downs[@]}" | median)
	printf '%-7s %-28s %-28s\n' "$mtu" "$up (${ups[*]})" "$down (${downs[*]})"
	qb_qbnet_stop
done
