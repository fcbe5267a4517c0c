#!/bin/bash
# Where a qbnet round trip goes (issue 15): one warmed 1-byte request/response
# run from the board namespace to a server on the host's loopback, with CPU
# per round trip of qbnetd and the JVM from /proc, their system calls per
# round trip (strace -c, a second run) and, with --perf, a perf profile of the
# JVM with its JIT frames named (perf map). Usage: bench/rr-profile.sh [--perf]
set -u
QB_PREFIX=${QB_PREFIX:-qbprof}
. "$(dirname "$0")/../tests/lib/topology.sh"
SECS=${SECS:-5}
RR_PORT=5310
PERF=0
[ "${1:-}" = --perf ] && PERF=1

qb_require_root
qb_require_built
command -v strace >/dev/null || qb_die "strace missing: apt-get install strace"
[ $PERF = 0 ] || command -v perf >/dev/null || qb_die "perf missing: apt-get install linux-perf"
trap 'qb_topology_down; pkill -f "qbtool.py rr-server --bind 127.0.0.1 --port $RR_PORT" 2>/dev/null' EXIT

qb_topology_up
$QBTOOL rr-server --bind 127.0.0.1 --port $RR_PORT > "$QB_WORK/rr-server.log" 2>&1 &
qb_track $! rr-server
opts="-XX:+UnlockDiagnosticVMOptions -XX:+PreserveFramePointer -XX:+DumpPerfMapAtExit"
QBNET_JAVA_OPTS="${QBNET_JAVA_OPTS:-} $opts" qb_qbnet_start --mtu 65520 --allow-host-loopback -q
qb_qbnetd_start -q
for _ in $(seq 100); do
	qb_board bash -c "exec 3<>/dev/tcp/$GATEWAY_ADDR/$RR_PORT" 2>/dev/null && break
	sleep 0.1
done
jvm=$(qbnet_pid)
daemon=$(qbnetd_pid)
rr() { qb_board $QBTOOL rr-client "$GATEWAY_ADDR" $RR_PORT --seconds "$1"; }
ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

qb_log "warm-up: $(rr 5)"
read -r ju0 js0 < <(ticks "$jvm")
read -r du0 ds0 < <(ticks "$daemon")
out=$(rr "$SECS")
read -r ju1 js1 < <(ticks "$jvm")
read -r du1 ds1 < <(ticks "$daemon")
n=$(awk -v r="${out% *}" -v s="$SECS" 'BEGIN { printf "%d", r * s }')
hz=$(getconf CLK_TCK)
per() { awk -v a="$1" -v b="$2" -v n="$n" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) / hz / n * 1e6 }'; }
qb_log "measured: ${out% *} round trips/s, ${out#* } us each"
qb_log "CPU per round trip, us: qbnet user $(per "$ju0" "$ju1") sys $(per "$js0" "$js1"); qbnetd user $(per "$du0" "$du1") sys $(per "$ds0" "$ds1")"

if [ $PERF = 1 ]; then
	perf record -F 4999 -g -p "$jvm" -o "$QB_WORK/perf.data" -- sleep "$SECS" > /dev/null 2>&1 &
	perf_pid=$!
	sleep 0.2
	rr "$SECS" > /dev/null
	wait $perf_pid
fi

# System calls per round trip: strace costs each call, so its run's rate is not the figure above.
for who in jvm daemon; do
	pid=${!who}
	timeout $((SECS + 3)) strace -c -f -p "$pid" -o "$QB_WORK/strace-$who.txt" &
	tracer=$!
	sleep 0.5
	out=$(rr "$SECS")
	kill -INT $tracer 2>/dev/null
	wait $tracer 2>/dev/null
	n=$(awk -v r="${out% *}" -v s="$SECS" 'BEGIN { printf "%d", r * s }')
	qb_log "$who system calls per round trip (traced: ${out% *} round trips/s):"
	awk -v n="$n" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $4 / n >= 0.05 { printf "    %-16s %.2f\n", $NF, $4 / n }' "$QB_WORK/strace-$who.txt"
done

qb_qbnet_stop # the JVM writes its perf map (/tmp/perf-PID.map) as it exits
if [ $PERF = 1 ]; then
	sleep 1
	perf report -i "$QB_WORK/perf.data" --no-children --sort dso,sym --stdio 2> /dev/null | grep -v '^#' | grep '%' | head -n 40
fi
