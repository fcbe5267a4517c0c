#!/bin/bash
# Unplug/replug cycles under load, run INSIDE the USB test VM (tests/usb-replug.sh
# boots it): the UDC is unbound and rebound (the cable pulled and put back)
# REPLUG_CYCLES times while the board downloads at 1 MiB/s; each time the link
# must be back (the board's ping to the gateway answered by the host's NAT)
# within REPLUG_MAX_S, and qbnet's and qbnetd's fds and memory must not grow.
set -u
export QB_LINK=usb QB_PREFIX=qbreplug QB_WORK=/tmp/qbnet-replug
. "$(dirname "$0")/lib/topology.sh"
. "$(dirname "$0")/lib/cases.sh"
[ -n "${QB_IN_USBVM:-}" ] || qb_die "run me through tests/usb-replug.sh (inside the USB test VM)"
[ -f "$QB_USBVM_OUT/env" ] && . "$QB_USBVM_OUT/env"
CYCLES=${REPLUG_CYCLES:-20}
MAX_S=${REPLUG_MAX_S:-2}
GADGET_UDC=/sys/kernel/config/usb_gadget/qbnet/UDC
# The JVM's GC, safepoint and JIT log tells a slow replug's cause (a pause, a compile burst) in the one emulated CPU.
export QBNET_JAVA_OPTS="-XX:+UseSerialGC -Xlog:gc,safepoint,jit+compilation=debug:file=$QB_WORK/jvm.log:uptime"

fds() { ls /proc/"$1"/fd 2> /dev/null | wc -l; }
rss_kib() { awk '/VmRSS/ { print $2 }' /proc/"$1"/status; }
heap_mib() { qbnet_cli status --json --gc | python3 -c "import json,sys; print(json.load(sys.stdin)['jvm']['heapUsedBytes'] >> 20)"; }

# The time of the first ping reply logged after epoch second $1 (ping -D lines), or nothing.
# Only the log's tail: the whole file grows by 20 lines a second, and rereading it every poll
# took the emulated CPU from the replug being measured.
first_reply_after() {
	tail -n 100 "$QB_WORK/ping.log" | awk -v t="$1" -F'[][]' '/bytes from/ && $2 + 0 > t { print $2; exit }'
}

# Seconds from epoch second $1 to the first qbnet log line after it that matches $2, or "?".
log_after() {
	local from ts
	from=$(date -d "@$1" +%Y-%m-%dT%H:%M:%S.%3N)
	ts=$(awk -v t="$from" -v re="$2" '$1 > t && $0 ~ re { print $1; exit }' "$QB_WORK/qbnet.log")
	[ -n "$ts" ] || { echo "?"; return; }
	since "$1" "$(date -d "$ts" +%s.%N)"
}

# CPU used so far, in clock ticks: "busy jit qbnet qbnetd" (busy: the whole VM, both vCPUs;
# jit: qbnet's compiler threads; qbnet: all its threads, the compilers too). One awk, no
# process per thread: in the emulated CPU every process started costs tens of milliseconds.
cpu_ticks() {
	awk '
		FILENAME == "/proc/stat" { if ($1 == "cpu") busy = $2 + $3 + $4 + $7 + $8 + $9; next }
		{ line = $0; sub(/^.*\) /, "", line); split(line, f, " "); ticks = f[12] + f[13] }
		FILENAME ~ /\/task\// { if ($0 ~ /\((C1|C2) Compiler/) jit += ticks; next }
		FILENAME == qbnet { all = ticks; next }
		{ daemon = ticks }
		END { print busy + 0, jit + 0, all + 0, daemon + 0 }
	' qbnet="/proc/$qbnet_pid/stat" /proc/stat /proc/"$qbnet_pid"/task/*/stat "/proc/$qbnet_pid/stat" \
		"/proc/$qbnetd_pid/stat" 2> /dev/null
}

# Seconds of CPU between two cpu_ticks snapshots, as "CPU: VM B s, qbnet Q (JIT J), qbnetd D".
cpu_between() {
	local hz
	hz=$(getconf CLK_TCK)
	awk -v hz="$hz" -v a="$1" -v b="$2" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "CPU: VM %.2f s, qbnet %.2f (JIT %.2f), qbnetd %.2f", (y[1] - x[1]) / hz, (y[3] - x[3]) / hz,
			(y[2] - x[2]) / hz, (y[4] - x[4]) / hz
	}'
}

