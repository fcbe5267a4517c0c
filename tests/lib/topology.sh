# Test topology shared by the end-to-end tests, `make demo` and the benchmarks.
# A simulated board (netns running qbnetd with its real TUN), the host (qbnet
# in the root netns, its resolver pointed at the test DNS through a private
# mount namespace) and an "internet" netns joined to the host by veth, running
# HTTP, half-close, UDP echo and DNS servers. Source it; requires root.

QB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
QB_PREFIX=${QB_PREFIX:-qbt}
BOARD_NS=$QB_PREFIX-board
INET_NS=$QB_PREFIX-inet
VETH_HOST=$QB_PREFIX-h
VETH_INET=$QB_PREFIX-i
# TEST-NET-2 and a ULA, used only between namespaces this harness creates.
# A script that may run beside another topology (another QB_PREFIX) sets its own.
INET_HOST_ADDR=${INET_HOST_ADDR:-198.51.100.1}
INET_ADDR=${INET_ADDR:-198.51.100.2}
INET6_HOST_ADDR=${INET6_HOST_ADDR:-fd51:6274::1}
INET6_ADDR=${INET6_ADDR:-fd51:6274::2}
INET_NAME=www.qbnet.test
# A name the two test DNS servers answer differently (TEST-NET-1 data, never contacted): e2e's resolver switch.
MOVED_NAME=moved.qbnet.test
MOVED_ADDR1=192.0.2.1
MOVED_ADDR2=192.0.2.2
BOARD_ADDR=10.113.98.2
GATEWAY_ADDR=10.113.98.1
QB_WORK=${QB_WORK:-/tmp/qbnet-$QB_PREFIX}
QBNETD=${QBNETD:-$QB_ROOT/board/build/qbnetd}
QBNET_JAR=$QB_ROOT/host/target/qbnet.jar
# QBNET_BIN: an installed or packaged qbnet launcher to run instead of the built jar.
QBNET_BIN=${QBNET_BIN:-}
QBTOOL="python3 $QB_ROOT/tests/tools/qbtool.py"
LINK_SOCK=$QB_WORK/link.sock
export QBNET_CONTROL=$QB_WORK/control.sock
# The link between qbnetd and qbnet: unix (a socket) or usb (the gadget, in the USB VM).
QB_LINK=${QB_LINK:-unix}
QB_UDC=${QB_UDC:-dummy_udc.0}

# The host driver's CLI (status, forward) against the running qbnet.
qbnet_cli() { qbnet_exec "$@"; }
# The jar runs with the JVM options the launcher of `make dist` uses (QBNET_JVM_OPTIONS=""
# leaves them out, for a comparison), then QBNET_JAVA_OPTS (which the launcher reads too).
QBNET_JVM_OPTIONS=${QBNET_JVM_OPTIONS-@$QB_ROOT/host/packaging/jvm.options}
# qbnet from the jar or QBNET_BIN.
qbnet_exec() {
	if [ -n "$QBNET_BIN" ]; then
		"$QBNET_BIN" "$@"
	else
		"$JAVA_HOME/bin/java" $QBNET_JVM_OPTIONS ${QBNET_JAVA_OPTS:-} -jar "$QBNET_JAR" "$@"
	fi
}

qb_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
qb_die() { qb_log "FATAL: $*"; exit 1; }

# Runs a command in the board namespace (with its /etc/netns resolv.conf).
qb_board() { ip netns exec "$BOARD_NS" "$@"; }
qb_inet() { ip netns exec "$INET_NS" "$@"; }

qb_require_root() {
	[ "$(id -u)" = 0 ] || qb_die "needs root (network namespaces, TUN): run with sudo"
	[ -c /dev/net/tun ] || qb_die "/dev/net/tun missing: modprobe tun"
}

qb_require_built() {
	[ -x "$QBNETD" ] || qb_die "$QBNETD not built: run make"
	if [ -n "$QBNET_BIN" ]; then
		[ -x "$QBNET_BIN" ] || qb_die "QBNET_BIN=$QBNET_BIN is not an executable"
	else
		[ -f "$QBNET_JAR" ] || qb_die "$QBNET_JAR not built: run make"
	fi
}

