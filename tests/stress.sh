#!/bin/bash
# Stress over the socket link, as root, in network namespaces (issue 11): many
# fast flows each way and both ways at once, short transfers with random
# aborts beside long downloads, a UDP blast beside TCP, 1% link loss. Every
# case checks sha256 where data is checked, no exception or ERROR line in
# either side's log, and one session for the board throughout (the same
# board id before and after). qbnet runs with its invariants checked (-ea).
# Usage: tests/stress.sh [case-name-substring...]
#        tests/stress.sh --soak SECONDS   (make soak: the same mix in rounds, with figures)
set -u
export QB_PREFIX=${QB_PREFIX:-qbs}
# The benchmarking range (RFC 2544) and a ULA of its own, so this can run beside another topology.
export INET_HOST_ADDR=198.18.71.1 INET_ADDR=198.18.71.2 INET6_HOST_ADDR=fd51:6279::1 INET6_ADDR=fd51:6279::2
export QBNET_JAVA_OPTS="${QBNET_JAVA_OPTS:-} -ea:dev.qbkit.qbnet..."
. "$(dirname "$0")/lib/topology.sh"
. "$(dirname "$0")/lib/cases.sh"

SECS=${STRESS_SECONDS:-2} # each iperf3 run
SOAK=0
if [ "${1:-}" = --soak ]; then
	SOAK=${2:?--soak SECONDS}
	shift 2
fi

# ---- helpers -----------------------------------------------------------------

status_field() { # PYTHON-EXPRESSION over the status JSON d
	qbnet_cli status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# The board's session, as "id:count": the same id before and after a case means no relink.
session() { status_field "'%s:%d' % (d['boards'][0]['id'] if d['boards'] else '-', len(d['boards']))"; }

# iperf3 -J on stdin -> receiver goodput in Gbit/s (the sum of both directions for --bidir), or nothing.
gbits() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
if "error" in d or "end" not in d: sys.exit(1)
e = d["end"]
total = e["sum_received"]["bits_per_second"] + (e["sum_received_bidir_reverse"]["bits_per_second"] if "sum_received_bidir_reverse" in e else 0)
print("%.2f" % (total / 1e9))'
}

# iperf3 from the board: iperf PORT ARGS... -> Gbit/s on stdout; fails the case if the run failed.
# The iperf3 server runs one test at a time and is "busy" until it has closed the last one's
# sockets, which can trail the client's exit by a moment after many streams: up to 10 tries,
# 0.5 s apart, each retry said on stderr. Any other error fails at once.
iperf() {
	local port=$1 out try
	shift
	for try in 1 2 3 4 5 6 7 8 9 10; do
		out=$(qb_board iperf3 -c "$INET_ADDR" -p "$port" -J --connect-timeout 5000 "$@") || true
		grep -q 'server is busy' <<< "$out" || break
		echo "    iperf3 $*: the server is still busy with the last test (try $try)" >&2
		sleep 0.5
	done
	echo "$out" | gbits || { echo "    iperf3 $* failed: $(echo "$out" | grep -m1 '"error"')" >&2; return 1; }
}

# Lines of a log from line N on that say something went wrong.
log_errors() { # FILE FROM-LINE
	tail -n +"$2" "$1" | grep -E 'ERROR|Exception|internal error|event loop failed|\] error:' | head -n 5
}

# Runs a stress case with the checks every case shares around it.
stress_case() { # NAME FUNCTION
	local name=$1 fn=$2
	run_case "$name" checked "$fn"
}

checked() {
	local fn=$1 before after host_line board_line errors
	before=$(session)
	host_line=$(($(wc -l < "$QB_WORK/qbnet.log") + 1))
	board_line=$(($(wc -l < "$QB_WORK/qbnetd.log") + 1))
	"$fn"
	after=$(session)
	errors=$(log_errors "$QB_WORK/qbnet.log" "$host_line"; log_errors "$QB_WORK/qbnetd.log" "$board_line")
	check "no exception or ERROR in either log: ${errors:-none}" [ -z "$errors" ]
	check "one session throughout (board id:count before $before, after $after)" [ "$before" = "$after" ]
	# The same id also after a link loss the hold covered (DESIGN.md "Connections survive an unplug"): the log tells.
	local losses
	losses=$(tail -n +"$host_line" "$QB_WORK/qbnet.log" | grep -c "link down" || true)
	check "no link loss at all, not even one the hold covered ($losses)" [ "$losses" = 0 ]
	check "exactly one board attached ($after)" [ "${after#*:}" = 1 ]
}

