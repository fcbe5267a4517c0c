#!/bin/bash
# End-to-end tests over the socket link, as root, in network namespaces: the
# real qbnetd with its TUN in a "board" netns, the real qbnet on the host, and
# servers in an "internet" netns. Traffic stays inside these namespaces.
# Usage: tests/e2e-netns.sh [case-name-substring...]
set -u
# qbnet checks its invariants (Java assertions) under the tests.
export QBNET_JAVA_OPTS="${QBNET_JAVA_OPTS:-} -ea:dev.qbkit.qbnet..."
. "$(dirname "$0")/lib/topology.sh"
. "$(dirname "$0")/lib/cases.sh"

# ---- cases -------------------------------------------------------------------

case_board_configured() {
	qb_board ip -4 addr show dev qb0 | grep -q "inet $BOARD_ADDR/24"
	local mtu
	mtu=$(qb_board cat /sys/class/net/qb0/mtu)
	check "board MTU is qbnet's default 65520 (got $mtu)" [ "$mtu" = 65520 ]
	qb_board ip -4 route show default | grep -q "dev qb0"
	check "board resolv.conf names the virtual DNS" grep -q "nameserver 10.113.98.3" "/etc/netns/$BOARD_NS/resolv.conf"
	note "board: $(qb_board ip -4 -br addr show dev qb0 | tr -s ' '), mtu $mtu, $(qb_board ip -4 route show default)"
}

case_dns() {
	local got
	got=$(qb_board getent ahostsv4 "$INET_NAME" | awk 'NR == 1 { print $1 }')
	check "$INET_NAME resolves to $INET_ADDR from the board (got '$got')" [ "$got" = "$INET_ADDR" ]
	got=$(qb_board python3 -c "import socket; print(socket.getaddrinfo('$INET_NAME', 80, socket.AF_INET6)[0][4][0])" 2>/dev/null || true)
	check "AAAA for $INET_NAME comes through the proxy (got '$got')" [ "$got" = "$INET6_ADDR" ]
	if qb_board getent hosts no-such-name.qbnet.test >/dev/null; then
		echo "    an unknown name resolved" >&2
		return 1
	fi
}

# The board's A record for NAME, empty when the lookup fails.
board_a() { qb_board getent ahostsv4 "$1" | awk 'NR == 1 { print $1 }'; }

