#!/usr/bin/env python3
"""A hostile board for the robustness test: connects to qbnet's Unix link
socket like qbnetd, says HELLO, then sends malformed bundles, bad control
messages, garbage IP packets and a SYN flood (doc/PROTOCOL.md is the model).
Prints one JSON line of what it sent and saw; exits non-zero if qbnet did not
behave as the protocol says (e.g. kept a stream open after a bad header)."""

import argparse
import json
import os
import random
import socket
import struct
import sys
import threading
import time

MAGIC = b"qb"
HELLO, CONFIG, KEEPALIVE, ERROR = 1, 2, 3, 4


def tlv(tag, value):
    return struct.pack("<HH", tag, len(value)) + value


def control(msg_type, *tlvs):
    return struct.pack("<H", msg_type) + b"".join(tlvs)


def frame(channel, payload, flags=0):
    return struct.pack("<HHI", channel, flags, len(payload)) + payload


def bundle(*frames, magic=MAGIC, fmt=1, length=None):
    body = b"".join(frames)
    if length is None:
        length = 8 + len(body)
    return magic + bytes([fmt, 0]) + struct.pack("<I", length & 0xFFFFFFFF) + body


def board_hello(serial, version=(1, 1), role=1, max_bundle=262144, mtu=1500):
    return control(HELLO, tlv(1, struct.pack("<HH", *version)), tlv(2, bytes([role])),
                   tlv(3, struct.pack("<I", max_bundle)), tlv(4, struct.pack("<H", mtu)),
                   tlv(5, serial.encode()), tlv(6, b"hostile_board.py"))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=1, frag=0x4000, ttl=64, total=None):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total or 20 + len(payload), ident, frag, ttl, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def tcp(src, dst, sport, dport, seq, ack, flags, window=64240, options=b"", payload=b""):
    offset = (20 + len(options)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, window, 0, 0) + options + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = checksum(pseudo + seg)
    return ipv4(src, dst, 6, seg[:16] + struct.pack("!H", c) + seg[18:])


def udp(src, dst, sport, dport, payload, length=None):
    seg = struct.pack("!HHHH", sport, dport, length if length is not None else 8 + len(payload), 0) + payload
    return ipv4(src, dst, 17, seg)


