# wait_for TENTHS COMMAND...: true once COMMAND succeeds, false after TENTHS
# tenths of a second of wall time. The deadline is the clock's, not a count of
# tries: in the emulated VM a try (a process or two, a connect that can take
# seconds) costs far more than the 0.1 s pause between tries, so a count of
# tries would stretch a 90 s wait past the VM's own timeout and hide the failure.
wait_for() {
	local deadline=$((${EPOCHREALTIME//[!0-9]/} / 100000 + $1))
	shift
	while true; do
		"$@" && return 0
		[ $((${EPOCHREALTIME//[!0-9]/} / 100000)) -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