wait_board_a() { # NAME WANT SECONDS: until the board's lookup of NAME gives WANT
	for _ in $(seq $(($3 * 10))); do
		[ "$(board_a "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# The host's DNS servers change under a running qbnet (Wi-Fi, VPN, the network
# going and coming back): the board's next queries follow, with no restart.
# qbnet sees $QB_WORK/host-resolv.conf as /etc/resolv.conf (a bind mount), so
# it is rewritten in place, as resolvconf does.
case_dns_follows_host() {
	local got start
	got=$(board_a "$MOVED_NAME")
	check "before: $MOVED_NAME comes from the first DNS server (got '$got')" [ "$got" = "$MOVED_ADDR1" ]
	start=$(date +%s.%N)
	printf '# switched\nnameserver %s\n' "$INET_DNS2_ADDR" > "$QB_WORK/host-resolv.conf"
	check "after the switch the board's query gets the second server's answer" wait_board_a "$MOVED_NAME" "$MOVED_ADDR2" 10
	note "resolver switch: the board got the new server's answer $(since "$start") s after the file changed"
	check "qbnet logged the change" grep -q "DNS for boards now goes to $INET_DNS2_ADDR:53" "$QB_WORK/qbnet.log"
	# The network goes: no servers. Queries fail at once (SERVFAIL), they do not time out.
	printf '# no network\n' > "$QB_WORK/host-resolv.conf"
	for _ in $(seq 100); do
		grep -q "lists no DNS servers any more" "$QB_WORK/qbnet.log" && break
		sleep 0.1
	done
	check "qbnet noticed that there are no servers" grep -q "lists no DNS servers any more" "$QB_WORK/qbnet.log"
	start=$(date +%s.%N)
	got=$(board_a "$MOVED_NAME")
	check "with no servers the lookup fails (got '$got')" [ -z "$got" ]
	check "and fails fast ($(since "$start") s)" less_than "$(since "$start")" 2
	# The network comes back.
	printf 'nameserver %s\n' "$INET_ADDR" > "$QB_WORK/host-resolv.conf"
	check "back on the first server" wait_board_a "$MOVED_NAME" "$MOVED_ADDR1" 10
	check "and the board's other names resolve again" wait_board_a "$INET_NAME" "$INET_ADDR" 5
}

case_http_page() {
	local body
	body=$(qb_board curl -sS --max-time 10 "http://$INET_NAME/index.html")
	check "page fetched by name" [ "$body" = "<html><body>qbnet test page</body></html>" ]
}

case_download_100m() {
	download_checked "download 100 MiB (curl | sha256sum on the board)" "$QB_WORK/www/big.bin" "http://$INET_ADDR/big.bin"
}

case_upload_100m() {
	upload_checked "upload 100 MiB (the server hashes as it reads)" "$QB_WORK/upload.bin" "http://$INET_ADDR/upload"
}

case_parallel_200() {
	local want out
	want=$(sha256sum "$QB_WORK/www/medium.bin" | cut -d' ' -f1)
	out=$(qb_board $QBTOOL parallel-get "$INET_ADDR" 80 medium.bin "$want" --count 200 --timeout 60)
	check "200 parallel connections all got the right body ($out)" [ "$out" = "200/200" ]
	note "parallel: $out connections held open at once, each body sha256-checked"
}

case_half_close() {
	local out
	out=$(qb_board $QBTOOL halfclose-client "$INET_ADDR" 7001 --message "abc123")
	check "reply after our FIN ('$out')" [ "$out" = "reply:321cba" ]
}

case_refused_fast() {
	local start took rc=0
	start=$(date +%s.%N)
	qb_board curl -sS --max-time 10 "http://$INET_ADDR:9/" 2>/dev/null || rc=$?
	took=$(since "$start")
	check "curl reports 'connection refused' (exit 7, got $rc)" [ "$rc" = 7 ]
	check "refusal is fast (${took}s)" less_than "$took" 2
	note "refused connect answered in ${took}s"
}

case_ipv6() {
	local addr want got start took
	addr=$(qb_board ip -6 addr show dev qb0 scope global | awk '/inet6/ { print $2; exit }')
	check "board has its IPv6 address (got '$addr')" [ "$addr" = "fd71:6200::2/64" ]
	qb_board ip -6 route show default | grep -q "via fd71:6200::1 dev qb0"
	download_checked "IPv6 download 100 MiB" "$QB_WORK/www/big.bin" "http://[$INET6_ADDR]/big.bin"
	got=$(qb_board python3 -c "import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(3); s.sendto(b'x' * 100, ('$INET6_ADDR', 7)); print(len(s.recvfrom(2000)[0]))" 2>&1 || true)
	check "UDP over IPv6 echoes ($got)" [ "$got" = 100 ]
	got=$(qb_board python3 - <<'EOF2'
import socket, struct
q = struct.pack(">HHHHHH", 0x6262, 0x0100, 1, 0, 0, 0) + b"\x03www\x05qbnet\x04test\x00" + struct.pack(">HH", 28, 1)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, ("fd71:6200::3", 53))
r = s.recvfrom(4096)[0]
def skip_name(i):
    while r[i] != 0:
        if r[i] & 0xC0 == 0xC0:
            return i + 2
        i += r[i] + 1
    return i + 1
answers = struct.unpack(">H", r[6:8])[0]
i = skip_name(12) + 4
for _ in range(answers):
    i = skip_name(i)
    rtype, _, _, length = struct.unpack(">HHIH", r[i:i + 10])
    if rtype == 28:
        print(socket.inet_ntop(socket.AF_INET6, r[i + 10:i + 26]))
        break
    i += 10 + length
EOF2
)
	check "AAAA answered by the IPv6 DNS address (got '$got')" [ "$got" = "$INET6_ADDR" ]
}

case_udp_echo() {
	local out
	out=$(qb_board $QBTOOL udp-echo-client "$INET_ADDR" 7 --count 20 --size 1200)
	check "20 UDP datagrams echoed ($out)" [ "$out" = "20/20" ]
}

case_udp_dns_direct() {
	# A resolver other than the virtual one: plain UDP NAT to port 53.
	local got
	got=$(qb_board python3 - "$INET_ADDR" "$INET_NAME" <<'EOF'
import socket, struct, sys
server, name = sys.argv[1], sys.argv[2]
q = struct.pack(">HHHHHH", 0x5142, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, (server, 53))
r, _ = s.recvfrom(4096)
print(".".join(str(b) for b in r[-4:]))
EOF
)
	check "direct DNS query through the UDP NAT (got '$got')" [ "$got" = "$INET_ADDR" ]
}

case_ping() {
	local out
	out=$(qb_board ping -n -c 3 -i 0.2 -W 3 "$INET_ADDR")
	check "ping to the internet netns: 3 replies" grep -q " 3 received" <<< "$out"
	note "ping $INET_ADDR from the board: $(grep -o 'rtt.*' <<< "$out")"
	out=$(qb_board ping -6 -n -c 3 -i 0.2 -W 3 "$INET6_ADDR")
	check "ping6 to the internet netns: 3 replies" grep -q " 3 received" <<< "$out"
	note "ping6 $INET6_ADDR from the board: $(grep -o 'rtt.*' <<< "$out")"
	out=$(qb_board ping -n -c 1 -W 2 "$GATEWAY_ADDR")
	check "the gateway answers ping itself" grep -q " 1 received" <<< "$out"
}

host_tcp_line() { # PORT LINE -> the reply line, from the host side
	python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5); s.sendall(sys.argv[2].encode()+b'\n'); print(s.makefile().readline().strip())" "$1" "$2"
}

