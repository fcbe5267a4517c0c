#!/bin/bash
# Runs every Jazzer @FuzzTest of the host driver in fuzzing mode, one JVM per
# target (Jazzer fuzzes one test per run), for FUZZ_SECONDS each, and prints
# runs, coverage and speed per target. A finding fails the run; Jazzer saves
# the input beside the test's seeds (src/test/resources/...Inputs/<method>/),
# where plain `mvn verify` replays it from then on. The growing corpus stays
# in host/.cifuzz-corpus/ between runs.
# Usage: FUZZ_SECONDS=300 tests/fuzz-host.sh [Class#method ...]
set -euo pipefail

seconds=${FUZZ_SECONDS:-300}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export MAVEN_OPTS=${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}
cd "$(dirname "$0")/../host"
mvn=(mvn -B -Dstyle.color=never)

# Class#method of every @FuzzTest in the test sources.
targets() {
	grep -rl '@FuzzTest' src/test/java | sort | while read -r file; do
		class=$(basename "$file" .java)
		awk -v class="$class" '/^[[:space:]]*@FuzzTest/ { want = 1; next }
			want && match($0, /void [A-Za-z0-9_]+\(/) { print class "#" substr($0, RSTART + 5, RLENGTH - 6); want = 0 }' "$file"
	done
}

if [ $# -gt 0 ]; then
	list=("$@")
else
	mapfile -t list < <(targets)
fi
[ ${#list[@]} -gt 0 ] || { echo "fuzz-host: no @FuzzTest found under host/src/test/java" >&2; exit 1; }

"${mvn[@]}" -q test-compile
mkdir -p target/fuzz
failed=0
for target in "${list[@]}"; do
	log=target/fuzz/${target/\#/.}.log
	echo "== host ${target/\#/.} for $seconds s"
	if ! JAZZER_FUZZ=1 "${mvn[@]}" surefire:test -Dtest="$target" -Djazzer.max_duration="${seconds}s" \
		-Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1; then
		failed=1
		echo "host ${target/\#/.}: FAILED (log: host/$log)"
		grep -E 'FuzzTestFindingException|Caused by|^== Java Exception|crash-[0-9a-f]+' "$log" | head -n 8 | sed 's/^/  /'
		grep -E 'Test unit written to' "$log" | sed 's/^/  /' || true
		continue
	fi
	runs=$(grep -oE '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 | awk '{print $2}')
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
	if [ -z "$runs" ] || [ -z "$done_line" ]; then
		failed=1
		echo "host ${target/\#/.}: no fuzzing statistics in host/$log (did Jazzer run in fuzzing mode?)"
		continue
	fi
	cov=$(sed -E 's/.*(cov: [0-9]+ ft: [0-9]+ corp: [^ ]+).*/\1/' <<<"$done_line")
	speed=$(grep -oE 'exec/s: [0-9]+' <<<"$done_line")
	echo "host ${target/\#/.}: $runs runs, $cov, $speed"
done
exit $failed
