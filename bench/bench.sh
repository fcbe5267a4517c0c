#!/bin/bash
# `make bench`: qbnet side by side with slirp4netns and pasta, in one run on
# this machine, then doc/PERFORMANCE.md and doc/performance.png from the
# figures. Throughput: iperf3 single stream, upload (board to host) and
# download, at MTU 1500 and 65520, REPEAT runs each (median and spread).
# Latency: 1-byte TCP request/response and HTTP/1.0 connection setup. Scale: 10 000 idle TCP flows.
# USB: bare bulk, TCP through the stack and the kernel's NCM as the anchor,
# with CPU per GB, in the USB test VM at high and super speed (USB_SPEEDS).
# Every server listens on this host's loopback; every client is in a
# namespace these scripts create. Usage: bench/bench.sh [section...]
# Parallel: download goodput with 8 streams against one, qbnet and pasta.
# sections: qbnet slirp pasta parallel latency scale usb (default: all)
set -u
QB_PREFIX=${QB_PREFIX:-qbbench}
. "$(dirname "$0")/../tests/lib/topology.sh"
. "$(dirname "$0")/lib.sh"
SECS=${SECS:-5}
REPEAT=${REPEAT:-3}
MTUS=(${MTUS:-1500 65520})
OUT=${BENCH_OUT:-$QB_ROOT/bench/results}
RESULTS=$OUT/results.tsv
IPERF_PORT=5201
RR_PORT=5300
HTTP_PORT=5400
SECTIONS=("$@")
[ ${#SECTIONS[@]} -gt 0 ] || SECTIONS=(qbnet slirp pasta parallel latency scale usb)

qb_require_root
qb_require_built
for tool in iperf3 slirp4netns pasta gnuplot python3 ab nginx; do
	command -v $tool >/dev/null || qb_die "$tool missing: run tests/deps.sh bench"
done
mkdir -p "$OUT"
: > "$RESULTS"
trap 'qb_topology_down; pkill -f "qbtool.py rr-server --bind 127.0.0.1 --port $RR_PORT" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

# section  system  mtu  metric  run  value  unit
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"; }

gbps() { # iperf3 -J on stdin -> receiver Gbit/s (empty on failure)
	python3 -c 'import json,sys
try: print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: pass'
}

# throughput SYSTEM MTU COMMAND-PREFIX... : REPEAT up and down runs against the loopback server at $TARGET
throughput() {
	local system=$1 mtu=$2
	shift 2
	local run dir value
	for run in $(seq "$REPEAT"); do
		for dir in up down; do
			local flag=""
			[ $dir = down ] && flag=-R
			value=$("$@" iperf3 -c "$TARGET" -p $IPERF_PORT -t "$SECS" $flag -J 2>/dev/null | gbps)
			[ -n "$value" ] || { qb_log "$system mtu $mtu $dir run $run: iperf3 failed"; continue; }
			record throughput "$system" "$mtu" "$dir" "$run" "$value" Gbit/s
			qb_log "$system mtu $mtu $dir: $value Gbit/s"
		done
	done
}

start_servers() {
	pkill -f "iperf3 -s -p $IPERF_PORT" 2>/dev/null
	iperf3 -s -p $IPERF_PORT > "$QB_WORK/iperf3-server.log" 2>&1 &
	qb_track $! iperf3-server
	$QBTOOL rr-server --bind 127.0.0.1 --port $RR_PORT > "$QB_WORK/rr-server.log" 2>&1 &
	qb_track $! rr-server
	sleep 0.5
}

# ---- qbnet over the socket link --------------------------------------------------

qbnet_up() { # MTU [qbnet flags...]
	local mtu=$1
	shift
	qb_qbnet_start --mtu "$mtu" --allow-host-loopback -q "$@"
	[ -f "$QB_WORK/qbnetd.pid" ] && kill -0 "$(qbnetd_pid)" 2>/dev/null || qb_qbnetd_start -q
	for _ in $(seq 200); do
		[ "$(qb_board cat /sys/class/net/qb0/mtu 2>/dev/null)" = "$mtu" ] &&
			qb_board bash -c "exec 3<>/dev/tcp/$GATEWAY_ADDR/$IPERF_PORT" 2>/dev/null && return 0
		sleep 0.1
	done
	qb_die "qbnet did not link at MTU $mtu: $(tail -n 5 "$QB_WORK/qbnet.log")"
}

section_qbnet() {
	TARGET=$GATEWAY_ADDR # the gateway is the host's loopback with --allow-host-loopback
	local mtu
	for mtu in "${MTUS[@]}"; do
		qbnet_up "$mtu"
		throughput qbnet "$mtu" ip netns exec "$BOARD_NS"
		qb_qbnet_stop
		qbnet_up "$mtu" --no-offload
		throughput "qbnet-no-offload" "$mtu" ip netns exec "$BOARD_NS"
		qb_qbnet_stop
	done
}

# ---- anchors ----------------------------------------------------------------------

section_slirp() {
	TARGET=10.0.2.2 # slirp's gateway is the host's loopback
	local mtu child slirp
	for mtu in "${MTUS[@]}"; do
		[ "$mtu" -gt 65521 ] && mtu=65521
		unshare -n sleep 3600 &
		child=$!
		sleep 0.3
		slirp4netns --configure --mtu="$mtu" "$child" tap0 > "$QB_WORK/slirp.log" 2>&1 &
		slirp=$!
		sleep 1
		throughput slirp4netns "$mtu" nsenter -t "$child" -n
		kill "$slirp" "$child" 2>/dev/null
		wait "$slirp" "$child" 2>/dev/null
	done
}

pasta_gateway() { ip route show default | awk '{ print $3; exit }'; }

section_pasta() {
	TARGET=$(pasta_gateway) # pasta maps its gateway address to the host's loopback
	[ -n "$TARGET" ] || { qb_log "pasta skipped: this host has no default route"; return; }
	local mtu
	for mtu in "${MTUS[@]}"; do
		throughput pasta "$mtu" pasta --runas 0 --config-net -q -m "$mtu" --
	done
}

# ---- parallel streams ---------------------------------------------------------------

# streams SYSTEM COMMAND-PREFIX... : REPEAT interleaved downloads with 1 and 8 streams (MTU 65520)
streams() {
	local system=$1 run p value
	shift
	for run in $(seq "$REPEAT"); do
		for p in 1 8; do
			value=$("$@" iperf3 -c "$TARGET" -p $IPERF_PORT -t "$SECS" -P $p -R -J 2>/dev/null | gbps)
			[ -n "$value" ] || { qb_log "$system -P $p run $run: iperf3 failed"; continue; }
			record parallel "$system" 65520 "down -P $p" "$run" "$value" Gbit/s
			qb_log "$system download -P $p: $value Gbit/s"
		done
	done
}

# Issue 11: 8 parallel downloads must not cost qbnet more than they cost pasta (or the kernel:
# iperf3 3.12 serves every stream on one thread and loses ~20% with 8 on two cores by itself).
section_parallel() {
	TARGET=$GATEWAY_ADDR
	qbnet_up 65520
	streams qbnet ip netns exec "$BOARD_NS"
	qb_qbnet_stop
	TARGET=$(pasta_gateway)
	[ -n "$TARGET" ] && streams pasta pasta --runas 0 --config-net -q -m 65520 --
}

# ---- latency and connection setup ------------------------------------------------

# Issue 15: the three systems take turns run by run (qbnet, slirp4netns, pasta, then
# again), so a slow minute of this shared machine hits all of them; each system first
# gets one discarded warm-up turn (qbnet's JIT compiles its hot path in the first
# ~20 000 packets; the anchors are C and gain nothing from it, which costs them nothing).
# Round trips: `qbtool rr-client` (1-byte TCP request/response, 3 s). Connection setup:
# `ab -n 2000 -c 20` HTTP/1.0, a new connection per request, against nginx on loopback
# (nginx, not a Python server: it must not be the limit, see doc/DESIGN.md).

# rr_turn SYSTEM HOST RUN COMMAND-PREFIX... : one 3 s round-trip run (RUN 0: warm-up, not recorded)
rr_turn() {
	local system=$1 host=$2 run=$3 out
	shift 3
	out=$("$@" $QBTOOL rr-client "$host" $RR_PORT --seconds 3 2>/dev/null) || { qb_log "$system rr run $run failed"; return; }
	[ "$run" = 0 ] && return
	record latency "$system" - "round trips/s" "$run" "${out% *}" "1/s"
	record latency "$system" - "rtt" "$run" "${out#* }" us
	qb_log "$system: ${out% *} round trips/s, ${out#* } us per round trip"
}

# http_turn SYSTEM HOST RUN COMMAND-PREFIX... : one ab run of 2000 HTTP/1.0 requests, 20 at a time
http_turn() {
	local system=$1 host=$2 run=$3 out
	shift 3
	out=$("$@" ab -q -n 2000 -c 20 "http://$host:$HTTP_PORT/" 2>&1)
	local rps
	rps=$(ab_rate <<< "$out") || { qb_log "$system ab run $run failed: $(tail -n 2 <<< "$out")"; return; }
	[ "$run" = 0 ] && return
	record latency "$system" - "HTTP/1.0 requests/s" "$run" "$rps" "1/s"
	qb_log "$system: $rps HTTP/1.0 requests/s"
}

section_latency() {
	qb_nginx_up "$HTTP_PORT"
	qbnet_up 65520
	local out
	out=$(qb_board ping -n -q -c 20 -i 0.05 -W 2 "$GATEWAY_ADDR" | sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p')
	[ -n "$out" ] && record latency qbnet - "ping gateway" 1 "$out" ms
	local child slirp gw run
	unshare -n sleep 3600 &
	child=$!
	sleep 0.3
	slirp4netns --configure --mtu=65520 "$child" tap0 > "$QB_WORK/slirp.log" 2>&1 &
	slirp=$!
	sleep 1
	gw=$(pasta_gateway)
	local pasta_cmd=(pasta --runas 0 --config-net -q -m 65520 --)
	for run in $(seq 0 "$REPEAT"); do
		rr_turn qbnet "$GATEWAY_ADDR" "$run" ip netns exec "$BOARD_NS"
		rr_turn slirp4netns 10.0.2.2 "$run" nsenter -t "$child" -n
		[ -n "$gw" ] && rr_turn pasta "$gw" "$run" "${pasta_cmd[@]}"
		http_turn qbnet "$GATEWAY_ADDR" "$run" ip netns exec "$BOARD_NS"
		http_turn slirp4netns 10.0.2.2 "$run" nsenter -t "$child" -n
		[ -n "$gw" ] && http_turn pasta "$gw" "$run" "${pasta_cmd[@]}"
	done
	kill "$slirp" "$child" 2>/dev/null
	wait "$slirp" "$child" 2>/dev/null
	qb_qbnet_stop
}

# ---- scale ------------------------------------------------------------------------

section_scale() {
	local n=${SCALE_FLOWS:-10000} pid heap0 heap1 rss0 rss1 cpu0 cpu1 hz t0
	# Start to link: a new JVM and a new qbnetd, until the board reaches the host's loopback.
	qb_qbnetd_stop 2>/dev/null
	t0=${EPOCHREALTIME//[!0-9]/}
	qbnet_up 65520
	record scale qbnet - "start to link" 1 "$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))" ms
	sleep 5 # idle: the JVM's start-up garbage collected, native memory trimmed
	ip netns exec "$INET_NS" $QBTOOL hold-server --bind 0.0.0.0 --port 7002 > "$QB_WORK/hold-server.log" 2>&1 &
	qb_track $! hold-server
	for _ in $(seq 50); do qb_inet bash -c "exec 3<>/dev/tcp/$INET_ADDR/7002" 2>/dev/null && break; sleep 0.1; done
	pid=$(qbnet_pid)
	status() { qbnet_cli status --json --gc | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
	heap0=$(status "d['jvm']['heapUsedBytes']")
	rss0=$(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status)
	rm -f "$QB_WORK/release"
	ip netns exec "$BOARD_NS" bash -c "ulimit -n 65536; exec $QBTOOL hold-connections $INET_ADDR 7002 --count $n --seconds 300 --timeout 20 --release-file $QB_WORK/release" > "$QB_WORK/hold.log" 2>&1 &
	local holder=$!
	for _ in $(seq 1200); do grep -q "open $n" "$QB_WORK/hold.log" && break; sleep 0.1; done
	grep -q "open $n" "$QB_WORK/hold.log" || qb_die "could not open $n connections: $(tail -n 2 "$QB_WORK/hold.log")"
	heap1=$(status "d['jvm']['heapUsedBytes']")
	rss1=$(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status)
	record scale qbnet - "heap per idle flow" 1 "$(awk -v a="$heap0" -v b="$heap1" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / n / 1024 }')" KiB
	record scale qbnet - "RSS per idle flow" 1 "$(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / n }')" KiB
	record scale qbnet - "RSS idle" 1 "$((rss0 / 1024))" MiB
	record scale qbnet - "RSS with $n idle flows" 1 "$((rss1 / 1024))" MiB
	hz=$(getconf CLK_TCK)
	sleep 2
	cpu0=$(awk '{ print $14 + $15 }' /proc/"$pid"/stat)
	sleep 10
	cpu1=$(awk '{ print $14 + $15 }' /proc/"$pid"/stat)
	record scale qbnet - "CPU with $n idle flows" 1 "$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz / 10 * 100 }')" "% of a core"
	qb_log "scale: $(tail -n 3 "$RESULTS" | cut -f4,6,7 | tr '\t\n' ' ')"
	touch "$QB_WORK/release"
	wait $holder
	qb_qbnet_stop
}

# ---- USB ---------------------------------------------------------------------------

section_usb() {
	local speed out
	for speed in ${USB_SPEEDS:-high super}; do
		out=$QB_WORK/usbvm-$speed
		mkdir -p "$out"
		# Two UDCs: qbnet's gadget on the first, the kernel NCM anchor on the second.
		QB_USBVM_OUT=$out "$QB_ROOT/tests/usbvm/run.sh" --speed "$speed" --udcs 2 --timeout 1500 \
			"$QB_ROOT/bench/usb-vm-bench.sh" || { qb_log "USB bench ($speed) failed"; continue; }
		cat "$out/results.tsv" >> "$RESULTS"
	done
}

qb_log "benchmark: $SECS s per run, $REPEAT runs, MTUs ${MTUS[*]}; results in $RESULTS"
qb_topology_up
qb_servers_up
start_servers
for s in "${SECTIONS[@]}"; do
	qb_log "== $s"
	"section_$s"
done
python3 "$QB_ROOT/bench/report.py" "$RESULTS" "$QB_ROOT/doc/PERFORMANCE.md" "$QB_ROOT/doc/performance.png"
