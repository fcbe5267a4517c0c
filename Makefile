# qbnet: USB networking for qbkit boards. Top-level entry points:
#   make         build the board daemon (board/) and the host driver (host/)
#   make demo    the main job: a simulated board fetches from a local server through qbnet
#   make test    every test (unit, sanitizers, fuzz smoke, cross builds, namespaces, USB VM, robustness)
#   make soak    the stress mix for SOAK_SECONDS (default 600), with figures
#   make fuzz    long fuzzing runs, FUZZ_SECONDS per target: the board's libFuzzer targets, the host's Jazzer @FuzzTests
#   make bench   benchmarks against slirp4netns and pasta; writes doc/PERFORMANCE.md
#   make dist    host packages for Linux (runtime image + launcher, tarball, .deb) in host/target/dist
# Targets that need packages install them first (tests/deps.sh, Debian 12/13, root).

JAVA_HOME ?= /usr/lib/jvm/temurin-25-jdk-amd64
export JAVA_HOME
# Maven 3.8's bundled Guava warns about sun.misc.Unsafe on JDK 25; the flag only silences that.
export MAVEN_OPTS ?= --sun-misc-unsafe-memory-access=allow
MVN ?= mvn -B -q -Dstyle.color=never
JAR := host/target/qbnet.jar

.PHONY: all board host deps-build deps-demo deps-test deps-usb deps-bench deps-check deps-dist dist test-dist demo test test-board test-host test-e2e test-usb \
	test-robust test-stress soak bench cross fuzz clean

all: board host

board: deps-build
	$(MAKE) -C board

host:
	cd host && $(MVN) package -DskipTests

deps-build:
	@tests/deps.sh build

deps-demo:
	@tests/deps.sh demo

deps-test:
	@tests/deps.sh test usb

deps-usb:
	@tests/deps.sh usb

deps-bench:
	@tests/deps.sh demo bench usb

# Static: every command the scripts of make demo/test/bench run is installed by tests/deps.sh.
deps-check: deps-test
	tests/deps-check.py

deps-dist:
	@tests/deps.sh dist

# Linux host packages in host/target/dist: a trimmed runtime image with the launcher, a tarball, a .deb.
dist: deps-dist host
	host/packaging/linux/dist.sh

# The packages as built: the image's launcher, the .deb's contents, the demo on the image.
test-dist: dist
	tests/dist-test.sh

demo: deps-demo all
	tests/demo.sh

test: deps-test deps-check all test-board test-host cross test-e2e test-stress test-dist test-usb test-robust
	@echo "make test: all passed"

test-board:
	$(MAKE) -C board check fuzz-smoke check-netns check-build check-packaging

test-host:
	cd host && $(MVN) verify

cross:
	$(MAKE) -C board cross

test-e2e: all
	tests/e2e-netns.sh

# Parallel flows each way and both ways, aborted transfers, a UDP blast and loss (issue 11).
test-stress: deps-test all
	tests/stress.sh

SOAK_SECONDS ?= 600

soak: deps-test all
	tests/stress.sh --soak $(SOAK_SECONDS)

test-usb: deps-usb all
	$(MAKE) -C board check-usb
	tests/usb-vm.sh
	tests/usb-vm.sh --udcs 4 --test usb-boards-test.sh

# Robustness (issue 7): bad flags and a broken environment, kill -9 of either side, a hostile
# board, the board daemon under ASan+UBSan and valgrind, 20 USB unplug/replug cycles in the VM.
test-robust: deps-test deps-usb all
	tests/cli-errors.sh
	tests/robustness.sh
	$(MAKE) -C board asan-daemon
	tests/sanitizers.sh
	tests/usb-replug.sh

bench: deps-bench all
	bench/bench.sh

# Fuzzing for FUZZ_SECONDS per target: the board's libFuzzer targets, then every Jazzer @FuzzTest
# of the host (tests/fuzz-host.sh; `make test` replays their regression inputs).
FUZZ_SECONDS ?= 300
export FUZZ_SECONDS

fuzz: deps-test
	$(MAKE) -C board fuzz
	tests/fuzz-host.sh

clean:
	$(MAKE) -C board clean
	cd host && $(MVN) clean
