#!/usr/bin/env python3
# A fast static check that tests/deps.sh installs every command the project's
# scripts run: each script is parsed by shfmt (a real shell parser), every
# command word found (through wrappers such as `ip netns exec NS`, `timeout`,
# `sh -c '...'` and the scripts' own wrapper functions) is mapped to the Debian
# package that provides it (the table below), and that package must be in the
# deps.sh groups of the make target that runs the script, or in the base
# system every Debian has. Make recipes are checked from `make -nB` output.
# Usage: tests/deps-check.py [-v]   (exit 1 naming each command not covered)
#        tests/deps-check.py --base  (the base packages it counts on, for tests/fresh-machine.sh)
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERBOSE = "-v" in sys.argv[1:]

# Packages debootstrap's minbase variant installs on Debian 12 and 13
# (Essential: yes or Priority: required). tests/fresh-machine.sh checks that
# each of these is really installed in its fresh roots before anything else.
BASE = {
    "base-files", "bash", "bsdutils", "coreutils", "dash", "debianutils", "diffutils",
    "dpkg", "apt", "findutils", "grep", "gzip", "hostname", "libc-bin", "login",
    "mawk", "mount", "ncurses-bin", "perl-base", "sed", "tar", "util-linux",
}

# command -> the package that provides it. A command provided by a package that
# deps.sh does not name, but that a named package depends on, maps to
# "PROVIDER<NAMED" (the check then wants NAMED in the groups).
COMMANDS = {
    # base system
    **dict.fromkeys("""basename cat chmod chown cp cut date dd dirname du echo env expr false head id
        install kill ln ls mkdir mkfifo mknod mktemp mv nice nohup nproc od printf pwd readlink realpath rm
        rmdir seq sha256sum sleep sort stat stdbuf sync tail tee test timeout touch tr true truncate tty uname
        uniq wc yes [ printenv md5sum comm split numfmt""".split(), "coreutils"),
    **dict.fromkeys("bash".split(), "bash"),
    **dict.fromkeys("sh".split(), "dash"),
    **dict.fromkeys("grep egrep fgrep".split(), "grep"),
    "sed": "sed",
    "awk": "mawk",
    **dict.fromkeys("find xargs".split(), "findutils"),
    **dict.fromkeys("cmp diff".split(), "diffutils"),
    "tar": "tar",
    **dict.fromkeys("gzip gunzip zcat".split(), "gzip"),
    "hostname": "hostname",
    **dict.fromkeys("getent ldd iconv".split(), "libc-bin"),
    **dict.fromkeys("which run-parts".split(), "debianutils"),
    **dict.fromkeys("mount umount".split(), "mount"),
    **dict.fromkeys("""flock setpriv unshare nsenter taskset chrt ionice losetup mountpoint findmnt
        lsns prlimit setsid kill rev""".split(), "util-linux"),
    **dict.fromkeys("logger renice".split(), "bsdutils"),
    "getconf": "libc-bin",
    **dict.fromkeys("dpkg dpkg-deb dpkg-query".split(), "dpkg"),
    **dict.fromkeys("apt-get apt-cache".split(), "apt"),
    # named in tests/deps.sh
    "make": "make",
    **dict.fromkeys("gcc cc".split(), "gcc"),
    **dict.fromkeys("ar ld strip objdump readelf nm".split(), "binutils<gcc"),
    "musl-gcc": "musl-tools",
    "systemd-analyze": "systemd",
    **dict.fromkeys("clang".split(), "clang"),
    **dict.fromkeys("llvm-symbolizer llvm-profdata llvm-cov".split(), "llvm"),
    "arm-linux-gnueabihf-gcc": "gcc-arm-linux-gnueabihf",
    "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
    **dict.fromkeys("ip bridge ss tc".split(), "iproute2"),
    "curl": "curl",
    **dict.fromkeys("python3".split(), "python3"),
    "dnsmasq": "dnsmasq-base",
    **dict.fromkeys("ps pgrep pkill sysctl free top pidof vmstat watch".split(), "procps"),
    "ping": "iputils-ping",
    "valgrind": "valgrind",
    "shfmt": "shfmt",
    "iperf3": "iperf3",
    "qemu-system-x86_64": "qemu-system-x86",
    "busybox": "busybox-static",
    **dict.fromkeys("modprobe depmod insmod rmmod lsmod modinfo".split(), "kmod"),
    "xz": "xz-utils",
    "zstd": "zstd",
    "pkg-config": "pkgconf",
    "slirp4netns": "slirp4netns",
    "pasta": "passt",
    "ab": "apache2-utils",
    "nginx": "nginx",
    "strace": "strace",
    "perf": "linux-perf",
    "gnuplot": "gnuplot-nox",
    "git": "git",
    "mvn": "maven",
    "fakeroot": "fakeroot",
    "asciidoctor": "asciidoctor",
    "zcat": "gzip",
    "debootstrap": "debootstrap",
    "chroot": "coreutils",
    "python3": "python3",
}

