// Fuzz tests of the packet parsers the NAT runs on every board packet
// (IpPacket, TcpHeader, Checksum): any bytes at any offset never throw, and
// what they accept matches a reference reading written apart from them.
package dev.qbkit.qbnet.robust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.qbkit.qbnet.packet.Checksum;
import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.packet.TcpHeader;

class PacketParserFuzzTest {
    static final byte[] BOARD4 = { 10, 113, 98, 2 };
    static final byte[] REMOTE4 = { (byte) 198, 51, 100, 2 };
    static final byte[] BOARD6 = { (byte) 0xfd, 0x71, 0x62, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
    static final byte[] REMOTE6 = { (byte) 0xfd, 0x51, 0x62, 0x74, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

    /** Valid packets of every kind the NAT handles, plus the IP frames of the protocol vectors. */
    static final List<byte[]> SEEDS = seeds();

    private static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>(ipPacketsFromVectors());
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

    /** The IP frame payloads (channel 1) of the bundle vectors. */
    static List<byte[]> ipPacketsFromVectors() {
        List<byte[]> out = new ArrayList<>();
        for (dev.qbkit.qbnet.link.VectorFile.Vector v : dev.qbkit.qbnet.link.VectorFile.load("bundle"))
            for (String frame : v.getAll("frame"))
                if (frame.startsWith("1:") && frame.length() > 2)
                    out.add(java.util.HexFormat.of().parseHex(frame.substring(2)));
        return out;
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

    /** Input: offset (0..64), slack (0..32), direct; then the packet. */
    @FuzzTest
    void ipPacketMatchesTheReferenceAndNeverThrows(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        int offset = in.between(0, 64);
        int slack = in.between(0, 32);
        boolean direct = in.bool();
        byte[] packet = in.rest();
        ByteBuffer buf = BundleFuzzTest.embedded(packet, offset, slack, direct);
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

    /** Input: offset (0..64), then the packet: whatever follows a plausible IP header is parsed as TCP. */
    @FuzzTest
    void tcpHeaderStaysInsideItsSegment(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        int offset = in.between(0, 64);
        checkTcp(in.rest(), offset);
    }

    /** Seeds of the two packet tests: each valid packet at offset 0 and at an odd offset in a direct buffer. */
    static Map<String, byte[]> packetSeeds(boolean withSlack) {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        for (int i = 0; i < SEEDS.size(); i++) {
            for (boolean odd : new boolean[] { false, true }) {
                FuzzInput.Writer w = new FuzzInput.Writer().between(0, 64, odd ? 13 : 0);
                if (withSlack)
                    w.between(0, 32, odd ? 3 : 0).bool(odd);
                seeds.put(String.format("packet-%02d-%s%s", i, describe(SEEDS.get(i)), odd ? "-at-13" : ""),
                        w.bytes(SEEDS.get(i)).toByteArray());
            }
        }
        return seeds;
    }

    static String describe(byte[] p) {
        int version = (p[0] & 0xff) >>> 4;
        int protocol = version == 6 ? p[6] & 0xff : p[9] & 0xff;
        return "v" + version + "-" + switch (protocol) {
            case 6 -> "tcp";
            case 17 -> "udp";
            case 1, 58 -> "icmp";
            case 0 -> "hop-by-hop";
            default -> "proto" + protocol;
        };
    }

    /**
     * SYNs whose option bytes are anything at all, under any data offset: options never read past the header.
     * Input: data offset words (0..15), how far from the options' end to cut (-3..1 words), whether to cut
     * there or use the data offset as is, payload length (0..12), offset (0..16), options length (0..40);
     * then the option bytes and the payload.
     */
    @FuzzTest
    void synOptionsOfAnyShapeMatchTheReference(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        int dataOffsetWords = in.between(0, 15);
        int cutWords = in.between(-3, 1);
        boolean cutNearTheEnd = in.bool();
        int payloadLength = in.between(0, 12);
        int offset = in.between(0, 16);
        byte[] options = in.bytes(in.between(0, 40));
        byte[] payload = in.bytes(payloadLength);
        byte[] packet = Packets.tcp(BOARD4, REMOTE4, 1234, 80, 7, 0, TcpHeader.SYN, 1000, options, payload);
        // Mostly a data offset that cuts into the last options: where an option can straddle the header's end.
        int words = cutNearTheEnd ? Math.clamp(5 + (options.length + 3) / 4 + cutWords, 0, 15) : dataOffsetWords;
        packet[20 + 12] = (byte) (words << 4);
        checkTcp(packet, offset);
    }

    /** Seeds: well-formed and sloppy option lists, cut at and before the header's end. */
    static Map<String, byte[]> optionSeeds() {
        Map<String, byte[]> options = new LinkedHashMap<>();
        options.put("mss-ws-sack", Packets.synOptions(1460, 7, true));
        options.put("mss-only", Packets.synOptions(536, -1, false));
        options.put("ws-over-14", Packets.synOptions(-1, 15, false));
        options.put("nops-eol", new byte[] { 1, 1, 1, 0, 2, 4, 5, (byte) 0xb4 });
        options.put("mss-length-lies", new byte[] { 2, 40, 5, (byte) 0xb4 });
        options.put("length-zero", new byte[] { 3, 0, 7, 1 });
        options.put("length-one", new byte[] { 4, 1, 2, 4, 5, (byte) 0xb4 });
        options.put("unknown-kinds", new byte[] { 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, (byte) 254, 4, 0, 0, 3, 3, 9 });
        options.put("timestamps-sack-blocks", new byte[] { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10, 0, 0, 0, 9, 0, 0, 0, 20 });
        options.put("kind-at-last-byte", new byte[] { 1, 1, 1, 2 });
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> o : options.entrySet()) {
            for (int cut : new int[] { 0, -1 }) {
                byte[] payload = cut == 0 ? new byte[0] : "GET".getBytes();
                seeds.put(o.getKey() + (cut == 0 ? "" : "-cut-a-word"), new FuzzInput.Writer().between(0, 15, 5)
                        .between(-3, 1, cut).bool(true).between(0, 12, payload.length).between(0, 16, cut == 0 ? 0 : 3)
                        .between(0, 40, o.getValue().length).bytes(o.getValue()).bytes(payload).toByteArray());
            }
        }
        return seeds;
    }

    private static void checkTcp(byte[] packet, int offset) {
        ByteBuffer buf = BundleFuzzTest.embedded(packet, offset, 8, false);
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

    /** Input: MSS (-1 for none, 0..65535), window scale (-1 for none, 0..255), SACK-permitted, IPv6. */
    @FuzzTest
    void synOptionsRoundTrip(byte[] data) {
        FuzzInput in = new FuzzInput(data);
        int mss = in.between(-1, 65535);
        int scale = in.between(-1, 255);
        boolean sack = in.bool();
        boolean v6 = in.bool();
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

    /** Input: offset (0..15), direct; then the bytes to sum. */
    @FuzzTest
    void checksumMatchesRfc1071ByteByByte(byte[] input) {
        FuzzInput in = new FuzzInput(input);
        int offset = in.between(0, 15);
        boolean direct = in.bool();
        byte[] data = in.rest();
        ByteBuffer buf = BundleFuzzTest.embedded(data, offset, 9, direct);
        assertEquals(Packets.referenceChecksum(data, 0, data.length), Checksum.finish(Checksum.add(buf, offset, data.length, 0)));
    }

    /** Seeds of the round trip: the usual SYN, no options at all, the largest values, odd-only (no MSS, scale 14+). */
    static Map<String, byte[]> roundTripSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        int[][] cases = { { 1460, 7, 1, 0 }, { -1, -1, 0, 0 }, { 65535, 255, 1, 1 }, { -1, 14, 0, 1 }, { 0, 0, 1, 0 } };
        for (int[] c : cases)
            seeds.put("mss" + c[0] + "-ws" + c[1] + (c[2] == 1 ? "-sack" : "") + (c[3] == 1 ? "-v6" : ""),
                    new FuzzInput.Writer().between(-1, 65535, c[0]).between(-1, 255, c[1]).bool(c[2] == 1).bool(c[3] == 1)
                            .toByteArray());
        return seeds;
    }

    /** Seeds of the checksum test: odd and even lengths, all-ones (the 0xffff/0 corner), a real IPv4 header. */
    static Map<String, byte[]> checksumSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        byte[] ones = new byte[64];
        Arrays.fill(ones, (byte) 0xff);
        seeds.put("all-ones", new FuzzInput.Writer().between(0, 15, 1).bool(true).bytes(ones).toByteArray());
        seeds.put("odd-length", new FuzzInput.Writer().between(0, 15, 3).bool(false).bytes(new byte[] { 1, 2, 3 }).toByteArray());
        seeds.put("ipv4-header", new FuzzInput.Writer().between(0, 15, 0).bool(true)
                .bytes(Arrays.copyOf(SEEDS.get(SEEDS.size() - 1), 24)).toByteArray());
        return seeds;
    }

    @Test
    void seedInputsAreCurrent() {
        FuzzSeeds.check(PacketParserFuzzTest.class, "ipPacketMatchesTheReferenceAndNeverThrows", packetSeeds(true));
        FuzzSeeds.check(PacketParserFuzzTest.class, "tcpHeaderStaysInsideItsSegment", packetSeeds(false));
        FuzzSeeds.check(PacketParserFuzzTest.class, "synOptionsOfAnyShapeMatchTheReference", optionSeeds());
        FuzzSeeds.check(PacketParserFuzzTest.class, "synOptionsRoundTrip", roundTripSeeds());
        FuzzSeeds.check(PacketParserFuzzTest.class, "checksumMatchesRfc1071ByteByByte", checksumSeeds());
    }

    @Test
    void seedsAreValidPackets() {
        for (byte[] p : SEEDS.subList(ipPacketsFromVectors().size(), SEEDS.size())) {
            IpPacket ip = new IpPacket();
            assertTrue(ip.parse(ByteBuffer.wrap(p), 0, p.length), "seed rejected: " + ip.reject());
            assertEquals(reference(p, p.length), new Parsed(null, ip.isIpv6(), ip.protocol(), ip.ttl(), ip.length(),
                    ip.payloadOffset(), ip.source(), ip.destination()));
        }
    }
}