# ---- cases -------------------------------------------------------------------

case_iperf_matrix() {
	local p line
	for p in 1 4 16 64; do
		line="-P $p:"
		line="$line down $(iperf 5201 -P "$p" -t "$SECS" -R)"
		line="$line up $(iperf 5201 -P "$p" -t "$SECS")"
		line="$line both $(iperf 5201 -P "$p" -t "$SECS" --bidir)"
		note "iperf3 $line Gbit/s"
	done
}

case_parallel_goodput() {
	# A collapse detector, not a benchmark: the re-entrancy bug of issue 11 took 8 parallel
	# downloads to 0.07-0.64 Gbit/s against 6-9 for one stream (< 0.1x). Healthy runs on this
	# 2-core machine land at 0.68-1.3x, and iperf3 alone over a veth loses up to 20% with 8
	# streams, so a tight ratio here would only measure the machine's load; the ratio itself is
	# a row of make bench (doc/DESIGN.md, "No re-entrant writes"). Best of two runs each.
	local one eight ratio
	one=$(best_of_two 5201 -P 1 -t 2 -R)
	eight=$(best_of_two 5201 -P 8 -t 2 -R)
	ratio=$(awk -v a="$eight" -v b="$one" 'BEGIN { printf "%.2f", a / b }')
	note "download goodput, best of 2: 1 stream $one Gbit/s, 8 streams $eight Gbit/s, ratio $ratio"
	check "8 streams keep >= 50% of one stream's goodput ($ratio)" awk -v r="$ratio" 'BEGIN { exit !(r >= 0.5) }'
}

best_of_two() {
	local a b
	a=$(iperf "$@")
	b=$(iperf "$@")
	awk -v a="$a" -v b="$b" 'BEGIN { print (a > b ? a : b) }'
}

case_churn_beside_downloads() {
	local want_big pids=() i out rc=0
	want_big=$(sha256sum "$QB_WORK/www/big.bin" | cut -d' ' -f1)
	for i in 1 2; do
		qb_board bash -c "curl -sS --max-time 120 http://$INET_ADDR/big.bin | sha256sum | cut -d' ' -f1" \
			> "$QB_WORK/long-$i.sha" 2>&1 &
		pids+=($!)
	done
	out=$(qb_board $QBTOOL churn-get "$INET_ADDR" 80 --count 400 --workers 24 --seed "$RANDOM" \
		"small.bin=$(sha256sum "$QB_WORK/www/small.bin" | cut -d' ' -f1)" \
		"medium.bin=$(sha256sum "$QB_WORK/www/medium.bin" | cut -d' ' -f1)" \
		"1m.bin=$(sha256sum "$QB_WORK/www/1m.bin" | cut -d' ' -f1)") || rc=$?
	for i in "${!pids[@]}"; do wait "${pids[$i]}"; done
	note "400 short transfers, some aborted at random, beside two 100 MiB downloads: $out"
	check "every completed short transfer had the right body, none failed ($out)" [ "$rc" = 0 ]
	local mixed=no
	[[ $out == aborted=*\ ok=* ]] && mixed=yes
	check "some transfers were aborted and some completed ($out)" [ $mixed = yes ]
	for i in 1 2; do
		check "long download $i sha256 ($(cat "$QB_WORK/long-$i.sha"))" [ "$(cat "$QB_WORK/long-$i.sha")" = "$want_big" ]
	done
}

