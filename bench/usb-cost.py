#!/usr/bin/env python3
# One measured iperf3 run of the USB VM benchmark (bench/usb-vm-bench.sh):
# runs the client, reads its JSON, and charges the CPU time spent during the
# run per GB moved: the whole VM (every non-idle tick of /proc/stat, both
# vCPUs, iperf3 at both ends included), its softirq share, and each named
# process (utime + stime of /proc/PID/stat, all its threads).
# Usage: usb-cost.py RESULTS SPEED SYSTEM DIR RUN [NAME=PID...] -- COMMAND...
# Appends to RESULTS (bench TSV): usb SYSTEM SPEED DIR RUN MB/s, and
# usbcost SYSTEM SPEED "DIR WHAT" RUN s/GB for WHAT in vm, softirq and each NAME.
import json
import os
import subprocess
import sys

HZ = os.sysconf("SC_CLK_TCK")


def proc_ticks(pid):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def cpu_ticks():
    # user nice system idle iowait irq softirq steal ...
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    busy = sum(v[:8]) - v[3] - v[4]
    return busy, v[6]


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    results, speed, system, direction, run = args[:5]
    pids = dict(a.split("=", 1) for a in args[5:sep])
    command = args[sep + 1:]
    before = {n: proc_ticks(p) for n, p in pids.items()}
    busy0, soft0 = cpu_ticks()
    out = subprocess.run(command, capture_output=True, text=True)
    busy1, soft1 = cpu_ticks()
    after = {n: proc_ticks(p) for n, p in pids.items()}
    try:
        end = json.loads(out.stdout)["end"]["sum_received"]
        moved, seconds = end["bytes"], end["seconds"]
    except (ValueError, KeyError, TypeError):
        print(f"{system} {direction} run {run}: iperf3 failed: {out.stderr.strip()[-300:]}", file=sys.stderr)
        return 1
    if not moved or not seconds:
        print(f"{system} {direction} run {run}: nothing moved", file=sys.stderr)
        return 1
    gb = moved / 1e9
    rows = [("usb", system, speed, direction, run, f"{moved / seconds / 1e6:.1f}", "MB/s")]
    cost = {"vm": (busy1 - busy0) / HZ / gb, "softirq": (soft1 - soft0) / HZ / gb}
    for name in pids:
        if before[name] is not None and after[name] is not None:
            cost[name] = (after[name] - before[name]) / HZ / gb
    for what, value in cost.items():
        rows.append(("usbcost", system, speed, f"{direction} {what}", run, f"{value:.2f}", "s/GB"))
    with open(results, "a") as f:
        for row in rows:
            f.write("\t".join(row) + "\n")
    print(f"{system} {direction} run {run}: {rows[0][5]} MB/s; CPU s/GB: "
          + ", ".join(f"{k} {v:.1f}" for k, v in cost.items()))
    return 0


sys.exit(main())
