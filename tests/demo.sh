#!/bin/bash
# `make demo`: the main job with no board attached. A simulated board (qbnetd
# and its TUN in a network namespace) links to qbnet over a Unix socket and
# fetches a page and a file from a server in another namespace, through
# qbnet's NAT and the host's sockets. Cleans up on exit and on Ctrl-C.
set -u
QB_PREFIX=${QB_PREFIX:-qbdemo}
. "$(dirname "$0")/lib/topology.sh"

SIZE_MIB=${DEMO_SIZE_MIB:-64}

qb_require_root
qb_require_built
trap 'echo; qb_log "cleaning up"; qb_topology_down' EXIT
trap 'exit 130' INT TERM

qb_log "creating namespaces: board ($BOARD_NS) and internet ($INET_NS, $INET_ADDR)"
qb_topology_up
head -c $((SIZE_MIB * 1048576)) /dev/urandom > "$QB_WORK/www/file.bin"
qb_servers_up
qb_log "starting qbnet (host driver) on unix:$LINK_SOCK"
qb_qbnet_start
qb_log "starting qbnetd (board daemon) in $BOARD_NS"
qb_qbnetd_start
qb_wait_linked 20 || qb_die "the board did not link; logs: $QB_WORK/qbnet.log $QB_WORK/qbnetd.log"

echo
echo "== link"
grep -h "board .* attached" "$QB_WORK/qbnet.log" | sed 's/^/   qbnet:  /'
echo "   board:  $(qb_board ip -br -4 addr show dev qb0 | tr -s ' ') mtu $(qb_board cat /sys/class/net/qb0/mtu)"
echo "   route:  $(qb_board ip -4 route show default)"
echo "   dns:    $(grep nameserver "/etc/netns/$BOARD_NS/resolv.conf" | tr '\n' ' ')"

echo
echo "== the board resolves $INET_NAME and fetches a page"
addr=$(qb_board getent ahostsv4 "$INET_NAME" | awk 'NR == 1 { print $1 }')
echo "   $INET_NAME -> $addr"
qb_board curl -sS --max-time 10 "http://$INET_NAME/index.html" | sed 's/^/   /'

echo
echo "== the board downloads a $SIZE_MIB MiB file"
want=$(sha256sum "$QB_WORK/www/file.bin" | cut -d' ' -f1)
out=$(qb_board curl -sS --max-time 120 -o /dev/null -w '%{size_download} %{time_total} %{speed_download}' \
	"http://$INET_NAME/file.bin") || qb_die "download failed"
read -r bytes secs speed <<< "$out"
got=$(qb_board curl -sS --max-time 120 "http://$INET_NAME/file.bin" | sha256sum | cut -d' ' -f1)
awk -v b="$bytes" -v s="$secs" -v r="$speed" 'BEGIN { printf "   %d bytes in %.2f s = %.1f MB/s (%.2f Gbit/s)\n", b, s, r / 1e6, r * 8 / 1e9 }'
if [ "$got" = "$want" ]; then echo "   sha256 matches the server's: $got"; else qb_die "sha256 mismatch"; fi

echo
echo "== the board uploads it back"
out=$(qb_board curl -sS --max-time 120 -T "$QB_WORK/www/file.bin" -o "$QB_WORK/upload.reply" \
	-w '%{size_upload} %{time_total} %{speed_upload}' "http://$INET_NAME/upload") || qb_die "upload failed"
read -r bytes secs speed <<< "$out"
sum=$(cut -d' ' -f1 "$QB_WORK/upload.reply")
awk -v b="$bytes" -v s="$secs" -v r="$speed" 'BEGIN { printf "   %d bytes in %.2f s = %.1f MB/s (%.2f Gbit/s)\n", b, s, r / 1e6, r * 8 / 1e9 }'
if [ "$sum" = "$want" ]; then echo "   the server's sha256 matches"; else qb_die "upload sha256 mismatch"; fi

echo
echo "demo: ok (logs in $QB_WORK until cleanup)"
