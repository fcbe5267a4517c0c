#!/bin/bash
# Bad input at the edges, as root: every qbnetd flag with a bad value (one
# error line naming the flag, at most a "Try --help" line, exit 2), and the
# environment going wrong for both programs: no permission (as nobody), no TUN,
# no configfs, no libusb, a taken state directory, socket or port: one error
# line that names the fix, non-zero exit. (qbnet's own flags: CliErrorsTest.)
# Usage: tests/cli-errors.sh
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
QBNETD=${QBNETD:-$ROOT/board/build/qbnetd}
JAR=$ROOT/host/target/qbnet.jar
NS=qbcli-$$
TMP=$(mktemp -d /tmp/qbnet-cli-errors.XXXXXX)
chmod 755 "$TMP"
pass=0
fail=0
cleanup() {
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2> /dev/null
	ip netns del "$NS" 2> /dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "cli-errors: needs root (namespaces, setpriv)" >&2; exit 1; }
[ -x "$QBNETD" ] && [ -f "$JAR" ] || { echo "cli-errors: build first (make)" >&2; exit 1; }
ip netns add "$NS" || exit 1
# The cases run as nobody need binaries nobody can reach: the checkout may be
# under /root or a 0700 directory. Copies in the 0755 temp dir serve every case.
install -m 755 "$QBNETD" "$TMP/qbnetd" && install -m 644 "$JAR" "$TMP/qbnet.jar" || exit 1
QBNETD=$TMP/qbnetd
JAR=$TMP/qbnet.jar

# expect WHAT EXIT MUST-CONTAIN KIND -- COMMAND...
# KIND flag: only "PROG: ..." and a "Try" line allowed; env: exactly one error line, log lines aside.
expect() {
	local what=$1 exit_want=$2 needle=$3 kind=$4
	shift 5
	local out rc=0
	out=$(timeout 30 "$@" 2>&1 < /dev/null) || rc=$?
	local errors others
	if [ "$kind" = flag ]; then
		errors=$(grep -c -E "^(qbnetd|qbnet): " <<< "$out")
		others=$(grep -v -E "^(qbnetd|qbnet): |^Try '(qbnetd|qbnet)[a-z -]*--help'" <<< "$out" | grep -c .)
	else
		# Log lines (qbnetd "[  t] info:", qbnet "TIMESTAMP INFO") may come first; errors are the rest.
		errors=$(grep -v -E "^qbnetd\[ *[0-9.]+\] (info|debug|warn):|^[0-9T:.-]+ (INFO|DEBUG) " <<< "$out" | grep -c .)
		others=0
	fi
	local line
	line=$(grep -v -E "^qbnetd\[ *[0-9.]+\] (info|debug|warn):|^[0-9T:.-]+ (INFO|DEBUG) |^Try '" <<< "$out" | head -n 1)
	if [ "$rc" = "$exit_want" ] && [ "$errors" = 1 ] && [ "$others" = 0 ] && grep -qF -- "$needle" <<< "$line"; then
		pass=$((pass + 1))
		printf 'ok    %-44s exit %s  %s\n' "$what" "$rc" "$(cut -c1-150 <<< "$line")"
	else
		fail=$((fail + 1))
		printf 'FAIL  %-44s exit %s (want %s), %s error lines, wanted "%s" in:\n' "$what" "$rc" "$exit_want" "$errors" "$needle"
		sed 's/^/        /' <<< "$out"
	fi
}

IN_NS=(ip netns exec "$NS")
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
QBNET=("$JAVA_HOME/bin/java" -jar "$JAR")
RUNARGS=(--link "unix:$TMP/link.sock" --route-mode none --resolv-conf none)