# In the emulated CPU a JIT compile costs 10-20 times what it does on hardware, and a burst of
# them (2-3 s of CPU) took the CPU from the link's threads long enough to push a replug past 2 s.
# qbnet's compiler threads run at nice 19 here, so the code compiled is the same and it is only
# when that changes (DESIGN.md, "The USB VM"). Run before each cycle: compiler threads come and go.
nice_jit() {
	local tids
	tids=$(awk '/\((C1|C2) Compiler/ { split(FILENAME, p, "/"); print p[5] }' /proc/"$qbnet_pid"/task/*/stat 2> /dev/null)
	[ -z "$tids" ] || renice -n 19 -p $tids > /dev/null 2>&1 || true
}

# One unplug/replug; TOOK = seconds from the replug to the first ping reply after it.
replug() {
	local i=$1 t_pull t_pulled t_bind t_plug back cpu0
	nice_jit
	cpu0=$(cpu_ticks)
	t_pull=$(date +%s.%N)
	echo "" > "$GADGET_UDC" # the cable is pulled
	t_pulled=$(date +%s.%N)
	sleep 0.3
	t_bind=$(date +%s.%N)
	echo "$QB_UDC" > "$GADGET_UDC" # and put back
	t_plug=$(date +%s.%N)
	back=
	# Polled every 0.25 s: TOOK comes from the reply's own timestamp, so a slower poll does not
	# lengthen it, and each poll's processes cost the emulated CPU that brings the link back.
	for _ in $(seq 60); do
		sleep 0.25
		back=$(first_reply_after "$t_plug")
		[ -n "$back" ] && break
		kill -0 "$qbnet_pid" 2>/dev/null || { echo "    cycle $i: qbnet exited during the replug" >&2; return 1; }
	done
	[ -n "$back" ] || { echo "    cycle $i: no reply within 15 s of the replug" >&2; return 1; }
	local cpu
	cpu=$(cpu_between "$cpu0" "$(cpu_ticks)")
	TOOK=$(since "$t_plug" "$back")
	# Where the time went: the host found and opened the board, then the session's HELLOs, then the ping.
	echo "    cycle $i: link back in $TOOK s (board opened at $(log_after "$t_plug" "qbnet board attached") s," \
		"session up at $(log_after "$t_plug" "attached, protocol") s; UDC unbind $(since "$t_pull" "$t_pulled") s," \
		"bind $(since "$t_bind" "$t_plug") s; unplug to reply $cpu)"
}

# Pauses the load and waits until its download is gone from qbnet too: the fds and memory are
# compared at two such quiet moments, not with a different number of live flows each time.
quiet_load() {
	touch "$QB_WORK/load.pause"
	pkill -f 'curl -sS --limit-rate' 2> /dev/null || true
	for _ in $(seq 50); do pgrep -f 'curl -sS --limit-rate' > /dev/null || break; sleep 0.1; done
	sleep 1 # the board's RST reaches the NAT, which closes the flow's socket
}

# The kinds of fds a process holds, "N kind" per line (socket, anon_inode:[eventpoll], /dev/...).
fd_kinds() {
	ls -l /proc/"$1"/fd 2> /dev/null | awk 'NR > 1 { t = $NF; sub(/:\[[0-9]+\]$/, "", t); print t }' | sort | uniq -c
}

case_replug_cycles() {
	local qbnet_pid qbnetd_pid
	qbnet_pid=$(qbnet_pid)
	qbnetd_pid=$(qbnetd_pid)
	# The load: 1 MiB/s downloads, each at most 6 s; a replug holds them (qbnet keeps a board's flows
	# for its return, DESIGN.md "Connections survive an unplug"), and one that stalls anyway gives up
	# after 2 s and the next one starts.
	rm -f "$QB_WORK/load.stop"
	(
		while [ ! -e "$QB_WORK/load.stop" ]; do
			[ -e "$QB_WORK/load.pause" ] && { sleep 0.2; continue; }
			qb_board curl -sS --limit-rate 1M --speed-limit 1 --speed-time 2 --connect-timeout 2 --max-time 6 \
				-o /dev/null -w "%{size_download} exit=%{exitcode} took=%{time_total} at=$(date +%s)\n" \
				"http://$INET_ADDR/big.bin" >> "$QB_WORK/load.log" 2>&1 || true # the case runs under set -e
		done
	) &
	local load=$!
	# 20 pings a second from the board to the gateway: the NAT answers them, so a reply means the whole path is back.
	qb_board ping -D -n -i 0.05 "$GATEWAY_ADDR" > "$QB_WORK/ping.log" 2>&1 &
	local pinger=$!
	# A failed check ends this subshell: the load and the pinger must end with it, or the VM waits for them
	# (the trap runs under set -e too, hence the || true).
	# shellcheck disable=SC2064 # expanded now: the locals are gone when the trap runs
	trap "touch '$QB_WORK/load.stop'; kill $pinger 2> /dev/null || true; pkill -f 'curl -sS --limit-rate' 2> /dev/null || true" EXIT
	sleep 3
	# The load really flows: 1 MiB more into the board's qb0 (the kernel's count, no JVM to start)
	# within 15 s; a download restarting in the emulated CPU can leave a gap of a second or two.
	local rx0 rx1 t0
	rx0=$(qb_board cat /sys/class/net/qb0/statistics/rx_bytes)
	t0=$(date +%s.%N)
	for _ in $(seq 30); do
		rx1=$(qb_board cat /sys/class/net/qb0/statistics/rx_bytes)
		[ $((rx1 - rx0)) -gt 1048576 ] && break
		sleep 0.5
	done
	note "load before the cycles: $(((rx1 - rx0) >> 10)) KiB in $(since "$t0") s into the board's qb0"
	check "the background download flows ($rx0 -> $rx1 bytes into qb0)" [ $((rx1 - rx0)) -gt 1048576 ]
	# One replug first, not counted: the first re-attach runs cold code in an emulated CPU.
	replug 0 || return 1
	note "warm-up replug (not counted): link back in $TOOK s"
	sleep 2
	local fd0 fdd0 rss0 rssd0 heap0 start_rx start_t kinds0
	quiet_load
	heap0=$(heap_mib) # first: its full GC comes before the RSS reading
	fd0=$(fds "$qbnet_pid")
	kinds0=$(fd_kinds "$qbnet_pid")
	fdd0=$(fds "$qbnetd_pid")
	rss0=$(rss_kib "$qbnet_pid")
	rssd0=$(rss_kib "$qbnetd_pid")
	rm -f "$QB_WORK/load.pause"
	start_rx=$(qb_board cat /sys/class/net/qb0/statistics/rx_bytes)
	start_t=$(date +%s.%N)
	local times=() i rss_trend=() rss_mid=
	for i in $(seq "$CYCLES"); do
		replug "$i" || return 1
		times+=("$TOOK")
		kill -0 "$qbnet_pid" && kill -0 "$qbnetd_pid" || { echo "    cycle $i: a process died" >&2; return 1; }
		[ $((i % 5)) = 0 ] && rss_trend+=("$(($(rss_kib "$qbnet_pid") >> 10))")
		[ "$i" = $((CYCLES / 2)) ] && rss_mid=$(rss_kib "$qbnet_pid")
		sleep 1 # traffic runs on the new link a moment
	done
	local fd1 fdd1 rss1 rssd1 heap1 load_mb
	local end_rx
	end_rx=$(qb_board cat /sys/class/net/qb0/statistics/rx_bytes)
	load_mb=$(awk -v a="$start_rx" -v b="$end_rx" \
		-v t="$(since "$start_t")" 'BEGIN { printf "%.1f MB in %.0f s, %.2f MB/s", (b - a) / 1e6, t, (b - a) / 1e6 / t }')
	quiet_load
	heap1=$(heap_mib) # first, as at the start: RSS is compared after a full GC both times
	fd1=$(fds "$qbnet_pid")
	local fd_limit=$((fd0 + 2))
	[ "$fd1" -le "$fd_limit" ] || printf '    qbnet fds by kind, before and after:\n%s\n    --\n%s\n' "$kinds0" "$(fd_kinds "$qbnet_pid")"
	fdd1=$(fds "$qbnetd_pid")
	rss1=$(rss_kib "$qbnet_pid")
	rssd1=$(rss_kib "$qbnetd_pid")
	touch "$QB_WORK/load.stop"
	kill "$pinger"
	wait "$load" 2> /dev/null || true
	local runs
	runs=$(grep -c "exit=" "$QB_WORK/load.log" || true)
	{
		echo "== board routes"; qb_board ip route; qb_board ip -6 route
		echo "== board sockets"; qb_board ss -tn
		echo "== board qb0"; qb_board ip -s link show qb0
	} > "$QB_USBVM_OUT/board-state.txt" 2>&1
	note "the load during the cycles: $load_mb into the board ($runs downloads of at most 6 s each, most cut by a replug)"
	check "the load kept flowing between the replugs ($(((end_rx - start_rx) >> 10)) KiB, at least 128 KiB a cycle)" \
		[ $((end_rx - start_rx)) -ge $((CYCLES * 131072)) ]
	local sorted
	sorted=$(printf '%s\n' "${times[@]}" | sort -n)
	local min med max
	min=$(head -n 1 <<< "$sorted")
	max=$(tail -n 1 <<< "$sorted")
	med=$(sed -n "$(((${#times[@]} + 1) / 2))p" <<< "$sorted")
	note "$CYCLES unplug/replug cycles under a 1 MiB/s download: link back (board ping answered by the NAT) min $min s, median $med s, max $max s after the replug"
	note "qbnet: fds $fd0 -> $fd1, RSS $((rss0 >> 10)) -> $((rss1 >> 10)) MiB, heap after GC $heap0 -> $heap1 MiB; qbnetd: fds $fdd0 -> $fdd1, RSS $rssd0 -> $rssd1 KiB"
	check "every replug: link back within ${MAX_S} s (max $max s)" less_than "$max" "$MAX_S"
	check "qbnet fds did not grow ($fd0 -> $fd1)" [ "$fd1" -le "$fd_limit" ]
	check "qbnetd fds did not grow ($fdd0 -> $fdd1)" [ "$fdd1" -le "$fdd0" ]
	check "qbnetd RSS did not grow by more than 256 KiB ($rssd0 -> $rssd1 KiB)" [ "$rssd1" -le $((rssd0 + 256)) ]
	check "qbnet heap after GC did not grow by more than 8 MiB ($heap0 -> $heap1 MiB)" [ "$heap1" -le $((heap0 + 8)) ]
	note "qbnet RSS every 5 cycles: ${rss_trend[*]} MiB"
	check "qbnet RSS did not grow by more than 64 MiB ($((rss0 >> 10)) -> $((rss1 >> 10)) MiB)" [ "$rss1" -le $((rss0 + 65536)) ]
	check "qbnet RSS flat over the second half of the cycles ($((rss_mid >> 10)) -> $((rss1 >> 10)) MiB, at most +16)" \
		[ "$rss1" -le $((rss_mid + 16384)) ]
	local failures
	failures=$(grep -c "handler failed" "$QB_WORK/qbnet.log" || true)
	check "no exception escaped qbnet's packet path ($failures)" [ "$failures" = 0 ]
	local want got
	want=$(sha256sum "$QB_WORK/www/big.bin" | cut -d' ' -f1)
	got=$(qb_board curl -sS --max-time 120 "http://$INET_ADDR/big.bin" | sha256sum | cut -d' ' -f1)
	check "a download after the cycles is intact" [ "$got" = "$want" ]
}

SELECTED=("$@")
# The logs leave the VM however the run ends (a failed case returns before its own copy).
trap 'cp "$QB_WORK"/{load,qbnet,qbnetd,jvm}.log "$QB_USBVM_OUT/" 2> /dev/null; qb_topology_down' EXIT
qb_topology_up
head -c $((16 * 1048576)) /dev/urandom > "$QB_WORK/www/big.bin"
qb_servers_up
qb_qbnetd_start
for _ in $(seq 100); do [ "$(cat "$GADGET_UDC" 2> /dev/null)" = "$QB_UDC" ] && break; sleep 0.1; done
qb_qbnet_start
qb_wait_linked 90 || qb_die "the board did not link over USB: $(tail -n 20 "$QB_WORK/qbnetd.log") / $(tail -n 20 "$QB_WORK/qbnet.log")"
run_case replug-cycles case_replug_cycles
cp "$RESULTS" "$QB_USBVM_OUT/results.txt" 2> /dev/null
qb_summary usb-replug
