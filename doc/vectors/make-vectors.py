#!/usr/bin/env python3
# Authoring tool for doc/vectors/link-v1.txt: a third, independent encoder of
# doc/PROTOCOL.md. Tests never run it; they read the committed text file.
# Usage: python3 doc/vectors/make-vectors.py > doc/vectors/link-v1.txt
import ipaddress
import struct

out = []


def emit(kind, name, fields):
    out.append(f"[{kind} {name}]")
    for key, value in fields:
        out.append(f"{key} = {value}")
    out.append("")


def bundle(frames, magic=b"qb", fmt=1, flags=0, length=None):
    body = b"".join(struct.pack("<HHI", ch, fl, len(p)) + p for ch, fl, p in frames)
    total = 8 + len(body) if length is None else length
    return magic + bytes([fmt, flags]) + struct.pack("<I", total) + body


def tlv(tag, value):
    return struct.pack("<HH", tag, len(value)) + value


def control(mtype, tlvs):
    return struct.pack("<H", mtype) + b"".join(tlv(t, v) for t, v in tlvs)


def ipv4_packet(payload_len=8):
    # A minimal IPv4/UDP packet 10.113.98.2:40000 -> 10.113.98.3:53; checksums
    # are not part of the link protocol, so they are left zero.
    udp = struct.pack(">HHHH", 40000, 53, 8 + payload_len, 0) + bytes(range(payload_len))
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                      bytes([10, 113, 98, 2]), bytes([10, 113, 98, 3]))
    return hdr + udp


def ipv6_packet():
    udp = struct.pack(">HHHH", 40000, 53, 12, 0) + b"ping"
    hdr = struct.pack(">IHBB16s16s", 6 << 28, len(udp), 17, 64,
                      ipaddress.IPv6Address("fd71:6200::2").packed,
                      ipaddress.IPv6Address("fd71:6200::3").packed)
    return hdr + udp


def frames_field(frames):
    return [("frame", f"{ch}:{p.hex()}") for ch, _, p in frames]


# ---- bundles -------------------------------------------------------------
ip4 = ipv4_packet()
ip6 = ipv6_packet()
err_frame = control(4, [(64, struct.pack("<H", 4))])  # an ERROR frame, small

cases = [
    ("empty", [], {}),
    ("one-ipv4", [(1, 0, ip4)], {}),
    ("ipv4-and-ipv6", [(1, 0, ip4), (1, 0, ip6)], {}),
    ("control-then-ip", [(0, 0, err_frame), (1, 0, ip4)], {}),
    ("unknown-channel-skipped", [(7, 0, b"\xde\xad\xbe\xef"), (1, 0, ip4)], {}),
    ("zero-length-frame", [(9, 0, b""), (1, 0, ip4)], {}),
]
for name, frames, _ in cases:
    data = bundle(frames)
    emit("bundle", name, [("hex", data.hex())] + frames_field(frames) + [("expect", "ok")])

# Flags on bundle and frame are ignored on receipt (decode-only: encoders send 0).
# Flag bit 0 means OFFLOAD on channel 1 (section 7); other bits mean nothing yet.
frames = [(1, 0x8000, ip4)]
emit("bundle", "flags-ignored", [("hex", bundle(frames, flags=0x80).hex()), ("encode", "no"),
                                 ("frame", f"1:{ip4.hex()}"), ("expect", "ok")])

good = bundle([(1, 0, ip4)])
emit("bundle", "bad-magic", [("hex", (b"qc" + good[2:]).hex()), ("expect", "drop:bad-magic")])
emit("bundle", "bad-format", [("hex", bundle([(1, 0, ip4)], fmt=2).hex()), ("expect", "drop:bad-format")])
emit("bundle", "length-too-small", [("hex", bundle([], length=7).hex()), ("expect", "drop:bad-length")])
emit("bundle", "length-beyond-data", [("hex", bundle([(1, 0, ip4)], length=len(good) + 1).hex()),
                                      ("expect", "drop:bad-length")])
emit("bundle", "length-short-of-data", [("hex", bundle([(1, 0, ip4)], length=len(good) - 1).hex()),
                                        ("expect", "drop:bad-length")])
emit("bundle", "header-only-truncated", [("hex", good[:5].hex()), ("expect", "drop:bad-length")])
over = bundle([(1, 0, ip4)])
emit("bundle", "over-receiver-limit", [("hex", over.hex()), ("max-bundle", str(len(over) - 1)),
                                       ("expect", "drop:bad-length")])
