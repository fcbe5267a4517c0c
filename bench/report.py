#!/usr/bin/env python3
# Turns bench/results/results.tsv (written by bench/bench.sh) into
# doc/PERFORMANCE.md (tables: medians, spreads, ratios against the anchors
# measured in the same run) and doc/performance.png (gnuplot).
# Usage: report.py RESULTS.tsv PERFORMANCE.md CHART.png
import collections
import datetime
import os
import platform
import statistics
import subprocess
import sys

results_path, md_path, png_path = sys.argv[1:4]
rows = collections.defaultdict(list)  # (section, system, mtu, metric) -> [values]
units = {}
for line in open(results_path):
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 7 or not parts[5]:
        continue
    section, system, mtu, metric, _run, value, unit = parts
    try:
        rows[(section, system, mtu, metric)].append(float(value))
    except ValueError:
        continue
    units[(section, metric)] = unit


def med(key):
    v = rows.get(key)
    return statistics.median(v) if v else None


def cell(key, digits=2):
    v = rows.get(key)
    if not v:
        return "n/a"
    m = statistics.median(v)
    if len(v) == 1:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ({min(v):.{digits}f}–{max(v):.{digits}f})"


def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else "n/a"


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return "?"


out = []
w = out.append
w("# qbnet performance")
w("")
w("Written by `make bench` (`bench/bench.sh`, then `bench/report.py`); every figure")
w("on this page comes from one run on one machine, so the ratios compare like with like.")
w("")
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip() or "unknown CPU"
memory = sh("free -g | awk '/Mem/ { print $2 }'")
distro = sh(". /etc/os-release; echo $PRETTY_NAME")
commit = sh("git -C " + os.path.dirname(os.path.abspath(md_path)) + " rev-parse --short HEAD")
java = sh("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java -version 2>&1 | head -1")
slirp = sh("slirp4netns --version | head -1")
pasta = sh("pasta --version 2>&1 | head -1")
w("- Date: " + datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
w(f"- Machine: {os.cpu_count()} cores ({cpu}), {memory} GiB, kernel {platform.release()}, {distro}")
w(f"- qbnet {commit}, {java}, {slirp}, {pasta}")
w("")

systems = [s for s in ("qbnet", "qbnet-no-offload", "slirp4netns", "pasta")
           if any(k[0] == "throughput" and k[1] == s for k in rows)]
mtus = sorted({k[2] for k in rows if k[0] == "throughput"}, key=lambda m: int(m))
if systems:
    w("## Throughput: iperf3, one TCP stream, Gbit/s")
    w("")
    w("Upload is board (or namespace) to host, download the other way; the server is")
    w("on the host's loopback. qbnet runs over its socket link (qbnetd and a TUN in a")
    w("network namespace); slirp4netns and pasta connect a namespace the same way.")
    w("Median of the runs, (min–max).")
    w("")
    w("| system | " + " | ".join(f"MTU {m} {d}" for m in mtus for d in ("upload", "download")) + " |")
    w("|---" * (1 + 2 * len(mtus)) + "|")
    for s in systems:
        mtu_of = lambda m: "65521" if s == "slirp4netns" and m == "65520" and ("throughput", s, "65521", "up") in rows else m
        w(f"| {s} | " + " | ".join(cell(("throughput", s, mtu_of(m), d)) for m in mtus for d in ("up", "down")) + " |")
    w("")
    w("Ratios of qbnet's medians (with offload) to the anchors at the same MTU:")
    w("")
    w("| against | " + " | ".join(f"MTU {m} {d}" for m in mtus for d in ("upload", "download")) + " |")
    w("|---" * (1 + 2 * len(mtus)) + "|")
    for anchor in ("slirp4netns", "pasta", "qbnet-no-offload"):
        if anchor not in systems:
            continue
        cells = []
        for m in mtus:
            am = "65521" if anchor == "slirp4netns" and m == "65520" and ("throughput", anchor, "65521", "up") in rows else m
            for d in ("up", "down"):
                cells.append(ratio(med(("throughput", "qbnet", m, d)), med(("throughput", anchor, am, d))))
        w(f"| {anchor} | " + " | ".join(cells) + " |")
    w("")
    w("![throughput](performance.png)")
    w("")

lat = [s for s in ("qbnet", "slirp4netns", "pasta") if ("latency", s, "-", "rtt") in rows]
if lat:
    w("## Latency: 1-byte TCP request/response over one connection")
    w("")
    w("| system | round trips/s | µs per round trip | qbnet / this (round trips) |")
    w("|---|---|---|---|")
    q = med(("latency", "qbnet", "-", "round trips/s"))
    for s in lat:
        w(f"| {s} | {cell(('latency', s, '-', 'round trips/s'), 0)} | {cell(('latency', s, '-', 'rtt'), 1)} | "
          f"{ratio(q, med(('latency', s, '-', 'round trips/s')))} |")
    if ("latency", "qbnet", "-", "ping gateway") in rows:
        w("")
        w(f"Ping from the board to the gateway (answered by qbnet): {cell(('latency', 'qbnet', '-', 'ping gateway'), 3)} ms average.")
    w("")

scale = [k for k in rows if k[0] == "scale"]
if scale:
    w("## Scale: 10 000 idle TCP flows from the board")
    w("")
    w("| measure | value |")
    w("|---|---|")
    for k in sorted(scale):
        w(f"| {k[3]} | {cell(k)} {units[(k[0], k[3])]} |")
    w("")

usb = sorted({(k[2]) for k in rows if k[0] == "usb"})
for speed in usb:
    w(f"## USB path ({speed} speed, in the QEMU test VM, single-threaded TCG)")
    w("")
    w("The bare transport (`qbnet link-test`: bundles of filler, no NAT, no TCP) against")
    w("TCP goodput through the whole stack (iperf3 from the board's TUN to a server")
    w("behind qbnet), in the same VM run. The VM emulates its CPU, so both are far below")
    w("real hardware; the ratio is what carries over.")
    w("")
    w("| direction | bare bulk MB/s | TCP through qbnet MB/s | TCP / bare |")
    w("|---|---|---|---|")
    for d, name in (("up", "board to host"), ("down", "host to board")):
        raw = med(("usb", "raw", speed, d))
        tcp = med(("usb", "tcp", speed, d))
        w(f"| {name} | {cell(('usb', 'raw', speed, d), 1)} | {cell(('usb', 'tcp', speed, d), 1)} | "
          f"{(f'{100 * tcp / raw:.0f}%' if raw and tcp else 'n/a')} |")
    w("")

open(md_path, "w").write("\n".join(out) + "\n")

if systems:
    data = os.path.join(os.path.dirname(results_path), "chart.dat")
    with open(data, "w") as f:
        f.write("config " + " ".join(systems) + "\n")
        for m in mtus:
            for d in ("up", "down"):
                vals = []
                for s in systems:
                    sm = "65521" if s == "slirp4netns" and m == "65520" and ("throughput", s, "65521", d) in rows else m
                    v = med(("throughput", s, sm, d))
                    vals.append(f"{v:.3f}" if v is not None else "0")
                f.write(f'"MTU {m} {"upload" if d == "up" else "download"}" ' + " ".join(vals) + "\n")
    plot = f"""set terminal pngcairo size 900,480 font ",10"
set output "{png_path}"
set title "iperf3 single-stream throughput (median), one run of make bench"
set ylabel "Gbit/s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set grid ytics
set yrange [0:*]
plot for [i=2:{len(systems) + 1}] "{data}" using i:xtic(1) title columnheader(i)
"""
    subprocess.run(["gnuplot"], input=plot, text=True, check=False)
print(f"wrote {md_path} and {png_path}")