# Which make target runs which scripts, and the deps.sh groups that target installs.
SCOPES = [
    ("make demo", ["build", "demo"], ["tests/demo.sh", "tests/lib/topology.sh"], ["demo"]),
    ("make test", ["build", "test", "usb", "dist"],
     ["tests/*.sh", "tests/lib/*.sh", "tests/usbvm/*.sh", "board/tests/*.sh", "tests/tools/*.py",
      "host/packaging/linux/*.sh"],
     ["test"]),
    ("make bench", ["build", "demo", "bench", "usb"], ["bench/*.sh", "bench/*.py", "tests/lib/*.sh"], ["bench"]),
    ("tests/fresh-machine.sh", ["fresh"], ["tests/fresh-machine.sh"], []),
]
# Not checked: tests/deps.sh installs (it runs before anything is there); tests/usbvm/init is
# PID 1 of the VM's initramfs, where only busybox's applets exist. The commands fresh-machine.sh
# runs inside its roots (apt-get, make) are checked by its own run.
SKIP = {"tests/deps.sh"}
# Commands each scope is known to run: if the scan misses one, the parser's output changed
# (another shfmt version) and a pass would mean nothing.
MUST_FIND = {
    "make demo": {"ip", "curl", "dnsmasq", "unshare", "python3", "mvn"},
    "make test": {"ip", "curl", "iperf3", "qemu-system-x86_64", "setpriv", "valgrind", "clang", "asciidoctor",
                  "busybox", "dpkg-deb"},
    "make bench": {"iperf3", "slirp4netns", "pasta", "gnuplot", "ab", "nginx"},
    "tests/fresh-machine.sh": {"debootstrap", "chroot", "git"},
}
# Scripts checked only in the scope that names them (make test does not run them).
OWN_SCOPE = {"tests/fresh-machine.sh"}

# Functions defined by files the scripts source at run time, which the scan cannot see.
RUNTIME_FUNCTIONS = {"_picocli_qbnet"}  # the bash completion picocli generates (make dist)

SHELL_BUILTINS = set("""
    . : [ [[ alias bg bind break builtin caller cd command compgen complete continue declare dirs disown
    echo enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout
    mapfile popd printf pushd pwd read readarray readonly return set shift shopt source suspend test
    times trap true type typeset ulimit umask unalias unset wait
""".split())


def shfmt_json(text, name):
    try:
        out = subprocess.run(["shfmt", "--to-json"], input=text, capture_output=True, text=True, check=True)
    except FileNotFoundError:
        sys.exit("deps-check: shfmt missing: run tests/deps.sh test")
    except subprocess.CalledProcessError as e:
        sys.exit(f"deps-check: shfmt cannot parse {name}: {e.stderr.strip()}")
    return json.loads(out.stdout)


def shfmt_version():
    return subprocess.run(["shfmt", "--version"], capture_output=True, text=True).stdout.strip()


def literal(word):
    """The word's text if it has no expansions, else None."""
    if word is None:
        return None
    text = ""
    for part in word.get("Parts", []):
        t = part.get("Type")
        if t == "Lit":
            text += part.get("Value", "")
        elif t == "SglQuoted":
            text += part.get("Value", "")
        elif t == "DblQuoted":
            inner = literal(part)
            if inner is None:
                return None
            text += inner
        else:
            return None
    return text