# Frame payload length runs past the bundle end.
trunc = bytearray(bundle([(1, 0, ip4)]))
struct.pack_into("<I", trunc, 12, len(ip4) + 1)
emit("bundle", "frame-payload-past-end", [("hex", trunc.hex()), ("expect", "drop:truncated-frame")])
# Trailing bytes that are too few for a frame header.
tail = bundle([(1, 0, ip4)]) + b"\x01\x00\x00"
tail = tail[:4] + struct.pack("<I", len(tail)) + tail[8:]
emit("bundle", "frame-header-past-end", [("hex", tail.hex()), ("expect", "drop:truncated-frame")])
# A huge frame length must not overflow a 32-bit offset computation.
huge = bytearray(bundle([(1, 0, ip4)]))
struct.pack_into("<I", huge, 12, 0xFFFFFFF8)
emit("bundle", "frame-length-overflow", [("hex", huge.hex()), ("expect", "drop:truncated-frame")])


# ---- control messages ----------------------------------------------------
def ip4b(s):
    return ipaddress.IPv4Address(s).packed


def ip6b(s):
    return ipaddress.IPv6Address(s).packed


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


def ctl(name, mtype, tlvs, fields, expect="ok", encode=True):
    data = control(mtype, tlvs)
    extra = [] if encode else [("encode", "no")]
    emit("control", name, [("hex", data.hex())] + extra + fields + [("expect", expect)])


ctl("hello-board", 1,
    [(1, u16(1) + u16(1)), (2, b"\x01"), (3, u32(262144)), (4, u16(65535)),
     (5, b"QB-0001"), (6, b"qbnetd 0.1.0"), (7, u32(1))],
    [("type", "hello"), ("version", "1-1"), ("role", "board"), ("max-bundle", "262144"),
     ("mtu", "65535"), ("serial", "QB-0001"), ("software", "qbnetd 0.1.0"), ("caps", "1")])
ctl("hello-host-minimal", 1,
    [(1, u16(1) + u16(3)), (2, b"\x02"), (3, u32(16384))],
    [("type", "hello"), ("version", "1-3"), ("role", "host"), ("max-bundle", "16384")])
# A host's HELLO with its instance id (tag 8, a u64 that is never 0): boards that predate the tag skip it.
ctl("hello-host-instance", 1,
    [(1, u16(1) + u16(1)), (2, b"\x02"), (3, u32(262144)), (4, u16(65520)), (6, b"qbnet 0.1.0"), (7, u32(2)),
     (8, u64(0xFEDCBA9876543210))],
    [("type", "hello"), ("version", "1-1"), ("role", "host"), ("max-bundle", "262144"), ("mtu", "65520"),
     ("software", "qbnet 0.1.0"), ("caps", "2"), ("instance", "fedcba9876543210")])
ctl("hello-unknown-tag-skipped", 1,
    [(1, u16(1) + u16(1)), (2, b"\x02"), (3, u32(65536)), (200, b"future")],
    [("type", "hello"), ("version", "1-1"), ("role", "host"), ("max-bundle", "65536")], encode=False)
ctl("hello-any-order", 1,
    [(3, u32(65536)), (2, b"\x01"), (1, u16(1) + u16(1))],
    [("type", "hello"), ("version", "1-1"), ("role", "board"), ("max-bundle", "65536")], encode=False)
ctl("config-ipv4", 2,
    [(4, u16(65520)), (16, ip4b("10.113.98.2") + b"\x18"), (17, ip4b("10.113.98.1")),
     (18, ip4b("10.113.98.3"))],
    [("type", "config"), ("mtu", "65520"), ("ipv4", "10.113.98.2/24"), ("gateway4", "10.113.98.1"),
     ("dns4", "10.113.98.3")])
ctl("config-dual-stack", 2,
    [(4, u16(1500)), (16, ip4b("192.168.7.2") + b"\x1e"), (17, ip4b("192.168.7.1")),
     (18, ip4b("192.168.7.3")), (18, ip4b("192.168.7.4")),
     (32, ip6b("fd71:6200::2") + b"\x40"), (33, ip6b("fd71:6200::1")), (34, ip6b("fd71:6200::3"))],
    [("type", "config"), ("mtu", "1500"), ("ipv4", "192.168.7.2/30"), ("gateway4", "192.168.7.1"),
     ("dns4", "192.168.7.3"), ("dns4", "192.168.7.4"), ("ipv6", "fd71:6200::2/64"),
     ("gateway6", "fd71:6200::1"), ("dns6", "fd71:6200::3")])
ctl("keepalive", 3, [(48, u32(7))], [("type", "keepalive"), ("seq", "7")])
ctl("keepalive-reply", 3, [(48, u32(1000)), (49, u32(7))],
    [("type", "keepalive"), ("seq", "1000"), ("echo", "7")])
