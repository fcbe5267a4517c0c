#!/bin/bash
# A/B comparison of board daemon builds or flags over USB, run INSIDE the USB
# test VM. Each round gives every variant in turn the same short runs: bare
# bulk each way against tests/usb_peer (a C host that starts at once; the
# board shows another product ID so that qbnet leaves it alone), then TCP
# through the whole stack with iperf3 each way via one qbnet that stays up
# and re-attaches the board. Variants of a round run seconds apart, so slow
# phases of the shared machine hit them alike; many short rounds beat few
# long ones here (an A/A run of 3 rounds of JVM link-tests gave medians 60%
# apart).
# Usage (from the host): tests/usbvm/run.sh [--speed high|super] --timeout 3600 \
#   bench/usb-vm-compare.sh [--rounds N] [--secs S] 'NAME|QBNETD-BINARY|EXTRA,QBNETD,ARGS' ...
# (defaults 10 rounds of 3 s; the extra arguments are comma-separated: the VM
# harness splits its command line at spaces). Writes compare.tsv and
# compare.md to $QB_USBVM_OUT: per variant the median of each figure, and the
# median of its per-round ratio to the first variant.
set -u
export QB_LINK=usb QB_PREFIX=qbucmp QB_WORK=/tmp/qbnet-usb-compare
. "$(dirname "$0")/../tests/lib/topology.sh"
[ -n "${QB_IN_USBVM:-}" ] || qb_die "run me through tests/usbvm/run.sh (inside the USB test VM)"
ROUNDS=10
SECS=3
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--secs) SECS=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || qb_die "usage: usb-vm-compare.sh [--rounds N] [--secs S] 'NAME|QBNETD|ARG,ARG' ..."
SPEED=$(cat /sys/module/dummy_hcd/parameters/is_super_speed 2>/dev/null)
[ "$SPEED" = Y ] && SPEED=super || SPEED=high
OUT=$QB_USBVM_OUT/compare.tsv
PEER=$QB_ROOT/board/build/usb_peer
RAW_ID=1209:0002	# what qbnet does not pick up
: > "$OUT"
export QBNET_JAVA_OPTS="-XX:+UseSerialGC"
mbps() { python3 -c 'import json,sys
try: print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e6))
except Exception: print("")'; }
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$SPEED" "$2" "$3" "$4" >> "$OUT"; }
bound() { [ "$(cat /sys/kernel/config/usb_gadget/qbnet/UDC 2>/dev/null)" = "$QB_UDC" ]; }

trap 'qb_topology_down' EXIT
qb_topology_up
qb_servers_up
ip netns exec "$INET_NS" iperf3 -s -p 5201 > "$QB_WORK/iperf3.log" 2>&1 &
qb_track $! iperf3
qb_qbnet_start -q

run_variant() { # NAME BINARY ARGS ROUND
	local name=$1 round=$4 out up="" down=""
	local -a args
	IFS=, read -r -a args <<< "$3"
	QBNETD=$2 qb_qbnetd_start -q --usb-id "$RAW_ID" "${args[@]}"
	for _ in $(seq 100); do bound && break; sleep 0.1; done
	out=$("$PEER" --id "$RAW_ID" --bench --test-ms "$((SECS * 1000))" 2>&1)
	record "$name" raw-up "$round" "$(echo "$out" | sed -n 's/.*bench: IN \([0-9.]*\) MB.*/\1/p')"
	record "$name" raw-down "$round" "$(echo "$out" | sed -n 's/.*OUT \([0-9.]*\) MB.*/\1/p')"
	qb_qbnetd_stop
	QBNETD=$2 qb_qbnetd_start -q "${args[@]}"
	if qb_wait_linked 120; then
		up=$(qb_board iperf3 -c "$INET_ADDR" -p 5201 -t "$SECS" -J | mbps)
		down=$(qb_board iperf3 -c "$INET_ADDR" -p 5201 -t "$SECS" -R -J | mbps)
	else
		qb_log "$name: no link over USB: $(tail -n 5 "$QB_WORK/qbnetd.log")"
	fi
	record "$name" tcp-up "$round" "$up"
	record "$name" tcp-down "$round" "$down"
	qb_qbnetd_stop
	echo "round $round $name: $(awk -F'\t' -v n="$name" -v r="$round" '$1 == n && $4 == r { printf "%s %s  ", $3, $5 }' "$OUT")"
}

for round in $(seq "$ROUNDS"); do
	for spec in "$@"; do
		IFS='|' read -r name binary args <<< "$spec"
		run_variant "$name" "$binary" "$args" "$round"
	done
done
# The summary: printed, and as a markdown fragment (compare.md) that can be
# kept in bench/ab/ for doc/PERFORMANCE.md (bench/report.py includes them).
python3 - "$OUT" "$QB_USBVM_OUT/compare.md" "$SPEED" "$ROUNDS" "$SECS" "$@" << 'PY'
import datetime, statistics, sys
tsv, md, speed, rounds, secs = sys.argv[1:6]
specs = [a.split("|") for a in sys.argv[6:]]
rows = [l.rstrip("\n").split("\t") for l in open(tsv) if l.strip()]
names = list(dict.fromkeys(r[0] for r in rows))
kinds = ["raw-up", "raw-down", "tcp-up", "tcp-down"]
heads = ["bare bulk board to host", "bare bulk host to board", "TCP board to host", "TCP host to board"]
value = {(r[0], r[2], r[3]): float(r[4]) for r in rows if r[4]}
out = []
out.append("%s speed, %s rounds of %s s, %s (`bench/usb-vm-compare.sh`):" % (
    speed, rounds, secs, datetime.datetime.now().strftime("%Y-%m-%d %H:%M")))
out.append("")
out.append("| variant | qbnetd flags | " + " | ".join(heads) + " |")
out.append("|---|---|" + "---|" * len(kinds))
for n in names:
    flags = next((" ".join(s[2].split(",")) for s in specs if s[0] == n and len(s) > 2 and s[2]), "")
    cells = []
    for k in kinds:
        v = [value[key] for key in value if key[0] == n and key[1] == k]
        cells.append("%.1f (%.0f–%.0f)" % (statistics.median(v), min(v), max(v)) if v else "–")
    out.append("| %s | %s | %s |" % (n, flags or "–", " | ".join(cells)))
out.append("")
out.append("Median of the per-round ratios to `%s` (min–max): the variants of a round run minutes apart." % names[0])
out.append("")
out.append("| variant | " + " | ".join(heads) + " |")
out.append("|---|" + "---|" * len(kinds))
for n in names[1:]:
    cells = []
    for k in kinds:
        q = [value[(n, k, r)] / value[(names[0], k, r)] for (m, kk, r) in value
             if m == n and kk == k and value.get((names[0], k, r))]
        cells.append("%.2f (%.2f–%.2f)" % (statistics.median(q), min(q), max(q)) if q else "–")
    out.append("| %s | %s |" % (n, " | ".join(cells)))
text = "\n".join(out) + "\n"
open(md, "w").write(text)
print(text)
PY
