// Properties of the packet parsers the NAT runs on every board packet
// (IpPacket, TcpHeader, Checksum): arbitrary and mutated packets at any
// offset never throw, and what they accept matches a reference reading.
package dev.qbkit.qbnet.robust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.qbkit.qbnet.packet.Checksum;
import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.packet.TcpHeader;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tag;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AddLifecycleHook;

@Tag("robust")
@AddLifecycleHook(ScaledTries.class)
class PacketParserPropertyTest {
    static final byte[] BOARD4 = { 10, 113, 98, 2 };
    static final byte[] REMOTE4 = { (byte) 198, 51, 100, 2 };
    static final byte[] BOARD6 = { (byte) 0xfd, 0x71, 0x62, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
    static final byte[] REMOTE6 = { (byte) 0xfd, 0x51, 0x62, 0x74, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

    /** Valid packets of every kind the NAT handles, plus the IP frames of the protocol vectors. */
    static final List<byte[]> SEEDS = seeds();

    private static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>(Seeds.ipPacketsFromVectors());
        for (boolean v6 : new boolean[] { false, true }) {
            byte[] b = v6 ? BOARD6 : BOARD4;
            byte[] r = v6 ? REMOTE6 : REMOTE4;
            s.add(Packets.tcp(b, r, 40000, 80, 1000, 0, TcpHeader.SYN, 64240, Packets.synOptions(1460, 7, true), new byte[0]));
            s.add(Packets.tcp(b, r, 40000, 80, 1001, 5001, TcpHeader.ACK | TcpHeader.PSH, 502, new byte[0], "GET / HTTP/1.0\r\n\r\n".getBytes()));
            s.add(Packets.tcp(b, r, 40000, 80, 1001, 5001, TcpHeader.FIN | TcpHeader.ACK, 502, new byte[0], new byte[0]));
            s.add(Packets.udp(b, r, 5353, 53, new byte[] { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1 }));
            s.add(Packets.icmp(b, r, v6 ? 128 : 8, 77, 1, "ping".getBytes()));
        }
        // IPv6 with a hop-by-hop header before UDP, and an IPv4 header with options.
        byte[] udp6 = Packets.udp(BOARD6, REMOTE6, 1, 2, new byte[4]);
        byte[] withHop = new byte[udp6.length + 8];
        System.arraycopy(udp6, 0, withHop, 0, 40);
        withHop[6] = 0;
        withHop[40] = 17;
        System.arraycopy(udp6, 40, withHop, 48, udp6.length - 40);
        ByteBuffer.wrap(withHop).putShort(4, (short) (udp6.length - 40 + 8));
        s.add(withHop);
        byte[] udp4 = Packets.udp(BOARD4, REMOTE4, 1, 2, new byte[4]);
        byte[] withOptions = new byte[udp4.length + 4];
        System.arraycopy(udp4, 0, withOptions, 0, 20);
        System.arraycopy(udp4, 20, withOptions, 24, udp4.length - 20);
        withOptions[0] = 0x46;
        ByteBuffer.wrap(withOptions).putShort(2, (short) withOptions.length);
        s.add(withOptions);
        return s;
    }

    @Provide
    Arbitrary<byte[]> packets() {
        return Seeds.mutatedOrRandom(SEEDS, 80);
    }

    /** The outcome of parsing per RFC 791 / RFC 8200, written apart from IpPacket. */
    record Parsed(String reject, boolean v6, int protocol, int ttl, int length, int headerLength, byte[] src,
            byte[] dst) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Parsed p && String.valueOf(p.reject).equals(String.valueOf(reject))
                    && (reject != null || p.v6 == v6 && p.protocol == protocol && p.ttl == ttl && p.length == length
                            && p.headerLength == headerLength && Arrays.equals(p.src, src) && Arrays.equals(p.dst, dst));
        }

        @Override
        public int hashCode() {
            return 0;
        }