def flat(word):
    """The word's text with every expansion replaced by a placeholder (for heredoc scripts)."""
    text = ""
    for part in word.get("Parts", []):
        t = part.get("Type")
        if t in ("Lit", "SglQuoted"):
            text += part.get("Value", "")
        elif t == "DblQuoted":
            text += flat(part)
        else:
            text += "${_x_}"
    return text


def param_name(word):
    """NAME if the word is exactly $NAME, "$NAME", ${NAME[@]} or "${NAME[@]}"."""
    parts = word.get("Parts", [])
    if len(parts) == 1 and parts[0].get("Type") == "DblQuoted":
        parts = parts[0].get("Parts", [])
    if len(parts) == 1 and parts[0].get("Type") == "ParamExp" and not parts[0].get("Exp"):
        return parts[0]["Param"]["Value"]
    return None


def walk(node, visit):
    if isinstance(node, dict):
        visit(node)
        for v in node.values():
            walk(v, visit)
    elif isinstance(node, list):
        for v in node:
            walk(v, visit)


class Script:
    def __init__(self, path, text=None):
        self.path = path
        self.text = text if text is not None else open(os.path.join(ROOT, path)).read()
        self.tree = shfmt_json(self.text, path)


class Scanner:
    """Finds the external commands a set of shell scripts runs."""

    def __init__(self, scripts):
        self.scripts = scripts
        self.functions = {}  # name -> FuncDecl body
        self.vars = {}  # name -> list of word lists (arrays) or None when not literal
        for s in scripts:
            walk(s.tree, self.collect)
        # Functions that run their arguments, found to a fixed point (a wrapper may use another).
        # name -> how many leading arguments it shifts away before running the rest.
        self.wrappers = {}
        while True:
            more = {name for name, body in self.functions.items() if self.runs_args(body)} - set(self.wrappers)
            if not more:
                break
            for name in more:
                self.wrappers[name] = shifts(self.functions[name])
        self.found = []  # (command, path, line)

    def collect(self, node):
        t = node.get("Type")
        if t == "FuncDecl":
            self.functions[node["Name"]["Value"]] = node["Body"]
        elif t == "CallExpr" and not node.get("Args"):
            for a in node.get("Assigns") or []:
                self.note_assign(a)
        elif t == "DeclClause":
            for a in node.get("Args") or []:
                if a.get("Name"):
                    self.note_assign(a)

    def note_assign(self, a):
        name = a["Name"]["Value"]
        if a.get("Array"):
            words = [e.get("Value") for e in a["Array"].get("Elems") or []]
        elif a.get("Value"):
            lit = literal(a["Value"])
            words = None if lit is None else [{"Parts": [{"Type": "Lit", "Value": w}]} for w in lit.split()]
            if lit is None:
                # "python3 $QB_ROOT/x.py": the first word is what matters.
                first = a["Value"]["Parts"][0]
                if first.get("Type") == "DblQuoted" and first.get("Parts"):
                    first = first["Parts"][0]
                if first.get("Type") == "Lit" and " " in first["Value"]:
                    words = [{"Parts": [{"Type": "Lit", "Value": first["Value"].split()[0]}]}]
        else:
            words = None
        self.vars.setdefault(name, []).append(words)

    def runs_args(self, body):
        """True when a function runs its arguments as a command ("$@" in command position)."""
        hit = []

        def visit(node):
            if node.get("Type") == "CallExpr" and node.get("Args"):
                words = self.expand(node["Args"])
                cmd = self.command_word(words)
                if cmd is not None and param_name(cmd) == "@":
                    hit.append(True)

        walk(body, visit)
        return bool(hit)

    def expand(self, words):
        """Replaces $NAME / ${NAME[@]} words by the array or string they were set to (once, if known)."""
        out = []
        for w in words:
            name = param_name(w)
            values = self.vars.get(name) if name and name != "@" else None
            if values and all(v is not None for v in values) and len({json.dumps(literal(v[0]) if v else None) for v in values}) == 1 and values[0]:
                out.extend(values[0])
            else:
                out.append(w)
        return out

    def command_word(self, words):
        """Follows wrappers (timeout, env, ip netns exec, ...) to the command they run."""
        i = 0
        while i < len(words):
            cmd = literal(words[i])
            args = [literal(w) for w in words[i + 1:]]
            skip = wrapper_skip(cmd, args, self)
            if skip is None:
                return words[i]
            i += 1 + skip
        return None

    def scan(self):
        for s in self.scripts:
            self.current = s
            walk(s.tree, self.visit)
        return self.found

    def visit(self, node):
        if node.get("Hdoc") and flat(node["Hdoc"]).startswith(("#!/bin/sh", "#!/bin/bash")):
            self.scan_inline(flat(node["Hdoc"]), node["Pos"]["Line"])  # a script written by a heredoc
        if node.get("Type") != "CallExpr" or not node.get("Args"):
            return
        words = self.expand(node["Args"])
        line = node["Pos"]["Line"]
        i = 0
        while i < len(words):
            if i + 1 < len(words) and param_name(words[i]) == "@":
                i += 1  # "$@" ab ...: a wrapper passed in by the caller, then the command itself
                continue
            cmd = literal(words[i])
            args = [literal(w) for w in words[i + 1:]]
            if cmd is not None:
                self.record(cmd, line)
                if cmd in ("sh", "bash") and "-c" in args:
                    script = args[args.index("-c") + 1] if args.index("-c") + 1 < len(args) else None
                    if script:
                        self.scan_inline(script, line)
                    return
            skip = wrapper_skip(cmd, args, self)
            if skip is None:
                return
            i += 1 + skip

    def scan_inline(self, text, line):
        inner = Script(f"{self.current.path}:{line} (inline script)", text)
        sub = Scanner.__new__(Scanner)
        sub.scripts, sub.functions, sub.vars = [inner], self.functions, self.vars
        sub.wrappers, sub.found = self.wrappers, self.found
        sub.scan()

    def record(self, cmd, line):
        if "/" in cmd or "$" in cmd or "=" in cmd or cmd in SHELL_BUILTINS or cmd in self.functions \
                or cmd in RUNTIME_FUNCTIONS:
            return
        if cmd in ("then", "do", "else", "fi", "done", "{", "}", "!"):
            return
        self.found.append((cmd, self.current.path, line))


