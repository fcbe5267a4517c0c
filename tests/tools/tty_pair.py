#!/usr/bin/env python3
"""Checks that two serial ports are the two ends of one line: both are put in
raw mode, then BYTES of random data go from A to B and from B to A at once,
and each side must read exactly what the other wrote. Used for the board's
USB ACM function (/dev/ttyGS<n>) against the host's /dev/ttyACM<n>.

Usage: tty_pair.py A B [--bytes N] [--timeout S]; prints one line, exits 0 when
both directions arrived whole, 1 otherwise."""
import argparse
import os
import select
import sys
import termios
import time
import tty


def open_raw(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[2] |= termios.CLOCAL | termios.CREAD
    attrs[2] &= ~termios.CRTSCTS
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    termios.tcflush(fd, termios.TCIOFLUSH)
    return fd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--bytes", type=int, default=65536)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()

    fds = {name: open_raw(path) for name, path in (("a", args.a), ("b", args.b))}
    data = {name: os.urandom(args.bytes) for name in fds}
    sent = {name: 0 for name in fds}
    got = {name: bytearray() for name in fds}
    other = {"a": "b", "b": "a"}
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if all(len(got[n]) >= args.bytes for n in fds):
            break
        want_write = [fds[n] for n in fds if sent[n] < args.bytes]
        readable, writable, _ = select.select(list(fds.values()), want_write, [], 0.2)
        for n, fd in fds.items():
            if fd in writable:
                chunk = data[n][sent[n]:sent[n] + 4096]
                try:
                    sent[n] += os.write(fd, chunk)
                except BlockingIOError:
                    pass
            if fd in readable:
                try:
                    got[n] += os.read(fd, 65536)
                except BlockingIOError:
                    pass
    ok = True
    report = []
    for n in fds:
        # What n read must be what the other side wrote.
        whole = bytes(got[n]) == data[other[n]]
        ok = ok and whole
        report.append("%s->%s %d/%d bytes, %s" % (other[n], n, len(got[n]), args.bytes,
                                                  "identical" if whole else "DIFFERENT"))
    for fd in fds.values():
        os.close(fd)
    print("; ".join(report))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