case_forward() {
	local out
	out=$(host_tcp_line 12222 "hello")
	check "tcp forward 127.0.0.1:12222 reaches the board's port 2222 (got '$out')" [ "$out" = "board:hello" ]
	out=$(python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.sendto(b'ping-udp', ('127.0.0.1', 12007)); print(s.recvfrom(100)[0].decode())")
	check "udp forward 127.0.0.1:12007 reaches the board's port 7 (got '$out')" [ "$out" = "ping-udp" ]
	qbnet_cli forward add tcp:12223:2222 > /dev/null
	out=$(host_tcp_line 12223 "added")
	check "a forward added at run time works (got '$out')" [ "$out" = "board:added" ]
	qbnet_cli forward list | grep -q "tcp:127.0.0.1:12223:2222"
	qbnet_cli forward remove tcp:12223:2222 > /dev/null
	if host_tcp_line 12223 "removed" >/dev/null 2>&1; then
		echo "    the removed forward still answers" >&2
		return 1
	fi
	local err
	err=$(qbnet_cli forward add tcp:12222:22 2>&1 || true)
	check "a clashing forward is refused with a clear line ($err)" grep -q "same host port" <<< "$err"
}

case_status() {
	local out
	out=$(qbnet_cli status)
	echo "$out" | sed 's/^/    | /'
	check "status names the board" grep -q "^board 1: " <<< "$out"
	out=$(qbnet_cli status --json)
	check "status --json parses and has the board's serial" python3 -c "import json,sys; d=json.load(sys.stdin); assert d['boards'][0]['serial'] and d['boards'][0]['mtu'] == 65520" <<< "$out"
}

prometheus_lines_ok() { # FILE: each line is a comment or NAME{LABELS} VALUE (the unit test parses strictly)
	python3 - "$1" <<'EOF2'
import re, sys
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (NaN|[+-]Inf|-?[0-9.eE+-]+)$')
bad = [l for l in open(sys.argv[1]).read().splitlines() if not l.startswith("# ") and not sample.match(l)]
print("\n".join(bad[:3]), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF2
}

metrics_url() { grep -o 'http://127.0.0.1:[0-9]*/metrics' "$QB_WORK/qbnet.log" | tail -n 1; }

# Prometheus metrics over HTTP (qbnet run --metrics 127.0.0.1:0) and through the control socket.
case_metrics() {
	local url body cli
	url=$(metrics_url)
	check "qbnet logged its metrics URL ('$url')" [ -n "$url" ]
	body=$(curl -sS --max-time 5 "$url")
	cli=$(qbnet_cli status --prometheus)
	local bytes
	bytes=$(awk '/^qbnet_link_bytes_rx_total\{board="1",/ { print $2 }' <<< "$body")
	check "the board's received bytes are exported ($bytes)" [ "${bytes:-0}" -gt 0 ]
	echo "$body" > "$QB_WORK/metrics.txt"
	check "every sample line is NAME{LABELS} VALUE" prometheus_lines_ok "$QB_WORK/metrics.txt"
	check "status --prometheus has the same families as the endpoint" \
		[ "$(grep '^# TYPE' <<< "$body")" = "$(grep '^# TYPE' <<< "$cli")" ]
	note "metrics: $(grep -vc '^#' <<< "$body") samples, $(grep -c '^# TYPE' <<< "$body") families"
}

# qbnet status --watch: blocks one after another on a pipe, exit 130 on Ctrl-C.
case_status_watch() {
	# A background job of a script ignores SIGINT, and so would the JVM: exec it with SIGINT restored.
	python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
		"$JAVA_HOME/bin/java" -jar "$QBNET_JAR" status --watch --interval 0.5 > "$QB_WORK/watch.out" 2>&1 &
	local watcher=$! blocks rc=0
	for _ in $(seq 100); do
		[ "$(grep -c '^board 1: ' "$QB_WORK/watch.out")" -ge 3 ] && break
		sleep 0.1
	done
	kill -INT "$watcher"
	wait "$watcher" || rc=$?
	blocks=$(grep -c '^board 1: ' "$QB_WORK/watch.out")
	check "at least 3 blocks ($blocks)" [ "$blocks" -ge 3 ]
	check "Ctrl-C ends it with 130 ($rc)" [ "$rc" = 130 ]
	check "no escape codes on a pipe" bash -c "! grep -q \$'\\e' '$QB_WORK/watch.out'"
}

# qbnet run as a Type=notify service: READY=1 once the link socket listens,
# STOPPING=1 on SIGTERM, and log lines with syslog priorities when stderr is
# the journal (JOURNAL_STREAM names its device and inode).
case_systemd_service() {
	local sock=$QB_WORK/notify.sock out=$QB_WORK/notify.out receiver
	rm -f "$sock" "$out"
	python3 - "$sock" "$out" "$LINK_SOCK" <<'EOF2' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "w") as out:
    for _ in range(2):
        message = s.recv(4096).decode().replace("\n", " ")
        out.write("%s | link socket there: %s\n" % (message, os.path.exists(sys.argv[3])))
        out.flush()
EOF2
	receiver=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	qb_qbnet_stop
	NOTIFY_SOCKET=$sock JOURNAL_STREAM=$(stat -c '%d:%i' "$QB_WORK/qbnet.log") qb_qbnet_start "${QBNET_ARGS[@]}"
	for _ in $(seq 100); do grep -q READY=1 "$out" 2>/dev/null && break; sleep 0.1; done
	check "READY=1 came after the link socket was listening ($(cat "$out"))" grep -q "^READY=1 .* link socket there: True" "$out"
	check "relinked" qb_wait_linked 30
	check "log lines carry syslog priorities" grep -q '^<6>INFO ' "$QB_WORK/qbnet.log"
	check "every log line does ($(grep -v '^<[0-7]>' "$QB_WORK/qbnet.log" | head -n 1))" \
		bash -c "! grep -qv '^<[0-7]>' '$QB_WORK/qbnet.log'"
	check "no timestamps (the journal has them)" bash -c "! grep -q '^<[0-7]>20[0-9][0-9]-' '$QB_WORK/qbnet.log'"
	qb_qbnet_stop
	wait "$receiver"
	check "STOPPING=1 on SIGTERM" grep -q "^STOPPING=1" "$out"
	qb_qbnet_start "${QBNET_ARGS[@]}"
	check "relinked without systemd" qb_wait_linked 30
}

status_field() { # PYTHON-EXPRESSION over the status JSON d
	qbnet_cli status --json --gc | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

case_idle_10k() {
	local n=${IDLE_FLOWS:-10000} pid heap0 heap1 rss0 rss1 flows
	pid=$(qbnet_pid)
	heap0=$(status_field "d['jvm']['heapUsedBytes']")
	rss0=$(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status)
	rm -f "$QB_WORK/release"
	ip netns exec "$BOARD_NS" bash -c "ulimit -n 65536; exec $QBTOOL hold-connections $INET_ADDR 7002 --count $n --seconds 120 --timeout 20 --release-file $QB_WORK/release" > "$QB_WORK/hold10k.log" 2>&1 &
	local holder=$!
	for _ in $(seq 1200); do grep -q "open $n" "$QB_WORK/hold10k.log" && break; kill -0 $holder 2>/dev/null || break; sleep 0.1; done
	check "$n idle connections opened ($(tail -n 1 "$QB_WORK/hold10k.log"))" grep -q "open $n" "$QB_WORK/hold10k.log"
	flows=$(status_field "d['boards'][0]['flows']['tcp']")
	heap1=$(status_field "d['jvm']['heapUsedBytes']")
	rss1=$(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status)
	check "qbnet holds them all ($flows TCP flows)" [ "$flows" -ge "$n" ]
	local per_flow
	per_flow=$(awk -v a="$heap0" -v b="$heap1" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / n / 1024 }')
	note "$n idle TCP flows: host heap $((heap0 >> 20)) -> $((heap1 >> 20)) MiB = $per_flow KiB per flow; RSS $((rss0 >> 10)) -> $((rss1 >> 10)) MiB = $(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / n }') KiB per flow"
	check "at most 16 KiB of heap per idle flow ($per_flow)" less_than "$per_flow" 16
	touch "$QB_WORK/release"
	wait $holder
	for _ in $(seq 100); do
		flows=$(status_field "d['boards'][0]['flows']['tcp']")
		[ "$flows" = 0 ] && break
		sleep 0.2
	done
	check "all flows freed after the board closed them (left: $flows)" [ "$flows" = 0 ]
	note "after closing: 0 TCP flows, heap $(( $(status_field "d['jvm']['heapUsedBytes']") >> 20 )) MiB"
}

case_loss_1pct() {
	qb_qbnet_stop
	qb_qbnet_start "${QBNET_ARGS[@]}" --test-drop-frames 0.01
	check "relinked with 1% loss" qb_wait_linked 30
	download_checked "download 100 MiB with 1% of frames dropped each way" "$QB_WORK/www/big.bin" \
		"http://$INET_ADDR/big.bin" 300
	upload_checked "upload 100 MiB with 1% of frames dropped each way" "$QB_WORK/upload.bin" \
		"http://$INET_ADDR/upload" 300
	local dropped
	dropped=$(status_field "sum(v for k, v in d['boards'][0]['drops'].items() if k.startswith('test:'))")
	note "frames dropped on purpose: $dropped; retransmission recovered every one"
	check "frames really were dropped ($dropped)" [ "$dropped" -gt 10 ]
	qb_qbnet_stop
	qb_qbnet_start "${QBNET_ARGS[@]}"
	check "relinked without loss" qb_wait_linked 30
}

host_loopback_server() {
	python3 -m http.server --bind 127.0.0.1 --directory "$QB_WORK/www" 18080 > "$QB_WORK/loopback-httpd.log" 2>&1 &
	qb_track $! loopback-httpd
	for _ in $(seq 50); do
		bash -c "exec 3<>/dev/tcp/127.0.0.1/18080" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

case_host_loopback_denied() {
	local rc=0 start
	start=$(date +%s.%N)
	qb_board curl -sS --max-time 5 "http://$GATEWAY_ADDR:18080/index.html" >/dev/null 2>&1 || rc=$?
	check "board cannot reach the host's loopback by default (curl exit $rc)" [ "$rc" = 7 ]
	check "and learns it at once ($(since "$start") s)" less_than "$(since "$start")" 2
}

case_host_restart_relinks_with_loopback_allowed() {
	local board_pid
	board_pid=$(qbnetd_pid)
	qb_qbnet_stop
	sleep 1
	kill -0 "$board_pid" || { echo "    qbnetd died with the host" >&2; return 1; }
	local start=$(date +%s.%N)
	qb_qbnet_start "${QBNET_ARGS[@]}" --allow-host-loopback
	check "link came back by itself" qb_wait_linked 15
	note "relink after host restart: $(since "$start") s (incl. JVM start)"
	check "qbnetd kept running (same pid)" kill -0 "$board_pid"
	local body
	body=$(qb_board curl -sS --max-time 5 "http://$GATEWAY_ADDR:18080/index.html")
	check "with --allow-host-loopback the gateway reaches host loopback" [ "$body" = "<html><body>qbnet test page</body></html>" ]
}

case_board_gone_past_hold_frees_flows() {
	# A board that does not come back within --hold (6 s here): its flows are reset (host sockets
	# aborted; nothing goes to the board, which is gone) and what they held is freed.
	qb_qbnet_stop
	qb_qbnet_start "${QBNET_ARGS[@]}" --hold 6s
	check "relinked with --hold 6s" qb_wait_linked 30
	local host_pid base with during after gone stopped_at took buffered
	host_pid=$(qbnet_pid)
	base=$(ls /proc/"$host_pid"/fd | wc -l)
	ip netns exec "$BOARD_NS" $QBTOOL hold-connections "$INET_ADDR" 80 --count 50 --seconds 30 > "$QB_WORK/hold.log" 2>&1 &
	local holder=$!
	# Downloads the board stops reading when it goes: their data waits in the flows' buffers.
	qb_board bash -c "for i in 1 2 3 4; do curl -sS --max-time 30 --limit-rate 2M -o /dev/null http://$INET_ADDR/big.bin & done; wait" > /dev/null 2>&1 &
	local loaders=$!
	for _ in $(seq 100); do grep -q "open 50" "$QB_WORK/hold.log" && break; sleep 0.1; done
	check "50 connections opened" grep -q "open 50" "$QB_WORK/hold.log"
	sleep 1
	with=$(ls /proc/"$host_pid"/fd | wc -l)
	stopped_at=$(date +%s.%N)
	qb_qbnetd_stop
	kill "$holder" 2>/dev/null
	# Timed by qbnet's own log, not by this script: the stop returns when qbnetd has exited,
	# which can be seconds after its link went and the hold began.
	buffered=$(status_field "[b['flows']['bufferedBytes'] for b in d['boards'] if b['state'] == 'held'][0]")
	local text
	text=$(qbnet_cli status | grep '^board')
	during=$(ls /proc/"$host_pid"/fd | wc -l)
	check "status says how long it is held: $text" grep -q "held, [0-9]* s left" <<< "$text"
	check "while held, the board's sockets stay open ($with -> $during fds)" [ "$during" -ge $((with - 2)) ]
	after=$during
	for _ in $(seq 100); do
		after=$(ls /proc/"$host_pid"/fd | wc -l)
		[ $((during - after)) -ge 50 ] && break
		sleep 0.1
	done
	took=$(since "$stopped_at")
	check "past the hold, qbnet closed the board's sockets ($during -> $after fds, baseline $base)" [ $((during - after)) -ge 50 ]
	local held_log reset_log held_for
	held_log=$(grep -m1 "holding the board" "$QB_WORK/qbnet.log" | cut -d' ' -f1)
	reset_log=$(grep -m1 "not back within 6 s" "$QB_WORK/qbnet.log" | cut -d' ' -f1)
	check "qbnet logged the hold and the reset ('$held_log', '$reset_log')" [ -n "$held_log" -a -n "$reset_log" ]
	held_for=$(python3 -c "import datetime as d, sys; p = d.datetime.fromisoformat; print(f'{(p(sys.argv[2]) - p(sys.argv[1])).total_seconds():.2f}')" "$held_log" "$reset_log")
	check "the flows were reset when the 6 s hold was over, not before (${held_for} s by qbnet's log)" \
		less_than 5.9 "$held_for"
	gone=$(status_field "len(d['boards'])")
	check "the board and its flows are gone from status ($gone boards)" [ "$gone" = 0 ]
	check "qbnetd restored the board's resolv.conf on exit" grep -q "before qbnetd" "/etc/netns/$BOARD_NS/resolv.conf"
	note "board gone with 54 flows (${buffered} bytes buffered): held ${held_for} s (qbnet's log), sockets closed ${took} s after qbnetd was told to stop; qbnet fds $with -> $during -> $after"
	wait $loaders 2>/dev/null || true
	qb_qbnetd_start
	check "board relinked" qb_wait_linked 15
	qb_qbnet_stop
	qb_qbnet_start "${QBNET_ARGS[@]}"
	check "relinked with the default hold" qb_wait_linked 30
}

# ---- connections that outlive the link (issue 14) ------------------------------

# A cable we can pull between the board and qbnet (tools/qbtool.py link-relay): qbnetd is restarted
# to connect through it. Pulling it closes both sides' connections and leaves nothing to reconnect
# to until it is put back, as an unplugged USB cable does.
cable_in() {
	rm -f "$QB_WORK/cable.cut"
	$QBTOOL link-relay "$QB_WORK/cable.sock" "$LINK_SOCK" --cut-file "$QB_WORK/cable.cut" > "$QB_WORK/cable.log" 2>&1 &
	echo $! > "$QB_WORK/cable.pid"
	qb_track $! cable
	for _ in $(seq 50); do [ -S "$QB_WORK/cable.sock" ] && break; sleep 0.1; done
	qb_qbnetd_stop
	QB_BOARD_SOCK=$QB_WORK/cable.sock qb_qbnetd_start
	qb_wait_linked 20
}

cable_out() {
	qb_qbnetd_stop
	kill "$(cat "$QB_WORK/cable.pid")" 2>/dev/null
	rm -f "$QB_WORK/cable.sock" "$QB_WORK/cable.cut"
	qb_qbnetd_start
	qb_wait_linked 20
}

case_hold_across_a_cut() {
	local big=$QB_WORK/www/big200.bin want got chat_rc=0 rx0 rx_cut lines_cut pulled plugged relinked text
	head -c 209715200 /dev/urandom > "$big"
	want=$(sha256sum "$big" | cut -d' ' -f1)
	check "the board linked through the cable" cable_in
	rx0=$(qb_board cat /sys/class/net/qb0/statistics/rx_bytes)
	local t0=$(date +%s.%N)
	# 200 MiB at 20 MiB/s, and an interactive session: a line every 50 ms, each answered before the next.
	qb_board bash -c "curl -sS --max-time 120 --limit-rate 20M http://$INET_ADDR/big200.bin | sha256sum | cut -d' ' -f1" \
		> "$QB_WORK/cut-dl.sha" 2> "$QB_WORK/cut-dl.err" &
	local dl=$!
	qb_board $QBTOOL chat-client "$INET_ADDR" 7003 --lines 250 --interval 0.05 \
		--transcript "$QB_WORK/chat.out" --expect "$QB_WORK/chat.expect" > "$QB_WORK/chat.result" 2>&1 &
	local chat=$!
	sleep 3
	touch "$QB_WORK/cable.cut" # the cable is pulled
	pulled=$(date +%s.%N)
	rx_cut=$(qb_board cat /sys/class/net/qb0/statistics/rx_bytes)
	lines_cut=$(wc -l < "$QB_WORK/chat.out")
	sleep 1
	text=$(qbnet_cli status | grep '^board')
	check "status shows the board held: $text" grep -q "held, [0-9]* s left" <<< "$text"
	check "qbnetd saw its link go" grep -q "link down" "$QB_WORK/qbnetd.log"
	sleep 4
	rm -f "$QB_WORK/cable.cut" # and put back after 5 s
	plugged=$(date +%s.%N)
	check "the board relinked" qb_wait_linked 20
	relinked=$(since "$plugged")
	for _ in $(seq 600); do kill -0 $dl 2>/dev/null || kill -0 $chat 2>/dev/null || break; sleep 0.1; done
	wait $dl 2>/dev/null || true
	wait $chat || chat_rc=$?
	got=$(cat "$QB_WORK/cut-dl.sha")
	local moved=$(((rx_cut - rx0) >> 20))
	check "the download was under way when the cable was pulled ($moved MiB of 200 had reached qb0)" \
		[ "$moved" -ge 10 -a "$moved" -le 190 ]
	check "the session was under way too ($lines_cut of 250 lines answered)" [ "$lines_cut" -ge 10 -a "$lines_cut" -lt 250 ]
	check "200 MiB download across the cut: sha256 equal ($(head -c 200 "$QB_WORK/cut-dl.err"))" [ "$got" = "$want" ]
	check "interactive session across the cut: $(cat "$QB_WORK/chat.result")" [ "$chat_rc" = 0 ]
	check "its transcript is byte-exact" cmp -s "$QB_WORK/chat.out" "$QB_WORK/chat.expect"
	check "qbnet resumed the held session" grep -q "resumed" "$QB_WORK/qbnet.log"
	note "5 s cut of the socket link mid-transfer: relinked ${relinked} s after the cable was back; 200 MiB download (cut at $moved MiB) and 250-line session (cut at line $lines_cut; $(cut -d, -f2 "$QB_WORK/chat.result")) both intact, $(since "$t0") s in all"
	rm -f "$big"
	check "back on the direct link" cable_out
}

# Runs a download on the board in the background; its curl exit code goes to FILE when it ends.
download_bg() { # FILE RATE
	qb_board bash -c "curl -sS --max-time 60 --limit-rate $2 -o /dev/null http://$INET_ADDR/big.bin; echo \$? > $1" \
		> /dev/null 2> "$1.err" &
	echo $!
}

# qbnet restarted mid-download: the board's client must end at once, not at its own timeout.
restart_ends_download() { # WHAT-QBNETD-LOGS (an extended regular expression)
	local dl rc linked
	rm -f "$QB_WORK/restart-dl.rc"
	dl=$(download_bg "$QB_WORK/restart-dl.rc" 5M)
	sleep 2
	check "the download is under way" kill -0 "$dl"
	qb_qbnet_stop
	qb_qbnet_start "${QBNET_ARGS[@]}"
	check "the board relinked to the new qbnet" qb_wait_linked 30
	linked=$(date +%s.%N)
	for _ in $(seq 50); do kill -0 "$dl" 2>/dev/null || break; sleep 0.1; done
	check "the board's download ended within 5 s of the relink" bash -c "! kill -0 $dl 2>/dev/null"
	rc=$(cat "$QB_WORK/restart-dl.rc")
	check "with an error, not a short file read as complete (curl exit $rc: $(cat "$QB_WORK/restart-dl.rc.err"))" [ "$rc" != 0 ]
	check "qbnetd: $(grep -m1 "ended the old one" "$QB_WORK/qbnetd.log")" grep -qE "$1" "$QB_WORK/qbnetd.log"
	note "qbnet restarted mid-download: the board's curl exited $(since "$linked") s after the relink (exit $rc: $(head -c 80 "$QB_WORK/restart-dl.rc.err"))"
}

case_host_restart_ends_board_connections() {
	restart_ends_download "\([1-9][0-9]* destroyed"
}

case_host_restart_ends_board_connections_fallback() {
	# A kernel without CONFIG_INET_DIAG_DESTROY, as qbnetd's test switch makes it: it pokes each old
	# connection so its kernel answers, and the new qbnet resets the unknown flow.
	qb_qbnetd_stop
	QBNETD_TEST_SOCK_DESTROY=off qb_qbnetd_start
	check "relinked" qb_wait_linked 20
	restart_ends_download "destroyed, [1-9][0-9]* poked"
	qb_qbnetd_stop
	qb_qbnetd_start
	check "relinked" qb_wait_linked 20
}

# ---- main --------------------------------------------------------------------

SELECTED=("$@")
qb_suite_up 65536
# A second DNS server that answers $MOVED_NAME differently: the host's resolver switches to it.
INET_DNS2_ADDR=${INET_ADDR%.*}.53
ip -n "$INET_NS" addr add "$INET_DNS2_ADDR/24" dev "$VETH_INET"
ip netns exec "$INET_NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
	--listen-address="$INET_DNS2_ADDR" --except-interface=lo --user=root --pid-file= \
	--address="/$MOVED_NAME/$MOVED_ADDR2" --log-facility="$QB_WORK/dnsmasq2.log" &
qb_track $! dnsmasq2
host_loopback_server || qb_die "loopback test server did not start"
ip netns exec "$INET_NS" $QBTOOL hold-server --bind 0.0.0.0 --port 7002 > "$QB_WORK/hold-server.log" 2>&1 &
qb_track $! hold-server
# Services on the board, reached from the host through forwards.
ip netns exec "$BOARD_NS" $QBTOOL echo-server --bind 0.0.0.0 --port 2222 > "$QB_WORK/board-echo.log" 2>&1 &
qb_track $! board-echo
ip netns exec "$BOARD_NS" $QBTOOL udp-echo-server --bind 0.0.0.0 --port 7 > "$QB_WORK/board-udpecho.log" 2>&1 &
qb_track $! board-udpecho
ip netns exec "$INET_NS" $QBTOOL echo-server --bind 0.0.0.0 --port 7003 > "$QB_WORK/inet-echo.log" 2>&1 &
qb_track $! inet-echo
QBNET_ARGS=(--forward tcp:12222:2222 --forward udp:12007:7 --metrics 127.0.0.1:0)
qb_qbnet_start "${QBNET_ARGS[@]}"
qb_qbnetd_start
qb_wait_linked 20 || qb_die "board did not link: $(tail -n 20 "$QB_WORK/qbnetd.log") / $(tail -n 20 "$QB_WORK/qbnet.log")"

run_case board-configured case_board_configured
run_case dns case_dns
run_case dns-follows-host case_dns_follows_host
run_case http-page case_http_page
run_case download-100MiB case_download_100m
run_case upload-100MiB case_upload_100m
run_case parallel-200 case_parallel_200
run_case half-close case_half_close
run_case refused-fast case_refused_fast
run_case ipv6 case_ipv6
run_case udp-echo case_udp_echo
run_case udp-dns-direct case_udp_dns_direct
run_case ping case_ping
run_case forward case_forward
run_case status case_status
run_case status-watch case_status_watch
run_case metrics case_metrics
run_case systemd-service case_systemd_service
run_case host-loopback-denied case_host_loopback_denied
run_case idle-10k case_idle_10k
run_case hold-across-a-cut case_hold_across_a_cut
run_case host-restart-ends-board-connections case_host_restart_ends_board_connections
run_case host-restart-ends-board-connections-fallback case_host_restart_ends_board_connections_fallback
run_case host-restart-relinks case_host_restart_relinks_with_loopback_allowed
run_case loss-1pct case_loss_1pct
run_case board-gone-past-hold-frees-flows case_board_gone_past_hold_frees_flows

qb_summary e2e-netns
