#!/bin/bash
# Build hygiene for packagers (make check-build): the caller's CPPFLAGS,
# CFLAGS and LDFLAGS reach every compile and link; the seed flags (-Werror,
# the warnings) cannot be dropped from the command line; hardening is on by
# default (stack protector, FORTIFY_SOURCE, PIE, full RELRO) and off with
# HARDEN=0; an -O0 build works; clang builds it warning-free; and a static
# musl build (make STATIC=1 CC=musl-gcc) runs the unit tests and qbnetd.
# Usage: build-test.sh [BUILD_DIR]   (run from board/)
set -u
cd "$(dirname "$0")/.."
OUT=${1:-build/buildtest}
rm -rf "$OUT"
mkdir -p "$OUT"
. tests/check.sh


# dry NAME MAKE-ARGS...: the commands make would run for a fresh qbnetd, in
# $OUT/NAME.compile (one line per object) and $OUT/NAME.link (the link).
dry() {
	local name=$1
	shift
	make -s -n -B BUILD="$OUT/dry-$name" "$@" "$OUT/dry-$name/qbnetd" >"$OUT/$name.all" 2>&1
	grep -E ' -c src/[a-z_0-9]+\.c ' "$OUT/$name.all" >"$OUT/$name.compile"
	grep -E " -o $OUT/dry-$name/qbnetd " "$OUT/$name.all" >"$OUT/$name.link"
	[ -s "$OUT/$name.compile" ] && [ -s "$OUT/$name.link" ]
}

# every_line FILE WORD...: each line of FILE has each WORD (as a whole flag).
every_line() {
	local file=$1
	shift
	[ -s "$file" ] || return 1
	for word in "$@"; do
		if grep -v -q -e " $word\( \|$\)" "$file"; then
			echo "     missing '$word' in: $(grep -v -e " $word\( \|$\)" "$file" | head -n 1)"
			return 1
		fi
	done
}

no_line() {
	local file=$1
	shift
	for word in "$@"; do
		if grep -q -e " $word\( \|$\)" "$file"; then
			echo "     unexpected '$word' in: $(grep -e " $word\( \|$\)" "$file" | head -n 1)"
			return 1
		fi
	done
}