def shifts(body):
    """How many positional arguments a function body shifts away (`shift`, `shift N`)."""
    total = []

    def visit(node):
        if node.get("Type") == "CallExpr" and node.get("Args") and literal(node["Args"][0]) == "shift":
            n = literal(node["Args"][1]) if len(node["Args"]) > 1 else "1"
            total.append(int(n) if n and n.isdigit() else 1)

    walk(body, visit)
    return sum(total)


def skip_options(args, with_value=()):
    """Number of leading option words (and values of options in with_value)."""
    n = 0
    while n < len(args) and args[n] is not None and args[n].startswith("-"):
        n += 2 if args[n] in with_value else 1
    return n


def wrapper_skip(cmd, args, scanner):
    """How many argument words a wrapper command takes before the command it runs, or None."""
    if cmd is None:
        return None
    if cmd == "ip" and args[:2] == ["netns", "exec"]:
        return 3
    if cmd == "timeout":
        n = skip_options(args, ("-s", "-k", "--signal", "--kill-after"))
        return n + 1
    if cmd == "env":
        n = 0
        while n < len(args) and args[n] is not None and (args[n].startswith("-") or "=" in args[n]):
            n += 2 if args[n] in ("-u", "--unset", "-C", "--chdir") else 1
        return n
    if cmd == "unshare":
        return skip_options(args, ("--propagation", "--setgroups", "-S", "--setuid", "-G", "--setgid", "-R", "--root",
                                   "-w", "--wd"))
    if cmd in ("setpriv", "nohup", "stdbuf", "setsid"):
        return skip_options(args)
    if cmd == "nice":
        return skip_options(args, ("-n",))
    if cmd == "flock":
        n = skip_options(args, ("-w", "-E", "--timeout", "--conflict-exit-code"))
        return n + 1
    if cmd == "taskset":
        n = skip_options(args)
        return n + 1
    if cmd == "chrt":
        n = skip_options(args)
        return n + 1
    if cmd == "xargs":
        return skip_options(args, ("-n", "-I", "-P", "-L", "-d", "-s", "-a"))
    if cmd in ("exec", "command") and args and args[0] not in ("-v", "-V"):
        return skip_options(args, ("-a",)) if cmd == "exec" else 0
    if cmd in scanner.wrappers:
        return scanner.wrappers[cmd]
    return None