echo "== qbnetd: every flag with a bad value"
long=$(printf 'x%.0s' $(seq 120))
expect "--link foo" 2 "--link" flag -- "$QBNETD" --link foo
expect "--link unix:" 2 "--link" flag -- "$QBNETD" --link unix:
expect "--link unix:<120 bytes>" 2 "--link" flag -- "$QBNETD" --link "unix:/$long"
expect "--link (no value)" 2 "--link" flag -- "$QBNETD" --link
expect "--usb-id 1209" 2 "--usb-id" flag -- "$QBNETD" --usb-id 1209
expect "--usb-id 12345:1" 2 "--usb-id" flag -- "$QBNETD" --usb-id 12345:1
expect "--usb-udc 'a b'" 2 "--usb-udc" flag -- "$QBNETD" --usb-udc "a b"
expect "--usb-udc .." 2 "--usb-udc" flag -- "$QBNETD" --usb-udc ..
expect "--usb-gadget .hidden" 2 "--usb-gadget" flag -- "$QBNETD" --usb-gadget .hidden
expect "--usb-gadget a/b" 2 "--usb-gadget" flag -- "$QBNETD" --usb-gadget a/b
expect "--usb-ffs relative/dir" 2 "--usb-ffs" flag -- "$QBNETD" --usb-ffs relative/dir
expect "--usb-manufacturer ''" 2 "--usb-manufacturer" flag -- "$QBNETD" --usb-manufacturer ""
expect "--usb-product <control char>" 2 "--usb-product" flag -- "$QBNETD" --usb-product $'bad\x01'
expect "--usb-request-size 5000" 2 "--usb-request-size" flag -- "$QBNETD" --usb-request-size 5000
expect "--tun 'qb 0'" 2 "--tun" flag -- "$QBNETD" --tun "qb 0"
expect "--tun <16 chars>" 2 "--tun" flag -- "$QBNETD" --tun abcdefghijklmnop
expect "--tun a/b" 2 "--tun" flag -- "$QBNETD" --tun a/b
expect "--serial <control chars only>" 2 "--serial" flag -- "$QBNETD" --serial $'\x01\x02'
expect "--route-mode sideways" 2 "--route-mode" flag -- "$QBNETD" --route-mode sideways
expect "--route-mode metric:x" 2 "--route-mode" flag -- "$QBNETD" --route-mode metric:x
expect "--route-mode metric:4294967296" 2 "--route-mode" flag -- "$QBNETD" --route-mode metric:4294967296
expect "--resolv-conf ''" 2 "--resolv-conf" flag -- "$QBNETD" --resolv-conf ""
expect "--resolv-conf resolv.conf (no mode, no '/')" 2 "--resolv-conf" flag -- "$QBNETD" --resolv-conf resolv.conf
expect "--state-dir ''" 2 "--state-dir" flag -- "$QBNETD" --state-dir ""
expect "--pid-file qbnetd.pid (relative)" 2 "--pid-file" flag -- "$QBNETD" --pid-file qbnetd.pid
expect "--max-bundle 100" 2 "--max-bundle" flag -- "$QBNETD" --max-bundle 100
expect "--max-bundle 2000000" 2 "--max-bundle" flag -- "$QBNETD" --max-bundle 2000000
expect "--max-bundle -5" 2 "--max-bundle" flag -- "$QBNETD" --max-bundle -5
expect "--max-bundle 16k" 2 "--max-bundle" flag -- "$QBNETD" --max-bundle 16k
expect "--log-level loud" 2 "--log-level" flag -- "$QBNETD" --log-level loud
expect "--bogus" 2 "--bogus" flag -- "$QBNETD" --bogus
expect "-x" 2 "-x" flag -- "$QBNETD" -x
expect "extra argument" 2 "extra" flag -- "$QBNETD" extra
expect "--usb-id with --link unix" 2 "--usb-" flag -- "$QBNETD" --link unix:/tmp/x --usb-id 1209:0001

echo "== qbnetd: the environment"
expect "state dir not writable (nobody)" 1 "--state-dir" env -- "${IN_NS[@]}" "${NOBODY[@]}" "$QBNETD" "${RUNARGS[@]}"
mkdir -m 777 "$TMP/nobody-state"
expect "no CAP_NET_ADMIN for the TUN (nobody)" 1 "CAP_NET_ADMIN" env -- \
	"${IN_NS[@]}" "${NOBODY[@]}" "$QBNETD" "${RUNARGS[@]}" --state-dir "$TMP/nobody-state"