ctl("error-version", 4, [(64, u16(1)), (65, b"host speaks 1-1, board 2-3")],
    [("type", "error"), ("code", "1"), ("text", "host speaks 1-1, board 2-3")])
ctl("error-no-text", 4, [(64, u16(3))], [("type", "error"), ("code", "3")])

# Malformed and ignored messages: decode-only.
bad = [
    ("unknown-type", control(9, [(48, u32(1))]), "ignore:unknown-type"),
    ("too-short", b"\x01", "drop:malformed"),
    ("tlv-header-past-end", control(3, [(48, u32(1))]) + b"\x30\x00", "drop:malformed"),
    ("tlv-value-past-end", control(3, [])[:2] + struct.pack("<HH", 48, 8) + u32(1), "drop:malformed"),
    ("hello-missing-role", control(1, [(1, u16(1) + u16(1)), (3, u32(65536))]), "drop:malformed"),
    ("hello-bad-role", control(1, [(1, u16(1) + u16(1)), (2, b"\x03"), (3, u32(65536))]), "drop:malformed"),
    ("hello-version-min-above-max", control(1, [(1, u16(2) + u16(1)), (2, b"\x01"), (3, u32(65536))]),
     "drop:malformed"),
    ("hello-max-bundle-too-small", control(1, [(1, u16(1) + u16(1)), (2, b"\x01"), (3, u32(1024))]),
     "drop:malformed"),
    ("hello-max-bundle-too-large", control(1, [(1, u16(1) + u16(1)), (2, b"\x01"), (3, u32(1048577))]),
     "drop:malformed"),
    ("hello-duplicate-role", control(1, [(1, u16(1) + u16(1)), (2, b"\x01"), (2, b"\x01"), (3, u32(65536))]),
     "drop:malformed"),
    ("hello-empty-serial", control(1, [(1, u16(1) + u16(1)), (2, b"\x01"), (3, u32(65536)), (5, b"")]),
     "drop:malformed"),
    ("hello-long-serial", control(1, [(1, u16(1) + u16(1)), (2, b"\x01"), (3, u32(65536)), (5, b"x" * 65)]),
     "drop:malformed"),
    ("hello-instance-zero", control(1, [(1, u16(1) + u16(1)), (2, b"\x02"), (3, u32(65536)), (8, u64(0))]),
     "drop:malformed"),
    ("hello-instance-short", control(1, [(1, u16(1) + u16(1)), (2, b"\x02"), (3, u32(65536)), (8, u32(7))]),
     "drop:malformed"),
    ("hello-instance-twice", control(1, [(1, u16(1) + u16(1)), (2, b"\x02"), (3, u32(65536)), (8, u64(1)),
                                         (8, u64(2))]), "drop:malformed"),
    ("config-missing-mtu", control(2, [(16, ip4b("10.113.98.2") + b"\x18")]), "drop:malformed"),
    ("config-missing-ipv4", control(2, [(4, u16(1500))]), "drop:malformed"),
    ("config-mtu-too-small", control(2, [(4, u16(575)), (16, ip4b("10.113.98.2") + b"\x18")]), "drop:malformed"),
    ("config-ipv6-mtu-too-small", control(2, [(4, u16(1000)), (16, ip4b("10.113.98.2") + b"\x18"),
                                              (32, ip6b("fd71:6200::2") + b"\x40")]), "drop:malformed"),
    ("config-bad-prefix", control(2, [(4, u16(1500)), (16, ip4b("10.113.98.2") + b"\x1f")]), "drop:malformed"),
    ("config-short-address", control(2, [(4, u16(1500)), (16, b"\x0a\x71\x62")]), "drop:malformed"),
    ("config-five-dns", control(2, [(4, u16(1500)), (16, ip4b("10.113.98.2") + b"\x18")] +
                            [(18, ip4b(f"10.0.0.{i}")) for i in range(1, 6)]), "drop:malformed"),
    ("keepalive-missing-seq", control(3, [(49, u32(1))]), "drop:malformed"),
    ("keepalive-bad-seq-length", control(3, [(48, u16(1))]), "drop:malformed"),
    ("error-missing-code", control(4, [(65, b"oops")]), "drop:malformed"),
    ("error-long-text", control(4, [(64, u16(2)), (65, b"e" * 257)]), "drop:malformed"),
    ("oversized", control(3, [(48, u32(1)), (300, b"\0" * 1020)]), "drop:malformed"),
]
for name, data, expect in bad:
    emit("control", name, [("hex", data.hex()), ("expect", expect)])