srcs=$(ls src/*.c | wc -l)

# 1. The caller's flags reach every command, the seed flags stay.
check "make -n with CPPFLAGS, CFLAGS and LDFLAGS from the command line" \
	dry flags CPPFLAGS=-DQB_PROBE_CPPFLAGS "CFLAGS=-O1 -DQB_PROBE_CFLAGS" LDFLAGS=-Wl,--as-needed LDLIBS=-lm
check "one compile line per source file ($srcs)" test "$(wc -l <"$OUT/flags.compile")" -eq "$srcs"
check "CPPFLAGS and CFLAGS on every compile line" \
	every_line "$OUT/flags.compile" -DQB_PROBE_CPPFLAGS -DQB_PROBE_CFLAGS -O1
check "LDFLAGS and LDLIBS on the link line" every_line "$OUT/flags.link" -Wl,--as-needed -lm
check "the seed flags on every compile line" \
	every_line "$OUT/flags.compile" -std=gnu11 -Wall -Wextra -Werror -Isrc
check "hardening on every compile line: stack protector, FORTIFY_SOURCE=2, PIE" \
	every_line "$OUT/flags.compile" -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
check "hardening on the link line: PIE, RELRO and immediate binding" \
	every_line "$OUT/flags.link" -pie -Wl,-z,relro,-z,now
check "make -n CFLAGS='-O2 -Wno-error'" dry late CFLAGS="-O2 -Wno-error"
check "-Werror comes after the caller's CFLAGS on every line (-Wno-error cannot win)" \
	bash -c "! grep -v -q -- '-Wno-error .* -Werror' '$OUT/late.compile'"

# 2. override: a command-line variable cannot drop the seed or hardening flags.
check "make -n SEED_CFLAGS= HARDEN_CFLAGS= HARDEN_LDFLAGS= ALL_CFLAGS=" \
	dry override SEED_CFLAGS= SEED_CPPFLAGS= HARDEN_CFLAGS= HARDEN_LDFLAGS= ALL_CFLAGS= ALL_LDFLAGS=
check "the seed and hardening flags survive them" \
	every_line "$OUT/override.compile" -Werror -Wall -std=gnu11 -fstack-protector-strong -Isrc
check "the link flags survive them" every_line "$OUT/override.link" -pie -Wl,-z,relro,-z,now

# 3. FORTIFY_SOURCE only when optimising, and the caller's level wins.
check "make -n CFLAGS=-O0" dry o0 CFLAGS="-O0 -g"
check "-O0: no FORTIFY_SOURCE (glibc would warn, -Werror would fail)" \
	no_line "$OUT/o0.compile" -D_FORTIFY_SOURCE=2
check "make -n CPPFLAGS=-D_FORTIFY_SOURCE=3" dry fortify3 CPPFLAGS=-D_FORTIFY_SOURCE=3
check "the caller's FORTIFY_SOURCE level is the only one" \
	bash -c "! grep -q -- '-D_FORTIFY_SOURCE=2' '$OUT/fortify3.compile' && grep -q -- '-D_FORTIFY_SOURCE=3' '$OUT/fortify3.compile'"
check "make -n HARDEN=0" dry noharden HARDEN=0
check "HARDEN=0: no hardening flags of ours" \
	no_line "$OUT/noharden.compile" -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
check "HARDEN=0: no hardening link flags of ours" no_line "$OUT/noharden.link" -pie -Wl,-z,relro,-z,now
check "make -n STATIC=1: -static, no PIE" \
	bash -c "make -s -n -B BUILD='$OUT/dry-static' STATIC=1 '$OUT/dry-static/qbnetd' | grep -- ' -o $OUT/dry-static/qbnetd ' | grep -q -- ' -static' && ! make -s -n -B BUILD='$OUT/dry-static' STATIC=1 '$OUT/dry-static/qbnetd' | grep -q -- ' -pie'"

# 4. The default build is hardened, as the ELF file shows.
echo "     building qbnetd (default flags)"
if make -s BUILD="$OUT/default" "$OUT/default/qbnetd" >"$OUT/default.log" 2>&1; then
	BIN=$OUT/default/qbnetd
	check "PIE (ELF type DYN)" bash -c "readelf -h '$BIN' | grep -q 'Type: *DYN'"
	check "full RELRO: a GNU_RELRO segment and BIND_NOW" \
		bash -c "readelf -lW '$BIN' | grep -q GNU_RELRO && readelf -d '$BIN' | grep -q 'BIND_NOW'"
	check "stack protector: __stack_chk_fail referenced" bash -c "nm -D '$BIN' | grep -q ' __stack_chk_fail'"
	check "FORTIFY_SOURCE: checked libc calls (__*_chk)" \
		bash -c "nm -D '$BIN' | grep -qE ' __(snprintf|memcpy|read|fprintf)_chk'"
else
	check "default build" false
	cat "$OUT/default.log"
fi

# 5. -O0 builds (no FORTIFY_SOURCE warning turned into an error).
check "an -O0 build succeeds" make -s BUILD="$OUT/o0" CFLAGS="-O0 -g" "$OUT/o0/qbnetd"

# 6. clang, warning-free under the same -Werror.
if command -v clang >/dev/null; then
	check "clang builds qbnetd and the unit tests with -Werror" \
		make -s BUILD="$OUT/clang" CC=clang "$OUT/clang/qbnetd" test-bins
else
	check "clang is installed (tests/deps.sh test)" false
fi

# 7. A static musl build. Debian's musl-gcc sees only musl's headers: the
# kernel's UAPI headers (linux/, asm/, asm-generic/) are added with -isystem.
if command -v musl-gcc >/dev/null; then
	inc=$OUT/musl-include
	mkdir -p "$inc"
	multiarch=$(gcc -print-multiarch)
	ln -sfn /usr/include/linux "$inc/linux"
	ln -sfn /usr/include/asm-generic "$inc/asm-generic"
	ln -sfn "/usr/include/$multiarch/asm" "$inc/asm"
	echo "     building with musl-gcc, STATIC=1"
	if make -s BUILD="$OUT/musl" CC=musl-gcc STATIC=1 CPPFLAGS="-isystem $inc" \
		"$OUT/musl/qbnetd" test-bins >"$OUT/musl.log" 2>&1; then
		BIN=$OUT/musl/qbnetd
		check "musl: statically linked (no program interpreter, no dynamic section)" \
			bash -c "! readelf -lW '$BIN' | grep -q INTERP && ! readelf -d '$BIN' 2>/dev/null | grep -q NEEDED"
		check "musl: qbnetd --version runs" bash -c "'$BIN' --version | grep -q '^qbnetd '"
		check "musl: a bad flag exits 2 naming it" \
			bash -c "'$BIN' --max-bundle 1 2>&1 | grep -q -- --max-bundle; [ \${PIPESTATUS[0]} -eq 2 ]"
		check "musl: the unit tests pass against musl" \
			make -s BUILD="$OUT/musl" CC=musl-gcc STATIC=1 CPPFLAGS="-isystem $inc" run-tests
	else
		check "musl-gcc STATIC=1 build" false
		tail -n 30 "$OUT/musl.log"
	fi
else
	check "musl-gcc is installed (tests/deps.sh test: musl-tools)" false
fi

check_report build-test
