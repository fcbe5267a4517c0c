# Shared by the board's shell tests (sourced): check WHAT COMMAND... runs the
# command, counts it and prints "ok" or "FAIL"; check_report NAME prints the
# closing "N passed, N failed" line and fails when anything did.
passed=0
failed=0

check() {
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok   $what"
	else
		failed=$((failed + 1))
		echo "FAIL $what"
	fi
}

check_report() {
	echo "$1: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