        static Parsed rejected(String why) {
            return new Parsed(why, false, 0, 0, 0, 0, null, null);
        }
    }

    static Parsed reference(byte[] p, int available) {
        if (available < 20)
            return Parsed.rejected("TOO_SHORT");
        int version = (p[0] & 0xff) >>> 4;
        if (version == 4) {
            int ihl = (p[0] & 0x0f) * 4;
            if (ihl < 20 || ihl > available)
                return Parsed.rejected("BAD_HEADER_LENGTH");
            int total = (p[2] & 0xff) << 8 | p[3] & 0xff;
            if (total < ihl || total > available)
                return Parsed.rejected("BAD_TOTAL_LENGTH");
            boolean moreFragments = (p[6] & 0x20) != 0;
            int fragmentOffset = (p[6] & 0x1f) << 8 | p[7] & 0xff;
            if (moreFragments || fragmentOffset != 0)
                return Parsed.rejected("FRAGMENT");
            return new Parsed(null, false, p[9] & 0xff, p[8] & 0xff, total, ihl, Arrays.copyOfRange(p, 12, 16),
                    Arrays.copyOfRange(p, 16, 20));
        }
        if (version != 6)
            return Parsed.rejected("BAD_VERSION");
        if (available < 40)
            return Parsed.rejected("TOO_SHORT");
        int total = 40 + ((p[4] & 0xff) << 8 | p[5] & 0xff);
        if (total > available)
            return Parsed.rejected("BAD_TOTAL_LENGTH");
        int next = p[6] & 0xff;
        int at = 40;
        while (next == 0 || next == 43 || next == 60) {
            if (at + 8 > total)
                return Parsed.rejected("BAD_EXTENSION_HEADER");
            int size = ((p[at + 1] & 0xff) + 1) * 8;
            next = p[at] & 0xff;
            at += size;
            if (at > total)
                return Parsed.rejected("BAD_EXTENSION_HEADER");
        }
        if (next == 44)
            return Parsed.rejected("FRAGMENT");
        return new Parsed(null, true, next, p[7] & 0xff, total, at, Arrays.copyOfRange(p, 8, 24),
                Arrays.copyOfRange(p, 24, 40));
    }

    @Property(tries = 3000)
    void ipPacketMatchesTheReferenceAndNeverThrows(@ForAll("packets") byte[] packet,
            @ForAll @IntRange(max = 64) int offset, @ForAll @IntRange(max = 32) int slack, @ForAll boolean direct) {
        ByteBuffer buf = BundlePropertyTest.embedded(packet, offset, slack, direct);
        IpPacket ip = new IpPacket();
        boolean ok = ip.parse(buf, offset, packet.length);
        Parsed expected = reference(packet, packet.length);
        if (!ok) {
            assertEquals(expected.reject(), String.valueOf(ip.reject()));
            return;
        }
        Parsed got = new Parsed(null, ip.isIpv6(), ip.protocol(), ip.ttl(), ip.length(),
                ip.payloadOffset() - offset, ip.source(), ip.destination());
        assertEquals(expected, got, "accepted " + got + ", reference says " + expected);
        assertEquals(offset + ip.length(), ip.payloadOffset() + ip.payloadLength(), "payload ends with the packet");
        assertTrue(ip.payloadLength() >= 0 && ip.length() <= packet.length, "payload inside the packet");
    }

    /** TCP options of a SYN per RFC 9293, written apart from TcpHeader: mss, scale, sack. */
    static int[] referenceOptions(byte[] b, int from, int to) {
        int mss = -1;
        int scale = -1;
        int sack = 0;
        int pos = from;
        while (pos < to) {
            int kind = b[pos] & 0xff;
            if (kind == 0)
                break;
            if (kind == 1) {
                pos++;
                continue;
            }
            if (pos + 1 >= to)
                break;
            int length = b[pos + 1] & 0xff;
            if (length < 2 || pos + length > to)
                break;
            if (kind == 2 && length == 4)
                mss = (b[pos + 2] & 0xff) << 8 | b[pos + 3] & 0xff;
            else if (kind == 3 && length == 3)
                scale = Math.min(14, b[pos + 2] & 0xff);
            else if (kind == 4 && length == 2)
                sack = 1;
            pos += length;
        }
        return new int[] { mss, scale, sack };
    }

    @Property(tries = 3000)
    void tcpHeaderStaysInsideItsSegment(@ForAll("packets") byte[] packet, @ForAll @IntRange(max = 64) int offset) {
        checkTcp(packet, offset);
    }

    /** TCP option bytes as a sloppy sender writes them: real kinds, lengths right, wrong or lying, any values. */
    @Provide
    Arbitrary<byte[]> optionBytes() {
        Arbitrary<byte[]> token = net.jqwik.api.Combinators.combine(
                Arbitraries.of(0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 8, 254, 255),
                Arbitraries.oneOf(Arbitraries.of(-1, 0, 1, 2, 3, 4, 10), Arbitraries.integers().between(0, 255)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(10)).as((kind, length, value) -> {
                    if (kind <= 1)
                        return new byte[] { (byte) (int) kind };
                    int declared = length >= 0 ? length : switch (kind) {
                        case 2 -> 4;
                        case 3 -> 3;
                        case 4 -> 2;
                        default -> 10;
                    };
                    byte[] t = new byte[2 + Math.min(value.length, Math.max(0, declared - 2))];
                    t[0] = (byte) (int) kind;
                    t[1] = (byte) declared;
                    System.arraycopy(value, 0, t, 2, t.length - 2);
                    return t;
                });
        return token.list().ofMaxSize(8).map(tokens -> {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            tokens.forEach(out::writeBytes);
            return java.util.Arrays.copyOf(out.toByteArray(), Math.min(40, out.size()));
        });
    }

    /** SYNs whose option bytes are anything at all, under any data offset: options never read past the header. */
    @Property(tries = 3000)
    void synOptionsOfAnyShapeMatchTheReference(@ForAll("optionBytes") byte[] options,
            @ForAll @IntRange(min = 0, max = 15) int dataOffsetWords, @ForAll @IntRange(min = -3, max = 1) int cutWords,
            @ForAll boolean cutNearTheEnd, @ForAll @Size(max = 12) byte[] payload, @ForAll @IntRange(max = 16) int offset) {
        byte[] packet = Packets.tcp(BOARD4, REMOTE4, 1234, 80, 7, 0, TcpHeader.SYN, 1000, options, payload);
        // Mostly a data offset that cuts into the last options: where an option can straddle the header's end.
        int words = cutNearTheEnd ? Math.clamp(5 + (options.length + 3) / 4 + cutWords, 0, 15) : dataOffsetWords;
        packet[20 + 12] = (byte) (words << 4);
        checkTcp(packet, offset);
    }

    private static void checkTcp(byte[] packet, int offset) {
        ByteBuffer buf = BundlePropertyTest.embedded(packet, offset, 8, false);
        IpPacket ip = new IpPacket();
        // Any bytes after a plausible IP header are fed to the TCP parser, whatever the protocol field says.
        int at = ip.parse(buf, offset, packet.length) ? ip.payloadOffset() : offset + Math.min(20, packet.length);
        int length = offset + packet.length - at;
        TcpHeader tcp = new TcpHeader();
        boolean ok = tcp.parse(buf, at, length);
        int dataOffset = length >= 20 ? ((packet[at - offset + 12] & 0xff) >>> 4) * 4 : -1;
        assertEquals(length >= 20 && dataOffset >= 20 && dataOffset <= length, ok, "accept iff 20 <= data offset <= length");
        if (!ok)
            return;
        assertEquals(at + dataOffset, tcp.payloadOffset());
        assertEquals(length - dataOffset, tcp.payloadLength());
        assertTrue(tcp.segmentLength() >= tcp.payloadLength() && tcp.segmentLength() <= tcp.payloadLength() + 2);
        int[] options = tcp.has(TcpHeader.SYN) ? referenceOptions(packet, at - offset + 20, at - offset + dataOffset)
                : new int[] { -1, -1, 0 };
        assertEquals(options[0], tcp.mss(), "MSS");
        assertEquals(options[1], tcp.windowScale(), "window scale");
        assertEquals(options[2] == 1, tcp.sackPermitted(), "SACK-permitted");
    }

    @Property(tries = 1000)
    void synOptionsRoundTrip(@ForAll @IntRange(min = -1, max = 65535) int mss, @ForAll @IntRange(min = -1, max = 255) int scale,
            @ForAll boolean sack, @ForAll boolean v6) {
        byte[] packet = Packets.tcp(v6 ? BOARD6 : BOARD4, v6 ? REMOTE6 : REMOTE4, 1234, 80, 1, 0, TcpHeader.SYN, 1000,
                Packets.synOptions(mss, scale, sack), new byte[0]);
        IpPacket ip = new IpPacket();
        assertTrue(ip.parse(ByteBuffer.wrap(packet), 0, packet.length));
        TcpHeader tcp = new TcpHeader();
        assertTrue(tcp.parse(ip.buffer(), ip.payloadOffset(), ip.payloadLength()));
        assertEquals(mss, tcp.mss());
        assertEquals(scale < 0 ? -1 : Math.min(14, scale), tcp.windowScale());
        assertEquals(sack, tcp.sackPermitted());
        assertEquals(1, tcp.segmentLength());
    }

    @Property(tries = 2000)
    void checksumMatchesRfc1071ByteByByte(@ForAll @Size(max = 300) byte[] data,
            @ForAll @IntRange(max = 15) int offset, @ForAll boolean direct) {
        ByteBuffer buf = BundlePropertyTest.embedded(data, offset, 9, direct);
        assertEquals(Packets.referenceChecksum(data, 0, data.length), Checksum.finish(Checksum.add(buf, offset, data.length, 0)));
    }

    @org.junit.jupiter.api.Test
    void seedsAreValidPackets() {
        for (byte[] p : SEEDS.subList(Seeds.ipPacketsFromVectors().size(), SEEDS.size())) {
            IpPacket ip = new IpPacket();
            assertTrue(ip.parse(ByteBuffer.wrap(p), 0, p.length), "seed rejected: " + ip.reject());
            assertEquals(reference(p, p.length), new Parsed(null, ip.isIpv6(), ip.protocol(), ip.ttl(), ip.length(),
                    ip.payloadOffset(), ip.source(), ip.destination()));
        }
    }
}