# Background processes we started, killed on teardown.
qb_track() { echo "$1 $2" >> "$QB_WORK/pids"; }

qb_kill_tracked() {
	[ -f "$QB_WORK/pids" ] || return 0
	while read -r pid name; do
		kill "$pid" 2>/dev/null
	done < "$QB_WORK/pids"
	for _ in $(seq 30); do # up to 3 s for orderly exits (a JVM runs its shutdown hook)
		local alive=0
		while read -r pid name; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$QB_WORK/pids"
		[ $alive = 0 ] && break
		sleep 0.1
	done
	while read -r pid name; do
		kill -9 "$pid" 2>/dev/null
	done < "$QB_WORK/pids"
	rm -f "$QB_WORK/pids"
}

qb_topology_down() {
	qb_kill_tracked
	ip netns pids "$BOARD_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns pids "$INET_NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$BOARD_NS" 2>/dev/null
	ip netns del "$INET_NS" 2>/dev/null
	ip link del "$VETH_HOST" 2>/dev/null
	rm -rf "/etc/netns/$BOARD_NS"
	rmdir /etc/netns 2>/dev/null
	return 0
}

# Interfaces left by an interrupted run of these scripts (any prefix) would
# route the test subnet into a dead namespace: remove ours, refuse others.
qb_clear_stale() {
	local dev
	for dev in $(ip -o -4 addr show to "$INET_HOST_ADDR/24" | awk '{ print $2 }'); do
		case $dev in
		qb*-h) qb_log "removing $dev, left by an interrupted test run"; ip link del "$dev" ;;
		*) qb_die "interface $dev already holds $INET_HOST_ADDR/24, the test subnet: remove it first" ;;
		esac
	done
	return 0
}

qb_topology_up() {
	qb_topology_down
	qb_clear_stale
	rm -rf "$QB_WORK"
	mkdir -p "$QB_WORK/www" "$QB_WORK/state"
	ip netns add "$BOARD_NS" || qb_die "cannot create network namespaces"
	ip netns add "$INET_NS"
	ip -n "$BOARD_NS" link set lo up
	ip -n "$INET_NS" link set lo up
	ip link add "$VETH_HOST" type veth peer name "$VETH_INET" netns "$INET_NS"
	ip addr add "$INET_HOST_ADDR/24" dev "$VETH_HOST"
	ip -6 addr add "$INET6_HOST_ADDR/64" dev "$VETH_HOST" nodad
	ip link set "$VETH_HOST" up
	ip -n "$INET_NS" addr add "$INET_ADDR/24" dev "$VETH_INET"
	ip -n "$INET_NS" -6 addr add "$INET6_ADDR/64" dev "$VETH_INET" nodad
	ip -n "$INET_NS" link set "$VETH_INET" up
	# The board's /etc/resolv.conf, as `ip netns exec` shows it; qbnetd writes it.
	mkdir -p "/etc/netns/$BOARD_NS"
	printf '# before qbnetd\n' > "/etc/netns/$BOARD_NS/resolv.conf"
	cp "/etc/netns/$BOARD_NS/resolv.conf" "$QB_WORK/board-resolv.before"
	# The host's resolver for qbnet only: the test DNS server in the "internet".
	printf 'nameserver %s\n' "$INET_ADDR" > "$QB_WORK/host-resolv.conf"
}