case_udp_blast_beside_tcp() {
	local want got udp
	want=$(sha256sum "$QB_WORK/www/big.bin" | cut -d' ' -f1)
	qb_board iperf3 -c "$INET_ADDR" -p 5202 -u -b 2G -l 1400 -t 4 -R -J > "$QB_WORK/udp-blast.json" 2>&1 &
	local blast=$!
	got=$(qb_board curl -sS --max-time 120 "http://$INET_ADDR/big.bin" | sha256sum | cut -d' ' -f1)
	wait $blast || true
	udp=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["end"]["sum"]; print("%.2f Gbit/s, %.1f%% lost" % (e["bits_per_second"]/1e9, e["lost_percent"]))' \
		"$QB_WORK/udp-blast.json" 2>/dev/null || echo "no result")
	note "UDP blast toward the board ($udp) beside a 100 MiB TCP download"
	check "the UDP blast ran ($udp)" [ "$udp" != "no result" ]
	check "TCP download sha256 beside the UDP blast" [ "$got" = "$want" ]
}

case_loss_p16_both_ways() {
	# A qbnet with 1% of frames dropped each way: a fresh session, then the load.
	qb_qbnet_stop
	qb_qbnet_start --test-drop-frames 0.01
	check "relinked with 1% loss" qb_wait_linked 30
	checked loss_load
	qb_qbnet_stop
	qb_qbnet_start
	check "relinked without loss" qb_wait_linked 30
}

loss_load() {
	local g want got
	want=$(sha256sum "$QB_WORK/www/big.bin" | cut -d' ' -f1)
	g=$(iperf 5201 -P 16 -t 3 --bidir)
	got=$(qb_board curl -sS --max-time 120 "http://$INET_ADDR/big.bin" | sha256sum | cut -d' ' -f1)
	note "1% loss each way: iperf3 -P 16 both ways $g Gbit/s"
	check "100 MiB download with 1% loss, sha256" [ "$got" = "$want" ]
}

# ---- main --------------------------------------------------------------------

SELECTED=("$@")
qb_suite_up 65536
head -c 4096 /dev/urandom > "$QB_WORK/www/small.bin"
head -c 1048576 /dev/urandom > "$QB_WORK/www/1m.bin"
for port in 5201 5202; do
	ip netns exec "$INET_NS" iperf3 -s -p $port > "$QB_WORK/iperf3-$port.log" 2>&1 &
	qb_track $! iperf3-$port
done
qb_qbnet_start
qb_qbnetd_start
qb_wait_linked 20 || qb_die "board did not link: $(tail -n 20 "$QB_WORK/qbnetd.log") / $(tail -n 20 "$QB_WORK/qbnet.log")"

# After a round, once its flows have ended: what qbnet holds. Growth here across rounds is a leak;
# RSS alone is not one (the heap grows to what the load asked for).
soak_figures() { # ROUND
	local pid fig
	pid=$(qbnet_pid)
	for _ in $(seq 50); do
		[ "$(status_field "d['boards'][0]['flows']['tcp']")" = 0 ] && break
		sleep 0.2
	done
	fig=$(qbnet_cli status --json --gc | python3 -c "
import json, sys
d = json.load(sys.stdin); b = d['boards'][0]; f = b['flows']
print('flows tcp %d udp %d, buffered %d KiB, heap after GC %d MiB' % (f['tcp'], f['udp'], f['bufferedBytes'] >> 10, d['jvm']['heapUsedBytes'] >> 20))")
	note "round $1: $fig; qbnet RSS $(($(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status) / 1024)) MiB," \
		"fds $(ls /proc/"$pid"/fd | wc -l); qbnetd RSS $(($(awk '/VmRSS/ { print $2 }' /proc/"$(qbnetd_pid)"/status) / 1024)) MiB"
}

one_round() {
	stress_case iperf-P1-4-16-64 case_iperf_matrix
	stress_case parallel-goodput case_parallel_goodput
	stress_case churn-beside-downloads case_churn_beside_downloads
	stress_case udp-blast-beside-tcp case_udp_blast_beside_tcp
}

if [ "$SOAK" -gt 0 ]; then
	end=$(($(date +%s) + SOAK))
	round=0
	while [ "$(date +%s)" -lt "$end" ]; do
		round=$((round + 1))
		echo "=== soak round $round ($(( end - $(date +%s) )) s left)"
		one_round
		soak_figures "$round"
	done
	run_case loss-1pct-P16-both-ways case_loss_p16_both_ways
	qb_summary "soak ($round rounds, $SOAK s)"
else
	one_round
	run_case loss-1pct-P16-both-ways case_loss_p16_both_ways
	qb_summary stress
fi
