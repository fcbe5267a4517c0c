#!/bin/bash
# Where qbnet's time goes (issue 15): a warmed load from the board namespace to
# a server on the host's loopback, either 1-byte request/response round trips
# (rr), HTTP/1.0 requests with a new connection each (http: ab -c 20 against
# nginx) or one iperf3 download at MTU 65520 (down: an exchange is a MB), with CPU per exchange of qbnetd and the JVM from /proc, their
# system calls per exchange (strace -c, a second run) and, with --perf, a perf
# profile of the JVM with its JIT frames named (perf map).
# Usage: bench/profile.sh [rr|http|down] [--perf]
set -u
QB_PREFIX=${QB_PREFIX:-qbprof}
. "$(dirname "$0")/../tests/lib/topology.sh"
. "$(dirname "$0")/lib.sh"
SECS=${SECS:-5}
RR_PORT=5310
HTTP_PORT=5410
IPERF_PORT=5211
LOAD=rr
PERF=0
for arg in "$@"; do
	case $arg in
	rr | http | down) LOAD=$arg ;;
	--perf) PERF=1 ;;
	*) echo "usage: bench/profile.sh [rr|http|down] [--perf]" >&2; exit 2 ;;
	esac
done

qb_require_root
qb_require_built
command -v strace >/dev/null || qb_die "strace missing: apt-get install strace"
[ $PERF = 0 ] || command -v perf >/dev/null || qb_die "perf missing: apt-get install linux-perf"
[ $LOAD = rr ] || command -v ab nginx >/dev/null || qb_die "ab or nginx missing: run tests/deps.sh bench"
trap 'qb_topology_down; pkill -f "qbtool.py rr-server --bind 127.0.0.1 --port $RR_PORT" 2>/dev/null' EXIT

qb_topology_up
$QBTOOL rr-server --bind 127.0.0.1 --port $RR_PORT > "$QB_WORK/rr-server.log" 2>&1 &
qb_track $! rr-server
[ $LOAD = http ] && qb_nginx_up "$HTTP_PORT"
if [ $LOAD = down ]; then
	iperf3 -s -p $IPERF_PORT > "$QB_WORK/iperf3-server.log" 2>&1 &
	qb_track $! iperf3-server
fi
opts="-XX:+UnlockDiagnosticVMOptions -XX:+PreserveFramePointer -XX:+DumpPerfMapAtExit"
QBNET_JAVA_OPTS="${QBNET_JAVA_OPTS:-} $opts" qb_qbnet_start --mtu 65520 --allow-host-loopback -q
qb_qbnetd_start -q
for _ in $(seq 100); do
	qb_board bash -c "exec 3<>/dev/tcp/$GATEWAY_ADDR/$RR_PORT" 2>/dev/null && break
	sleep 0.1
done
jvm=$(qbnet_pid)
daemon=$(qbnetd_pid)
# load SECONDS: prints "EXCHANGES-PER-SECOND MICROSECONDS-EACH"
load() {
	if [ $LOAD = rr ]; then
		qb_board $QBTOOL rr-client "$GATEWAY_ADDR" $RR_PORT --seconds "$1"
		return
	fi
	local out rps
	if [ $LOAD = down ]; then
		out=$(qb_board iperf3 -c "$GATEWAY_ADDR" -p $IPERF_PORT -t "$1" -R -J 2>/dev/null |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bytes"] / 1e6)') ||
			qb_die "iperf3 failed"
		awk -v mb="$out" -v s="$1" 'BEGIN { printf "%d %.1f\n", mb / s, 1e6 * s / mb }'
		return
	fi
	out=$(qb_board ab -q -t "$1" -n 1000000 -c 20 "http://$GATEWAY_ADDR:$HTTP_PORT/" 2>&1)
	rps=$(ab_rate <<< "$out") || qb_die "ab failed: $(tail -n 3 <<< "$out")"
	awk -v r="$rps" 'BEGIN { printf "%d %.1f\n", r, 1e6 / r }'
}
ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

qb_log "warm-up: $(load 5)"
read -r ju0 js0 < <(ticks "$jvm")
read -r du0 ds0 < <(ticks "$daemon")
out=$(load "$SECS")
read -r ju1 js1 < <(ticks "$jvm")
read -r du1 ds1 < <(ticks "$daemon")
n=$(awk -v r="${out% *}" -v s="$SECS" 'BEGIN { printf "%d", r * s }')
hz=$(getconf CLK_TCK)
per() { awk -v a="$1" -v b="$2" -v n="$n" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) / hz / n * 1e6 }'; }
qb_log "measured: ${out% *} $LOAD exchanges/s, ${out#* } us each"
qb_log "CPU per exchange, us: qbnet user $(per "$ju0" "$ju1") sys $(per "$js0" "$js1"); qbnetd user $(per "$du0" "$du1") sys $(per "$ds0" "$ds1")"

if [ $PERF = 1 ]; then
	perf record -F 4999 -g -p "$jvm" -o "$QB_WORK/perf.data" -- sleep "$SECS" > /dev/null 2>&1 &
	perf_pid=$!
	sleep 0.2
	load "$SECS" > /dev/null
	wait $perf_pid
fi

# System calls per exchange: strace costs each call, so its run's rate is not the figure above.
for who in jvm daemon; do
	pid=${!who}
	timeout $((SECS + 3)) strace -c -f -p "$pid" -o "$QB_WORK/strace-$who.txt" &
	tracer=$!
	sleep 0.5
	out=$(load "$SECS")
	kill -INT $tracer 2>/dev/null
	wait $tracer 2>/dev/null
	n=$(awk -v r="${out% *}" -v s="$SECS" 'BEGIN { printf "%d", r * s }')
	qb_log "$who system calls per exchange (traced: ${out% *} exchanges/s):"
	awk -v n="$n" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $4 / n >= 0.05 { printf "    %-16s %.2f\n", $NF, $4 / n }' "$QB_WORK/strace-$who.txt"
done

qb_qbnet_stop # the JVM writes its perf map (/tmp/perf-PID.map) as it exits
if [ $PERF = 1 ]; then
	sleep 1
	perf report -i "$QB_WORK/perf.data" --no-children --sort dso,sym --stdio 2> /dev/null | grep -v '^#' | grep '%' | head -n 40
fi