expect "no /dev/net/tun" 1 "modprobe tun" env -- "${IN_NS[@]}" unshare -m sh -c \
	'mount -t tmpfs none /dev/net && exec "$0" "$@"' "$QBNETD" "${RUNARGS[@]}" --state-dir "$TMP/s1"
: > "$TMP/empty"
expect "/dev/net/tun an empty file" 1 "modprobe tun" env -- "${IN_NS[@]}" unshare -m sh -c \
	'mount --bind "$1" /dev/net/tun && shift && exec "$0" "$@"' "$QBNETD" "$TMP/empty" "${RUNARGS[@]}" --state-dir "$TMP/s2"
ip -n "$NS" link add qbcli0 type veth peer name qbcli0p || echo "cli-errors: cannot make a veth pair" >&2
expect "--tun names a non-TUN interface" 1 "--tun" env -- "${IN_NS[@]}" "$QBNETD" "${RUNARGS[@]}" --tun qbcli0 --state-dir "$TMP/s3"
expect "no configfs" 1 "CONFIGFS" env -- "${IN_NS[@]}" unshare -m sh -c \
	'mount -t tmpfs none /sys/kernel && exec "$0" "$@"' "$QBNETD" --link usb --route-mode none --resolv-conf none --state-dir "$TMP/s4"
ip netns exec "$NS" "$QBNETD" "${RUNARGS[@]}" --state-dir "$TMP/s5" --tun qbcli1 > "$TMP/holder.log" 2>&1 &
HOLDER=$! # ip netns exec execs: this is qbnetd's pid
for _ in $(seq 50); do grep -q "TUN\|link" "$TMP/holder.log" 2> /dev/null && break; sleep 0.1; done
expect "state dir locked by another qbnetd" 1 "--state-dir" env -- "${IN_NS[@]}" "$QBNETD" "${RUNARGS[@]}" --state-dir "$TMP/s5" --tun qbcli2
kill "$HOLDER"
wait "$HOLDER" 2> /dev/null
HOLDER=

echo "== qbnet: the environment"
expect "qbnet list: no libusb (QBNET_LIBUSB)" 1 "QBNET_LIBUSB" env -- env QBNET_LIBUSB=/nonexistent/libusb.so "$JAVA_HOME/bin/java" -jar "$JAR" list
expect "qbnet link-test: no libusb" 1 "QBNET_LIBUSB" env -- env QBNET_LIBUSB=/nonexistent/libusb.so "$JAVA_HOME/bin/java" -jar "$JAR" link-test --wait 0
expect "qbnet run (usb): no libusb" 1 "QBNET_LIBUSB" env -- env QBNET_LIBUSB=/nonexistent/libusb.so \
	"$JAVA_HOME/bin/java" -jar "$JAR" run --control "$TMP/c0.sock"
expect "qbnet run: no writable control path (nobody)" 1 "--control" env -- "${NOBODY[@]}" env -u XDG_RUNTIME_DIR -u QBNET_CONTROL \
	HOME=/nonexistent "$JAVA_HOME/bin/java" -jar "$JAR" run --link "unix:$TMP/l1.sock"
expect "qbnet run: link socket directory missing" 1 "--link unix:PATH" env -- "${QBNET[@]}" run --link unix:/nonexistent/dir/link.sock --control "$TMP/c1.sock"
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' > "$TMP/port" &
PORTHOLDER=$!
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
expect "qbnet run: forward port taken" 1 "--forward" env -- "${QBNET[@]}" run --link "unix:$TMP/l2.sock" --control "$TMP/c2.sock" --forward "tcp:$(cat "$TMP/port"):22"
kill $PORTHOLDER 2> /dev/null
wait $PORTHOLDER 2> /dev/null

echo
echo "cli-errors: $pass passed, $fail failed"
[ $fail = 0 ]