# Serves $QB_WORK/www over HTTP, plus half-close, UDP echo and DNS.
qb_servers_up() {
	echo "<html><body>qbnet test page</body></html>" > "$QB_WORK/www/index.html"
	ip netns exec "$INET_NS" $QBTOOL httpd --bind :: --port 80 --root "$QB_WORK/www" > "$QB_WORK/httpd.log" 2>&1 &
	qb_track $! httpd
	ip netns exec "$INET_NS" $QBTOOL halfclose-server --bind :: --port 7001 > "$QB_WORK/halfclose.log" 2>&1 &
	qb_track $! halfclose
	ip netns exec "$INET_NS" $QBTOOL udp-echo-server --bind :: --port 7 > "$QB_WORK/udpecho.log" 2>&1 &
	qb_track $! udpecho
	ip netns exec "$INET_NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address="$INET_ADDR" --except-interface=lo --user=root --pid-file= \
		--address="/$INET_NAME/$INET_ADDR" --address="/$INET_NAME/$INET6_ADDR" --address="/$MOVED_NAME/$MOVED_ADDR1" \
		--log-facility="$QB_WORK/dnsmasq.log" &
	qb_track $! dnsmasq
	for _ in $(seq 50); do
		qb_inet bash -c "exec 3<>/dev/tcp/$INET_ADDR/80" 2>/dev/null && return 0
		sleep 0.1
	done
	qb_die "test HTTP server did not start ($(cat "$QB_WORK/httpd.log"))"
}

qb_qbnet_link() { if [ "$QB_LINK" = usb ]; then echo usb; else echo "unix:$LINK_SOCK"; fi; }

# Starts qbnet in the root netns with the test resolver; extra args go to `run`.
qb_qbnet_start() {
	: > "$QB_WORK/qbnet.log"
	rm -f "$LINK_SOCK"
	local qbnet=("$JAVA_HOME/bin/java" $QBNET_JVM_OPTIONS ${QBNET_JAVA_OPTS:-} -jar "$QBNET_JAR")
	[ -n "$QBNET_BIN" ] && qbnet=("$QBNET_BIN")
	unshare -m --propagation private sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
		"$QB_WORK/host-resolv.conf" "${qbnet[@]}" run --link "$(qb_qbnet_link)" "$@" >> "$QB_WORK/qbnet.log" 2>&1 &
	local pid=$!
	echo $pid > "$QB_WORK/qbnet.pid"
	qb_track $pid qbnet
	[ "$QB_LINK" = usb ] && return 0 # qb_wait_linked tells when the board is there
	for _ in $(seq 100); do
		[ -S "$LINK_SOCK" ] && return 0
		kill -0 $pid 2>/dev/null || qb_die "qbnet exited: $(cat "$QB_WORK/qbnet.log")"
		sleep 0.1
	done
	qb_die "qbnet did not start: $(cat "$QB_WORK/qbnet.log")"
}

# PIDs live in files: test cases run in subshells.
qbnet_pid() { cat "$QB_WORK/qbnet.pid"; }
qbnetd_pid() { cat "$QB_WORK/qbnetd.pid"; }

qb_stop_pid() {
	kill "$1" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
}

qb_qbnet_stop() { qb_stop_pid "$(qbnet_pid)"; }
qb_qbnetd_stop() { qb_stop_pid "$(qbnetd_pid)"; }

# Starts qbnetd in the board netns; extra args go to qbnetd. QB_BOARD_SOCK, when set, is the socket
# it connects to instead of qbnet's own (a relay between them: tools/qbtool.py link-relay).
qb_qbnetd_start() {
	: > "$QB_WORK/qbnetd.log"
	local link=(--link "unix:${QB_BOARD_SOCK:-$LINK_SOCK}")
	[ "$QB_LINK" = usb ] && link=(--link usb --usb-udc "$QB_UDC")
	ip netns exec "$BOARD_NS" "$QBNETD" "${link[@]}" --state-dir "$QB_WORK/state" "$@" >> "$QB_WORK/qbnetd.log" 2>&1 &
	echo $! > "$QB_WORK/qbnetd.pid"
	qb_track $! qbnetd
}

# Waits until the board has its address from the host's CONFIG.
qb_wait_linked() {
	local timeout=${1:-15}
	for _ in $(seq $((timeout * 10))); do
		if qb_board ip -4 addr show dev qb0 2>/dev/null | grep -q "inet $BOARD_ADDR/"; then
			if qb_board bash -c "exec 3<>/dev/tcp/$INET_ADDR/80" 2>/dev/null; then
				return 0
			fi
		fi
		sleep 0.1
	done
	return 1
}