# ---- offload headers (section 7) -------------------------------------------
def tcp4(payload_len, options=b""):
    hl = 20 + len(options)
    tcp = struct.pack(">HHIIBBHHH", 80, 40000, 1000, 5000, (hl // 4) << 4, 0x18, 512, 0, 0) + options
    tcp += bytes((i * 7) & 0xFF for i in range(payload_len))
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                       bytes([198, 51, 100, 2]), bytes([10, 113, 98, 2])) + tcp


def tcp6(payload_len):
    tcp = struct.pack(">HHIIBBHHH", 80, 40000, 1000, 5000, 5 << 4, 0x18, 512, 0, 0)
    tcp += bytes((i * 5) & 0xFF for i in range(payload_len))
    return struct.pack(">IHBB16s16s", 6 << 28, len(tcp), 6, 64, ipaddress.IPv6Address("fd51:6274::2").packed,
                       ipaddress.IPv6Address("fd71:6200::2").packed) + tcp


def udp4(payload_len):
    udp = struct.pack(">HHHH", 53, 40000, 8 + payload_len, 0) + bytes(range(payload_len))
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                       bytes([10, 113, 98, 3]), bytes([10, 113, 98, 2])) + udp


def off(name, flags, gso_type, gso_size, start, offset, packet, expect, mtu=1500):
    header = bytes([flags, gso_type]) + struct.pack("<HHH", gso_size, start, offset)
    emit("offload", name, [("hex", (header + packet).hex()), ("csum-partial", "yes" if flags & 1 else "no"),
                           ("gso-type", str(gso_type)), ("gso-size", str(gso_size)), ("csum-start", str(start)),
                           ("csum-offset", str(offset)), ("mtu", str(mtu)), ("expect", expect)])


off("tso4", 1, 1, 1400, 20, 16, tcp4(2800), "ok")
off("tso6", 1, 2, 1400, 40, 16, tcp6(2800), "ok")
off("tso4-with-sack-option", 1, 1, 1388, 20, 16, tcp4(2776, bytes([1, 1, 5, 10]) + struct.pack(">II", 6000, 7000)), "ok")
off("partial-checksum-tcp", 1, 0, 0, 20, 16, tcp4(100), "ok")
off("partial-checksum-udp", 1, 0, 0, 20, 6, udp4(64), "ok")
off("header-only-flags", 0, 0, 0, 0, 0, tcp4(10), "ok")
off("unknown-flag", 3, 0, 0, 20, 16, tcp4(10), "drop:bad-flags")
off("gso-type-not-the-ip-version", 1, 2, 1400, 20, 16, tcp4(2800), "drop:bad-gso-type")
off("unknown-gso-type", 1, 7, 1400, 20, 16, tcp4(2800), "drop:bad-gso-type")
off("gso-without-size", 1, 1, 0, 20, 16, tcp4(2800), "drop:bad-gso-size")
off("size-without-gso", 1, 0, 1400, 20, 16, tcp4(100), "drop:bad-gso-size")
off("over-mtu-without-gso", 1, 0, 0, 20, 16, tcp4(2800), "drop:bad-length")
off("checksum-offset-outside", 1, 0, 0, 20, 200, tcp4(10), "drop:bad-csum-offsets")
off("checksum-offset-not-tcp-or-udp", 1, 0, 0, 20, 10, tcp4(10), "drop:bad-csum-offsets")
emit("offload", "truncated", [("hex", bytes([1, 1, 0x78, 5]).hex()), ("expect", "drop:truncated")])

print("# qbnet link protocol v1 test vectors (doc/PROTOCOL.md). Generated by")
print("# make-vectors.py; both the C (board/tests) and Java (host) unit tests read this file.")
print("#")
print("# [bundle NAME]: hex = the bytes a transport delivered as one bundle;")
print("#   frame = CHANNEL:PAYLOAD-HEX, in order; max-bundle = receiver limit (default 1048576);")
print("#   expect = ok | drop:REASON. Encoders must reproduce hex from the frames unless encode = no.")
print("# [control NAME]: hex = a channel-0 frame payload; the other keys are the decoded fields;")
print("#   expect = ok | drop:malformed | ignore:unknown-type. Encoders write tags in ascending")
print("#   order and must reproduce hex from the fields unless encode = no.")
print("# [offload NAME]: hex = the payload of an IP frame with the OFFLOAD flag (section 7): the")
print("#   8-byte header, then the IP packet; the other keys are the header's fields and the")
print("#   session MTU; expect = ok | drop:REASON (the board's verdict). Hosts must encode the")
print("#   header bytes from the fields.")
print()
print("\n".join(out).rstrip())
