#!/bin/bash
# Fault injection end to end, as root, in network namespaces (tests/lib):
# kill -9 of the host driver mid-transfer, kill -9 of the board daemon with
# flows open, and a hostile board (tests/tools/hostile_board.py) beside a
# good one that keeps transferring. Traffic stays inside the namespaces.
# Usage: tests/robustness.sh [case-name-substring...]
set -u
export QB_PREFIX=${QB_PREFIX:-qbrob}
export QBNET_JAVA_OPTS="${QBNET_JAVA_OPTS:-} -ea:dev.qbkit.qbnet..." # invariants checked
# TEST-NET-3 and a ULA of its own, so this can run beside another topology.
export INET_HOST_ADDR=203.0.113.1 INET_ADDR=203.0.113.2 INET6_HOST_ADDR=fd51:6275::1 INET6_ADDR=fd51:6275::2
. "$(dirname "$0")/lib/topology.sh"
. "$(dirname "$0")/lib/cases.sh"

HOLD_PORT=7002
FLOOD=${HOSTILE_FLOOD:-3000}
MAX_TCP_FLOWS=2500
HOLD_S=3 # a board that goes is held this long (--hold), then its flows are freed: the cases wait that out
QBNET_ARGS=(--max-tcp-flows "$MAX_TCP_FLOWS" --hold "${HOLD_S}s")