def python_commands(path):
    """Commands a Python tool runs: subprocess calls with a literal list, or shell strings via sh()."""
    text = open(os.path.join(ROOT, path)).read()
    found = []
    for m in re.finditer(r'subprocess\.\w+\(\s*\[\s*"([^"]+)"', text):
        found.append((m.group(1), path, text[:m.start()].count("\n") + 1))
    for m in re.finditer(r'\bsh\(\s*"([\w+-][\w.+-]*)', text):
        found.append((m.group(1), path, text[:m.start()].count("\n") + 1))
    return found


def make_recipes(targets):
    """The shell lines `make -nB TARGETS` would run (recursive makes print theirs too)."""
    env = dict(os.environ, MAKEFLAGS="")
    out = subprocess.run(["make", "-nB", "--no-print-directory", *targets], cwd=ROOT, capture_output=True,
                         text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"deps-check: make -nB {' '.join(targets)} failed: {out.stderr.strip()}")
    return out.stdout


def group_packages(groups):
    """The groups' packages, and Maven, which deps.sh adds to any group where mvn is missing."""
    out = subprocess.run([os.path.join(ROOT, "tests/deps.sh"), "--list", *groups], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"deps-check: tests/deps.sh --list failed: {out.stderr.strip()}")
    return set(out.stdout.split()) | {"maven"}


def main():
    if "--base" in sys.argv[1:]:
        print("\n".join(sorted(BASE)))
        return 0
    failures = []
    checked = 0
    for target, groups, patterns, make_targets in SCOPES:
        packages = group_packages(groups) | BASE
        paths = sorted({os.path.relpath(p, ROOT) for pat in patterns for p in glob.glob(os.path.join(ROOT, pat))})
        paths = [p for p in paths if p not in SKIP and (p not in OWN_SCOPE or p in patterns)]
        shells = [Script(p) for p in paths if not p.endswith(".py")]
        if make_targets:
            shells.append(Script(f"make -nB {' '.join(make_targets)}", make_recipes(make_targets)))
        scanner = Scanner(shells)
        found = scanner.scan()
        for p in paths:
            if p.endswith(".py"):
                found += python_commands(p)
        seen = {}
        for cmd, path, line in found:
            seen.setdefault(cmd, (path, line))
        missed = MUST_FIND.get(target, set()) - set(seen)
        if missed:
            failures.append(f"the scan of {target} did not find {', '.join(sorted(missed))}, which it runs: "
                            f"has shfmt's JSON changed ({shfmt_version()})? fix the scanner before trusting it")
        for cmd, (path, line) in sorted(seen.items()):
            checked += 1
            provider = COMMANDS.get(cmd)
            if provider is None:
                failures.append(f"{path}:{line}: `{cmd}` has no package in tests/deps-check.py's table: "
                                f"find it (dpkg -S $(command -v {cmd})), add it there and to a tests/deps.sh group of {target}")
                continue
            pkg = provider.split("<")[-1]
            if pkg not in packages:
                failures.append(f"{path}:{line}: `{cmd}` (package {pkg}) is not installed by {target}: "
                                f"add {pkg} to tests/deps.sh group {'/'.join(groups[1:])}")
            elif VERBOSE:
                print(f"ok  {target:10} {cmd:26} {provider:24} {path}:{line}")
    for f in failures:
        print("deps-check: " + f, file=sys.stderr)
    print(f"deps-check: {checked} command uses checked, {len(failures)} not covered by tests/deps.sh")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
