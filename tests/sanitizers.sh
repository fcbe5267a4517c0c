#!/bin/bash
# The board daemon under the sanitizers, end to end with the real host driver
# (root, network namespaces; traffic stays in them): the ASan+UBSan build of
# qbnetd through tests/e2e-netns.sh (a report of any kind fails the run), then
# a valgrind memcheck session over the socket link, with traffic, ended by
# SIGTERM: no errors and no definite leaks.
# Usage: tests/sanitizers.sh [asan] [valgrind]   (both by default)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ASAN_QBNETD=$ROOT/board/build/asan/qbnetd
PLAIN_QBNETD=$ROOT/board/build/qbnetd
# The sanitized daemon runs every case of tests/e2e-netns.sh (about 45 s here);
# ASAN_E2E_CASES="name ..." picks some.
read -r -a ASAN_CASES <<< "${ASAN_E2E_CASES:-}"
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(asan valgrind)
failed=0
summary=()

say() { printf '%s sanitizers: %s\n' "$(date +%H:%M:%S)" "$*"; }

run_asan() {
	[ -x "$ASAN_QBNETD" ] || { say "$ASAN_QBNETD not built: make -C board asan-daemon"; return 1; }
	# The binary must really carry the sanitizers, or a clean run proves nothing.
	if ! ASAN_OPTIONS=help=1 "$ASAN_QBNETD" --version 2>&1 | grep -q "Available flags for AddressSanitizer"; then
		say "$ASAN_QBNETD is not built with AddressSanitizer"
		return 1
	fi
	local reports
	reports=$(mktemp -d /tmp/qbnet-asan-reports.XXXXXX)
	# A report must really be seen on a bug: a canary with a heap overflow and a signed overflow, built
	# with the daemon's sanitizer flags and run with the same options, must show both where we look:
	# the log_path files (ASan) and stderr (gcc's UBSan runtime writes there whatever log_path says).
	printf '%s\n' '#include <limits.h>' '#include <stdlib.h>' \
		'int main(int argc, char **argv) { (void)argv; int x = INT_MAX - 1 + argc; x += argc;' \
		'  volatile char *p = malloc(4); p[4] = (char)x; free((void *)p); return 0; }' > "$reports/canary.c"
	gcc -O1 -g -fsanitize=address,undefined -o "$reports/canary" "$reports/canary.c" ||
		{ say "cannot build the sanitizer canary"; return 1; }
	mkdir "$reports/canary.out"
	ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:log_path=$reports/canary.out/asan" \
		UBSAN_OPTIONS="halt_on_error=0:print_stacktrace=1:log_path=$reports/canary.out/ubsan" \
		bash -c '"$0" 2> "$1"' "$reports/canary" "$reports/canary.out/stderr" 2> /dev/null || true
	if ! grep -rq "heap-buffer-overflow" "$reports/canary.out" || ! grep -rq "signed integer overflow" "$reports/canary.out"; then
		say "the sanitizer canary's reports were not found in $reports/canary.out: a clean run would prove nothing"
		return 1
	fi
	rm -rf "$reports"/canary*
	# qbnetd's stderr is kept whole here (the e2e log is truncated at each daemon start).
	cat > "$reports/qbnetd-asan" <<EOF
#!/bin/bash
exec "$ASAN_QBNETD" "\$@" 2> >(tee -a "$reports/qbnetd.stderr" >&2)
EOF
	chmod +x "$reports/qbnetd-asan"
	local start=$(date +%s)
	say "qbnetd with ASan+UBSan through ${ASAN_CASES[*]:-every} e2e case; reports go to $reports"
	ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$reports/asan" \
		UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan" \
		QBNETD=$reports/qbnetd-asan QB_PREFIX=qbasan \
		INET_HOST_ADDR=203.0.113.65 INET_ADDR=203.0.113.66 INET6_HOST_ADDR=fd51:6277::1 INET6_ADDR=fd51:6277::2 \
		"$ROOT/tests/e2e-netns.sh" "${ASAN_CASES[@]}"
	local rc=$?
	local found
	found=$(find "$reports" -type f \( -name 'asan.*' -o -name 'ubsan.*' \) | sort)
	if [ -n "$found" ]; then
		say "sanitizer reports:"
		for f in $found; do echo "==== $f"; head -n 60 "$f"; done
		rc=1
	fi
	if grep -E -m 5 "runtime error:|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer" "$reports/qbnetd.stderr"; then
		say "sanitizer reports on qbnetd's stderr (above)"
		rc=1
	fi
	[ -s "$reports/qbnetd.stderr" ] || { say "qbnetd under ASan wrote nothing: did it run?"; rc=1; }
	rm -rf "$reports"
	summary+=("asan+ubsan qbnetd, e2e cases ${ASAN_CASES[*]:-(all)}: $([ $rc = 0 ] && echo 'passed, 0 sanitizer reports' || echo FAILED) ($(($(date +%s) - start)) s)")
	return $rc
}