fds() { ls /proc/"$1"/fd 2>/dev/null | wc -l; }
rss_kib() { awk '/VmRSS/ { print $2 }' /proc/"$1"/status; }
json() { # PYTHON-EXPRESSION over the status JSON d
	qbnet_cli status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

# Seconds from now until the board's ping to the gateway (answered by the
# host's NAT) gets a reply: the whole path board -> link -> NAT -> back.
until_ping() {
	local start=$(date +%s.%N) limit=$1
	while ! qb_board ping -n -c 1 -W 0.3 "$GATEWAY_ADDR" > /dev/null 2>&1; do
		less_than "$(since "$start")" "$limit" || return 1
		sleep 0.05
	done
	since "$start"
}

# Waits until the qbnet process has at most N fds; prints how long it took.
until_fds_at_most() {
	local pid=$1 n=$2 limit=$3 start=$(date +%s.%N)
	while [ "$(fds "$pid")" -gt "$n" ]; do
		less_than "$(since "$start")" "$limit" || return 1
		sleep 0.1
	done
	since "$start"
}

# The good board's traffic during the attack: 100 MiB transfers back to back
# until $QB_WORK/good.stop exists; prints "OK BAD" counts of sha256 checks.
good_loop() {
	local what=$1 want=$2 ok=0 bad=0 got
	while [ ! -e "$QB_WORK/good.stop" ]; do
		if [ "$what" = download ]; then
			got=$(qb_board curl -sS --max-time 60 "http://$INET_ADDR/big.bin" | sha256sum | cut -d' ' -f1)
		else
			got=$(qb_board curl -sS --max-time 60 -T "$QB_WORK/upload.bin" "http://$INET_ADDR/upload" | cut -d' ' -f1)
		fi
		if [ "$got" = "$want" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
	done
	echo "$ok $bad"
}

# ---- cases -------------------------------------------------------------------

case_host_kill9_relinks() {
	local board_pid board_fds0 board_fds1 took_link rc=0
	board_pid=$(qbnetd_pid)
	board_fds0=$(fds "$board_pid")
	qb_board curl -sS --max-time 15 --limit-rate 4M -o /dev/null "http://$INET_ADDR/big.bin" > "$QB_WORK/cut.log" 2>&1 &
	local curl=$!
	sleep 1.5
	kill -9 "$(qbnet_pid)"
	local killed=$(date +%s.%N)
	sleep 2
	check "qbnetd still runs 2 s after the host driver was killed" kill -0 "$board_pid"
	check "qbnetd noticed the host went away" grep -q "link down\|connection closed\|host closed\|reconnect" "$QB_WORK/qbnetd.log"
	qb_qbnet_start "${QBNET_ARGS[@]}"
	local started=$(date +%s.%N)
	took_link=$(until_ping 30) || { echo "    the board did not relink" >&2; return 1; }
	qbnet_cli status > /dev/null # warm the new driver's control side, as at the start
	note "host driver kill -9 mid-download: relinked $(since "$started") s after the new qbnet started (JVM start included), $(since "$killed") s after the kill; board ping answered ${took_link} s into the wait"
	check "qbnetd kept running through it (same pid)" kill -0 "$board_pid"
	wait $curl || rc=$?
	note "the cut download ended with curl exit $rc: $(tr '\n' ' ' < "$QB_WORK/cut.log" | head -c 120)"
	check "the cut transfer failed rather than finishing silently short (curl exit $rc)" [ "$rc" != 0 ]
	local got
	got=$(qb_board curl -sS --max-time 60 "http://$INET_ADDR/medium.bin" | sha256sum | cut -d' ' -f1)
	check "a new download after the relink is intact" [ "$got" = "$(sha "$QB_WORK/www/medium.bin")" ]
	board_fds1=$(fds "$board_pid")
	note "qbnetd fds before/after the host's kill -9 and relink: $board_fds0 -> $board_fds1"
	check "qbnetd holds no more fds than before ($board_fds0 -> $board_fds1)" [ "$board_fds1" -le "$board_fds0" ]
}

case_board_kill9_frees_flows() {
	local host_pid base with after took rss0 rss1 n=300
	host_pid=$(qbnet_pid)
	base=$(fds "$host_pid")
	rss0=$(rss_kib "$host_pid")
	ip netns exec "$BOARD_NS" $QBTOOL hold-connections "$INET_ADDR" "$HOLD_PORT" --count $n --seconds 60 \
		--release-file "$QB_WORK/hold.release" > "$QB_WORK/hold.log" 2>&1 &
	local holder=$!
	for _ in $(seq 200); do grep -q "open $n" "$QB_WORK/hold.log" && break; sleep 0.1; done
	check "$n connections open through the NAT" grep -q "open $n" "$QB_WORK/hold.log"
	with=$(fds "$host_pid")
	check "qbnet holds a socket for each ($base -> $with fds)" [ "$with" -ge $((base + n)) ]
	kill -9 "$(qbnetd_pid)"
	local held
	held=$(json "[b['state'] for b in d['boards']]")
	check "qbnet holds the board first (--hold ${HOLD_S}s): $held" grep -q "held" <<< "$held"
	took=$(until_fds_at_most "$host_pid" "$base" 15) || {
		echo "    qbnet still has $(fds "$host_pid") fds, baseline $base" >&2
		kill "$holder" 2>/dev/null
		return 1
	}
	after=$(fds "$host_pid")
	rss1=$(rss_kib "$host_pid")
	note "board daemon kill -9 with $n flows open: held ${HOLD_S} s, then qbnet fds $base (linked, idle) -> $with -> $after within ${took} s; RSS $((rss0 >> 10)) -> $((rss1 >> 10)) MiB"
	local boards
	boards=$(json "len(d['boards'])")
	check "qbnet dropped the board and its flows (boards listed: $boards)" [ "$boards" = 0 ]
	touch "$QB_WORK/hold.release"
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null || true
	qb_qbnetd_start
	local relink
	relink=$(until_ping 20) || { echo "    the restarted qbnetd did not link" >&2; return 1; }
	note "qbnetd restarted after its kill -9 (state recovered): link in $relink s; qbnet fds $(fds "$host_pid")"
	check "qbnet fds back near the baseline after the relink ($base -> $(fds "$host_pid"))" \
		[ "$(fds "$host_pid")" -le $((base + 3)) ]
}

case_hostile_board() {
	local host_pid base rss0 log0 good_dl good_ul hostile out
	host_pid=$(qbnet_pid)
	base=$(fds "$host_pid")
	rss0=$(rss_kib "$host_pid")
	log0=$(wc -l < "$QB_WORK/qbnet.log")
	rm -f "$QB_WORK/hostile.release"
	# The good board keeps transferring all through the attack: downloads and uploads of 100 MiB
	# back to back, each sha256-checked, until the attack is over.
	local start=$(date +%s.%N)
	rm -f "$QB_WORK/good.stop"
	good_loop download "$(sha "$QB_WORK/www/big.bin")" > "$QB_WORK/good-dl.result" &
	good_dl=$!
	good_loop upload "$(sha "$QB_WORK/upload.bin")" > "$QB_WORK/good-ul.result" &
	good_ul=$!
	python3 "$QB_ROOT/tests/tools/hostile_board.py" --link "$LINK_SOCK" --inet "$INET_ADDR" --open-port "$HOLD_PORT" \
		--flood "$FLOOD" --hold-file "$QB_WORK/hostile.release" > "$QB_WORK/hostile.out" 2> "$QB_WORK/hostile.err" &
	hostile=$!
	for _ in $(seq 1200); do grep -q holding "$QB_WORK/hostile.out" && break; kill -0 $hostile 2>/dev/null || break; sleep 0.1; done
	check "the hostile board ran its attack ($(tail -c 300 "$QB_WORK/hostile.err"))" grep -q holding "$QB_WORK/hostile.out"
	check "qbnet is still running" kill -0 "$host_pid"
	qbnet_cli status --json > "$QB_WORK/hostile-status.json"
	python3 - "$QB_WORK/hostile-status.json" "$FLOOD" "$MAX_TCP_FLOWS" > "$QB_WORK/hostile-drops.txt" <<'EOF' || { cat "$QB_WORK/hostile-drops.txt"; return 1; }
import json, sys
d = json.load(open(sys.argv[1]))
flood, limit = int(sys.argv[2]), int(sys.argv[3])
boards = [b for b in d["boards"] if b["serial"] == "hostile-board"]
assert len(boards) == 1, "the hostile board's session is listed once: %r" % [b["serial"] for b in d["boards"]]
drops = boards[0]["drops"]
print("hostile board drops: " + ", ".join("%s %d" % kv for kv in sorted(drops.items())))
need = ["bundle: truncated frame", "frame: unknown channel", "control: malformed", "control: unknown type",
        "ip: malformed", "ip: fragment", "ip: bad source address", "ip: unsupported protocol", "tcp: malformed",
        "udp: malformed", "icmp: malformed or bad checksum", "tcp: no flow (answered with RST)",
        "tcp: flow limit reached"]
missing = [n for n in need if drops.get(n, 0) == 0]
assert not missing, "not counted: %s" % missing
flows = boards[0]["flows"]["tcp"]
assert flows <= limit, "%d TCP flows over the limit %d" % (flows, limit)
print("hostile board TCP flows: %d (limit %d), by state %s" % (flows, limit, boards[0]["flows"]["tcpByState"]))
EOF
	sed 's/^/    /' "$QB_WORK/hostile-drops.txt"
	note "$(head -n 1 "$QB_WORK/hostile-drops.txt")"
	touch "$QB_WORK/hostile.release"
	local rc=0
	wait $hostile || rc=$?
	out=$(tail -n 1 "$QB_WORK/hostile.out")
	check "hostile_board.py saw qbnet behave (exit $rc: $out)" [ "$rc" = 0 ]
	note "hostile board: $out"
	touch "$QB_WORK/good.stop"
	wait $good_dl || true
	wait $good_ul || true
	local took dl_ok dl_bad ul_ok ul_bad
	took=$(since "$start")
	read -r dl_ok dl_bad < "$QB_WORK/good-dl.result"
	read -r ul_ok ul_bad < "$QB_WORK/good-ul.result"
	check "the good board's downloads were all intact ($dl_ok ok, $dl_bad bad)" [ "$dl_bad" = 0 -a "$dl_ok" -ge 2 ]
	check "the good board's uploads were all intact ($ul_ok ok, $ul_bad bad)" [ "$ul_bad" = 0 -a "$ul_ok" -ge 2 ]
	note "good board beside it for $took s: $dl_ok downloads and $ul_ok uploads of 100 MiB, every sha256 ok"
	local freed
	freed=$(until_fds_at_most "$host_pid" $((base + 3)) 20) || {
		echo "    qbnet kept $(fds "$host_pid") fds after the hostile board left (baseline $base)" >&2
		return 1
	}
	note "qbnet fds: $base before the hostile board, back to $(fds "$host_pid") ${freed} s after it left; RSS $((rss0 >> 10)) -> $(( $(rss_kib "$host_pid") >> 10 )) MiB"
	local lines
	lines=$(( $(wc -l < "$QB_WORK/qbnet.log") - log0 ))
	tail -n +"$((log0 + 1))" "$QB_WORK/qbnet.log" | sed -E 's/^[0-9T:.-]+ //' | cut -c1-90 | sort | uniq -c | sort -rn | head -n 8 | sed 's/^/    log: /'
	note "qbnet log lines during the attack: $lines (for $(python3 -c "import json,sys; print(sum(json.loads(sys.argv[1])['sent'].values()))" "$out") bad items sent)"
	check "qbnet's log stayed rate-limited ($lines lines)" [ "$lines" -lt 150 ]
}

# ---- main --------------------------------------------------------------------

SELECTED=("$@")
qb_suite_up 8388608
ip netns exec "$INET_NS" $QBTOOL hold-server --bind 0.0.0.0 --port "$HOLD_PORT" > "$QB_WORK/hold-server.log" 2>&1 &
qb_track $! hold-server
qb_qbnet_start "${QBNET_ARGS[@]}"
qb_qbnetd_start
qb_wait_linked 20 || qb_die "board did not link: $(tail -n 20 "$QB_WORK/qbnetd.log") / $(tail -n 20 "$QB_WORK/qbnet.log")"
# The first status request sets up the control server's side for good (+4 fds once): fd baselines come after it.
qbnet_cli status > /dev/null

run_case host-kill9-relinks case_host_kill9_relinks
run_case board-kill9-frees-flows case_board_kill9_frees_flows
run_case hostile-board case_hostile_board

qb_summary robustness
