# A small test-case runner for the end-to-end scripts: run_case NAME FUNCTION
# runs FUNCTION in a subshell with errexit, counts, shows logs on failure;
# note records a measured figure for the summary. Source after topology.sh.

PASS=0
FAIL=0
FAILED=()
SELECTED=()
RESULTS=$QB_WORK.results
: > "$RESULTS"

note() { echo "    $*"; echo "$*" >> "$RESULTS"; }

run_case() {
	local name=$1
	shift
	if [ ${#SELECTED[@]} -gt 0 ]; then
		local hit=0
		for s in "${SELECTED[@]}"; do [[ $name == *"$s"* ]] && hit=1; done
		[ $hit = 1 ] || return 0
	fi
	echo "--- $name"
	local start=$(date +%s.%N) rc
	# errexit only works in a subshell that is not itself a condition.
	( set -e; "$@" )
	rc=$?
	if [ $rc = 0 ]; then
		PASS=$((PASS + 1))
		echo "    ok ($(since "$start") s)"
	else
		FAIL=$((FAIL + 1))
		FAILED+=("$name")
		echo "    FAILED; last qbnet log lines:"
		tail -n 15 "$QB_WORK/qbnet.log" | sed 's/^/      /'
		echo "    last qbnetd log lines:"
		tail -n 15 "$QB_WORK/qbnetd.log" | sed 's/^/      /'
	fi
}

check() {
	# check DESCRIPTION COMMAND...: fails the case with a message.
	local what=$1
	shift
	if ! "$@"; then
		echo "    check failed: $what" >&2
		return 1
	fi
}

since() { # START [END] -> seconds from START to END (default now), e.g. 0.42
	awk -v s="$1" -v e="${2:-$(date +%s.%N)}" 'BEGIN { printf "%.2f", e - s }'
}

less_than() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

rate() { # bytes seconds -> "N MB/s"
	echo "$1 $2" | awk '{ printf "%.1f MB/s", $1 / $2 / 1e6 }'
}

rate() { # bytes seconds -> "N MB/s"
	echo "$1 $2" | awk '{ printf "%.1f MB/s", $1 / $2 / 1e6 }'
}

# download_checked LABEL FILE URL [MAXTIME]: the board fetches URL; its sha256 must be FILE's.
download_checked() {
	local label=$1 file=$2 url=$3 maxtime=${4:-120} want got start took
	want=$(sha256sum "$file" | cut -d' ' -f1)
	start=$(date +%s.%N)
	got=$(qb_board curl -sS --max-time "$maxtime" "$url" | sha256sum | cut -d' ' -f1)
	took=$(since "$start")
	check "$label: the board's sha256 equals the server's" [ "$got" = "$want" ]
	note "$label: $took s, $(rate "$(stat -c %s "$file")" "$took"), sha256 ok"
}

# upload_checked LABEL FILE URL [MAXTIME]: the board PUTs FILE; the server's sha256 of it must match.
upload_checked() {
	local label=$1 file=$2 url=$3 maxtime=${4:-120} want got start took
	want=$(sha256sum "$file" | cut -d' ' -f1)
	start=$(date +%s.%N)
	got=$(qb_board curl -sS --max-time "$maxtime" -T "$file" "$url" | cut -d' ' -f1)
	took=$(since "$start")
	check "$label: the server's sha256 equals the file's" [ "$got" = "$want" ]
	note "$label: $took s, $(rate "$(stat -c %s "$file")" "$took"), sha256 ok"
}

qb_summary() {
	echo
	echo "$1: $PASS passed, $FAIL failed ${FAILED[*]}"
	[ -s "$RESULTS" ] && { echo "measured:"; sed 's/^/  /' "$RESULTS"; }
	[ $FAIL = 0 ]
}

# The start of a namespace suite (e2e-netns, robustness): root and a build checked, teardown on
# exit, the namespaces, 100 MiB big.bin and upload.bin, a medium.bin of MEDIUM_BYTES, the servers.
qb_suite_up() { # MEDIUM_BYTES
	qb_require_root
	qb_require_built
	trap 'qb_topology_down' EXIT
	trap 'exit 130' INT TERM
	qb_log "setting up namespaces in $QB_WORK"
	qb_topology_up
	head -c 104857600 /dev/urandom > "$QB_WORK/www/big.bin"
	head -c 104857600 /dev/urandom > "$QB_WORK/upload.bin"
	head -c "$1" /dev/urandom > "$QB_WORK/www/medium.bin"
	qb_servers_up
}