run_valgrind() {
	command -v valgrind > /dev/null || { say "valgrind missing (apt-get install valgrind)"; return 1; }
	[ -x "$PLAIN_QBNETD" ] || { say "$PLAIN_QBNETD not built: make -C board"; return 1; }
	(
		export QB_PREFIX=qbvg
		export INET_HOST_ADDR=203.0.113.129 INET_ADDR=203.0.113.130 INET6_HOST_ADDR=fd51:6278::1 INET6_ADDR=fd51:6278::2
		. "$ROOT/tests/lib/topology.sh"
		qb_require_root
		trap 'qb_topology_down' EXIT
		qb_topology_up
		# qbnetd under memcheck; the wrapper execs, so its pid is qbnetd's.
		cat > "$QB_WORK/qbnetd-memcheck" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \\
	--errors-for-leak-kinds=definite --track-origins=yes --log-file=$QB_WORK/valgrind.log $PLAIN_QBNETD "\$@"
EOF
		chmod +x "$QB_WORK/qbnetd-memcheck"
		QBNETD=$QB_WORK/qbnetd-memcheck
		head -c 8388608 /dev/urandom > "$QB_WORK/www/file.bin"
		head -c 8388608 /dev/urandom > "$QB_WORK/upload.bin"
		qb_servers_up
		qb_qbnet_start
		qb_qbnetd_start
		local pid
		pid=$(qbnetd_pid)
		qb_wait_linked 60 || qb_die "qbnetd under valgrind did not link: $(tail -n 20 "$QB_WORK/qbnetd.log")"
		local want got body
		body=$(qb_board curl -sS --max-time 30 "http://$INET_NAME/index.html")
		[ "$body" = "<html><body>qbnet test page</body></html>" ] || qb_die "page by name failed under valgrind: $body"
		want=$(sha256sum "$QB_WORK/www/file.bin" | cut -d' ' -f1)
		got=$(qb_board curl -sS --max-time 60 "http://$INET_ADDR/file.bin" | sha256sum | cut -d' ' -f1)
		[ "$got" = "$want" ] || qb_die "8 MiB download under valgrind: sha256 differs"
		want=$(sha256sum "$QB_WORK/upload.bin" | cut -d' ' -f1)
		got=$(qb_board curl -sS --max-time 60 -T "$QB_WORK/upload.bin" "http://$INET_ADDR/upload" | cut -d' ' -f1)
		[ "$got" = "$want" ] || qb_die "8 MiB upload under valgrind: sha256 differs"
		qb_board $QBTOOL udp-echo-client "$INET_ADDR" 7 --count 10 --size 1000 > /dev/null || qb_die "UDP echo under valgrind"
		qb_board ping -n -c 3 -i 0.2 -W 3 "$INET_ADDR" > /dev/null || qb_die "ping under valgrind"
		qb_board curl -sS -6 --max-time 30 "http://[$INET6_ADDR]/index.html" > /dev/null || qb_die "IPv6 page under valgrind"
		# A host restart mid-session: the daemon's reconnect and session restart run under memcheck too.
		qb_qbnet_stop
		qb_qbnet_start
		qb_wait_linked 60 || qb_die "qbnetd under valgrind did not relink after a host restart"
		kill -TERM "$pid"
		local rc=0
		for _ in $(seq 300); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2> /dev/null && qb_die "qbnetd under valgrind did not exit within 30 s of SIGTERM"
		wait "$pid" || rc=$?
		local errors definite
		errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$QB_WORK/valgrind.log" | tail -n 1)
		definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$QB_WORK/valgrind.log" | tail -n 1)
		grep -E "ERROR SUMMARY|definitely lost|indirectly lost|still reachable|All heap blocks|in use at exit" \
			"$QB_WORK/valgrind.log" | sed 's/^/    /'
		echo "valgrind qbnetd session (page, 8 MiB down + up, UDP, ping, IPv6, host restart, SIGTERM): exit $rc, ${errors:-?} errors, definitely lost ${definite:-0} bytes" > "$QB_WORK/../qbvg.summary"
		if [ "$rc" != 0 ] || [ "${errors:-x}" != 0 ] || { [ -n "$definite" ] && [ "$definite" != 0 ]; }; then
			sed 's/^/    /' "$QB_WORK/valgrind.log" | head -n 80
			exit 1
		fi
	)
	local rc=$?
	summary+=("$(cat /tmp/qbvg.summary 2> /dev/null || echo 'valgrind: no result')$([ $rc = 0 ] || echo ' FAILED')")
	rm -f /tmp/qbvg.summary
	return $rc
}

for part in "${parts[@]}"; do
	case $part in
	asan) run_asan || failed=1 ;;
	valgrind) run_valgrind || failed=1 ;;
	*) echo "usage: $0 [asan] [valgrind]" >&2; exit 2 ;;
	esac
done
echo
for line in "${summary[@]}"; do echo "sanitizers: $line"; done
[ $failed = 0 ] && echo "sanitizers: all passed"
exit $failed