class Link:
    """One connection to qbnet: sends bundles, reads (and counts) what comes back on a thread."""

    def __init__(self, path, serial, mtu):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.closed_by_peer = threading.Event()
        self.lock = threading.Lock()
        self.seen = {"bundles": 0, "hello": 0, "config": 0, "error": 0, "keepalive": 0, "ip": 0,
                     "rst": 0, "synack": 0, "other_tcp": 0, "icmp": 0, "udp": 0}
        self.errors = []
        self.config = threading.Event()
        threading.Thread(target=self._reader, daemon=True).start()
        self.send(bundle(frame(0, board_hello(serial, mtu=mtu))))

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def _read_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def _reader(self):
        try:
            while True:
                head = self._read_exact(8)
                if head[:2] != MAGIC:
                    self.errors.append("qbnet sent a bad bundle header")
                    return
                length = struct.unpack("<I", head[4:8])[0]
                body = self._read_exact(length - 8)
                with self.lock:
                    self.seen["bundles"] += 1
                pos = 0
                while pos < len(body):
                    channel, _, n = struct.unpack("<HHI", body[pos:pos + 8])
                    payload = body[pos + 8:pos + 8 + n]
                    pos += 8 + n
                    if channel == 0:
                        self._on_control(payload)
                    elif channel == 1:
                        self._on_ip(payload)
        except (EOFError, OSError):
            pass
        finally:
            self.closed_by_peer.set()

    def _on_control(self, payload):
        kind = struct.unpack("<H", payload[:2])[0]
        with self.lock:
            if kind == HELLO:
                self.seen["hello"] += 1
            elif kind == CONFIG:
                self.seen["config"] += 1
                self.config.set()
            elif kind == ERROR:
                self.seen["error"] += 1
            elif kind == KEEPALIVE:
                self.seen["keepalive"] += 1
        if kind == KEEPALIVE:
            # Answer as a board would: ECHO = their SEQ.
            seq = payload[6:10]
            if len(payload) <= 10:
                self.send(bundle(frame(0, control(KEEPALIVE, tlv(48, b"\0\0\0\0"), tlv(49, seq)))))

    def _on_ip(self, p):
        with self.lock:
            self.seen["ip"] += 1
            if len(p) >= 20 and p[0] >> 4 == 4:
                proto = p[9]
                ihl = (p[0] & 15) * 4
                if proto == 6 and len(p) >= ihl + 14:
                    flags = p[ihl + 13]
                    if flags & 0x04:
                        self.seen["rst"] += 1
                    elif flags & 0x12 == 0x12:
                        self.seen["synack"] += 1
                    else:
                        self.seen["other_tcp"] += 1
                elif proto == 1:
                    self.seen["icmp"] += 1
                elif proto == 17:
                    self.seen["udp"] += 1

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def wait(event, seconds):
    return event.wait(seconds)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--link", required=True, help="qbnet's unix link socket path")
    p.add_argument("--serial", default="hostile-board")
    p.add_argument("--inet", required=True, help="an address the NAT may reach (the test's internet netns)")
    p.add_argument("--open-port", type=int, required=True, help="a listening TCP port there")
    p.add_argument("--closed-port", type=int, default=9)
    p.add_argument("--flood", type=int, default=3000, help="SYNs to each of the two ports")
    p.add_argument("--repeat", type=int, default=200, help="how many of each malformed item")
    p.add_argument("--header-rounds", type=int, default=5, help="reconnects per bad-header kind")
    p.add_argument("--hold-file", help="after the attack keep the session open until this file exists")
    p.add_argument("--hold-seconds", type=float, default=60)
    args = p.parse_args()
    rng = random.Random(0x71620)
    board = "10.113.98.2"
    sent = {}
    failures = []

    def count(what, n=1):
        sent[what] = sent.get(what, 0) + n

    # 1. Bad bundle headers: each must make qbnet close the stream (PROTOCOL.md section 2); we reconnect.
    bad_headers = {
        "bad-magic": bundle(frame(7, b"x"), magic=b"QB"),
        "bad-format": bundle(frame(7, b"x"), fmt=2),
        "bad-length-short": bundle(length=7),
        "bad-length-over-max": bundle(length=262144 + 1) + b"\0" * 64,
        "bad-length-over-absolute": bundle(length=0xFFFFFFFF),
    }
    closes = 0
    for name, data in bad_headers.items():
        for _ in range(args.header_rounds):
            link = Link(args.link, args.serial + "-hdr", 1500)
            if not wait(link.config, 10):
                failures.append(f"no CONFIG after HELLO (before {name})")
            link.send(data)
            count("bundle " + name)
            if wait(link.closed_by_peer, 5):
                closes += 1
            else:
                failures.append(f"qbnet kept the stream open after a {name} header")
            link.close()

    # 2. One session that stays up through everything a bundle can hold.
    link = Link(args.link, args.serial, 1500)
    if not wait(link.config, 10):
        failures.append("no CONFIG after HELLO")
    inet = args.inet
    good_syn = lambda sport, dport: tcp(board, inet, sport, dport, rng.getrandbits(32), 0, 0x02,
                                        options=struct.pack("!BBH", 2, 4, 1460))
    for i in range(args.repeat):
        # A frame whose length runs past its bundle: the whole bundle is dropped.
        body = frame(1, good_syn(1, 2))
        link.send(b"qb\x01\x00" + struct.pack("<I", 8 + len(body) - 5) + body[:-5])
        count("truncated-frame bundle")
        link.send(bundle(frame(rng.choice([2, 77, 4096, 65534]), os.urandom(rng.randrange(64)))))
        count("unknown-channel frame")
        link.send(bundle(frame(65535, b"\0" * 1024)))
        count("link-test filler frame")
    # Bad control messages.
    bad_controls = [
        control(HELLO, tlv(1, b"\x01\x00")),                           # VERSION of the wrong length
        control(HELLO, tlv(2, b"\x01")),                               # required tags missing
        struct.pack("<H", CONFIG) + struct.pack("<HH", 4, 200) + b"x",  # TLV runs past the message
        control(KEEPALIVE),                                            # no SEQ
        control(KEEPALIVE, tlv(48, b"\0\0\0\1"), tlv(48, b"\0\0\0\2")),  # SEQ twice
        control(ERROR, tlv(64, b"\1\0"), tlv(65, b"e" * 300)),          # ERROR_TEXT too long
        b"\x01",                                                       # shorter than its type
        b"\0" * 1500,                                                  # longer than 1024 bytes
    ]
    for i in range(args.repeat):
        for c in bad_controls:
            link.send(bundle(frame(0, c)))
            count("malformed control")
        link.send(bundle(frame(0, control(99, tlv(1, b"zz")))))
        count("unknown control type")
    for i in range(20):
        link.send(bundle(frame(0, control(CONFIG, tlv(4, b"\xdc\x05"), tlv(16, b"\x0a\x71\x62\x02\x18")))))
        count("CONFIG from the board")
        link.send(bundle(frame(0, control(ERROR, tlv(64, b"\3\0"), tlv(65, b"hostile error text")))))
        count("ERROR from the board")
        link.send(bundle(frame(0, board_hello(args.serial, role=2))))
        count("HELLO claiming to be a host")
    # Garbage IP packets.
    garbage = []
    for i in range(args.repeat):
        garbage.append(os.urandom(rng.randrange(1, 120)))                                 # noise
        garbage.append(bytes([0x55]) + os.urandom(39))                                    # IP version 5
        garbage.append(ipv4(board, inet, 17, b"\0" * 16, frag=0x2000))                    # a fragment
        garbage.append(ipv4("127.0.0.1", inet, 17, struct.pack("!HHHH", 1, 2, 8, 0)))     # loopback source
        garbage.append(ipv4("224.0.0.1", inet, 17, struct.pack("!HHHH", 1, 2, 8, 0)))     # multicast source
        garbage.append(ipv4(board, inet, 6, b"\0" * 10))                                  # TCP header cut
        garbage.append(udp(board, inet, 5000, 7, b"x", length=400))                        # UDP length lies
        garbage.append(ipv4(board, inet, 1, b"\x08\0\0\0\0\1\0\1"))                        # ICMP bad checksum
        garbage.append(ipv4(board, inet, 47, b"\0" * 8))                                  # GRE: unsupported
        garbage.append(ipv4(board, inet, 17, b"\0" * 8, total=5000))                       # total length lies
        garbage.append(tcp(board, inet, 0, 80, 1, 0, 0x02))                                # SYN from port 0
        garbage.append(tcp(board, inet, 40000 + i, 80, 1, 1, 0x10))                         # ACK of no flow
    for i in range(0, len(garbage), 50):
        link.send(bundle(*[frame(1, g) for g in garbage[i:i + 50]]))
    count("garbage IP packet", len(garbage))
    # An IP frame far over the MTU, in a bundle the host accepts.
    link.send(bundle(frame(1, ipv4(board, inet, 17, struct.pack("!HHHH", 5001, 7, 8, 0)) + b"\0" * 100000)))
    count("IP frame over the MTU")
    # SYN flood: distinct source ports, to a closed port and to an open one, in bundles of 100.
    for dport in (args.closed_port, args.open_port):
        base = 10000 if dport == args.closed_port else 30000
        for start in range(0, args.flood, 100):
            link.send(bundle(*[frame(1, good_syn(base + i, dport))
                               for i in range(start, min(start + 100, args.flood))]))
            time.sleep(0.01)
        count(f"SYN to port {dport}", args.flood)
    # Let the NAT connect and answer.
    deadline = time.time() + 20
    while time.time() < deadline:
        with link.lock:
            if link.seen["rst"] + link.seen["synack"] >= 2 * args.flood * 0.95:
                break
        time.sleep(0.2)
    if link.closed_by_peer.is_set():
        failures.append("qbnet closed the session, which sent no bad bundle header")
    # Keep the session (and its counters) until the test has read qbnet status.
    if args.hold_file:
        print(json.dumps({"phase": "holding"}), flush=True)
        deadline = time.time() + args.hold_seconds
        while time.time() < deadline and not os.path.exists(args.hold_file):
            # Stay alive for the host's 5 s silence rule.
            link.send(bundle(frame(0, control(KEEPALIVE, tlv(48, struct.pack("<I", int(time.time())))))))
            time.sleep(0.5)
    link.close()
    with link.lock:
        seen = dict(link.seen)
    result = {"sent": sent, "seen": seen, "header_closes": closes, "failures": failures + link.errors}
    print(json.dumps(result), flush=True)
    sys.exit(1 if result["failures"] else 0)


if __name__ == "__main__":
    main()
