// A TCP segment as the tests write and expect it: every field the NAT sets,
// so assertEquals compares whole packets. Parsing checks both checksums.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

import dev.qbkit.qbnet.packet.Checksum;
import dev.qbkit.qbnet.packet.IpPacket;
import dev.qbkit.qbnet.packet.IpProtocol;
import dev.qbkit.qbnet.packet.IpWriter;
import dev.qbkit.qbnet.packet.TcpHeader;

record Segment(int srcPort, int dstPort, int seq, int ack, int flags, int window, int mss, int windowScale,
        boolean sackPermitted, byte[] payload, int[] sack) {
    static final int F = TcpHeader.FIN, S = TcpHeader.SYN, R = TcpHeader.RST, P = TcpHeader.PSH, A = TcpHeader.ACK;

    static Segment of(int srcPort, int dstPort, int seq, int ack, int flags, int window) {
        return new Segment(srcPort, dstPort, seq, ack, flags, window, -1, -1, false, new byte[0], new int[0]);
    }

    Segment withPayload(byte[] data) {
        return new Segment(srcPort, dstPort, seq, ack, flags, window, mss, windowScale, sackPermitted, data, sack);
    }

    Segment withPayload(String text) {
        return withPayload(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    Segment withOptions(int newMss, int newScale, boolean sack) {
        return new Segment(srcPort, dstPort, seq, ack, flags, window, newMss, newScale, sack, payload, this.sack);
    }

    /** SACK blocks as start, end pairs. */
    Segment withSack(int... blocks) {
        return new Segment(srcPort, dstPort, seq, ack, flags, window, mss, windowScale, sackPermitted, payload, blocks);
    }

    /** Builds the IP packet for this segment between the given addresses. */
    byte[] toPacket(byte[] src, byte[] dst) {
        boolean v6 = src.length == 16;
        int opts = 0;
        if (mss >= 0)
            opts += 4;
        if (windowScale >= 0)
            opts += 4;
        if (sackPermitted)
            opts += 4;
        int tcpLength = 20 + opts + payload.length;
        int ipLength = IpWriter.headerLength(v6) + tcpLength;
        ByteBuffer b = ByteBuffer.allocate(ipLength);
        int t = IpWriter.writeHeader(b, 0, src, dst, IpProtocol.TCP, tcpLength, 1);
        b.putShort(t, (short) srcPort).putShort(t + 2, (short) dstPort).putInt(t + 4, seq).putInt(t + 8, ack);
        b.put(t + 12, (byte) (((20 + opts) / 4) << 4)).put(t + 13, (byte) flags).putShort(t + 14, (short) window);
        int o = t + 20;
        if (mss >= 0) {
            b.put(o, (byte) 2).put(o + 1, (byte) 4).putShort(o + 2, (short) mss);
            o += 4;
        }
        if (windowScale >= 0) {
            b.put(o, (byte) 1).put(o + 1, (byte) 3).put(o + 2, (byte) 3).put(o + 3, (byte) windowScale);
            o += 4;
        }
        if (sackPermitted) {
            b.put(o, (byte) 1).put(o + 1, (byte) 1).put(o + 2, (byte) 4).put(o + 3, (byte) 2);
            o += 4;
        }
        b.put(o, payload);
        IpWriter.fillTransportChecksum(b, 0, v6, IpProtocol.TCP, tcpLength, 16);
        return b.array();
    }

    /** Parses a packet the NAT wrote, asserting its checksums and addresses. */
    static Segment parse(byte[] packet, byte[] expectSrc, byte[] expectDst) {
        return parse(packet, expectSrc, expectDst, false);
    }

    /**
     * As above; {@code partialChecksum}: the packet went in an offload frame,
     * so its checksum field must hold the pseudo-header sum only.
     */
    static Segment parse(byte[] packet, byte[] expectSrc, byte[] expectDst, boolean partialChecksum) {
        ByteBuffer b = ByteBuffer.wrap(packet);
        IpPacket ip = new IpPacket();
        if (!ip.parse(b, 0, packet.length))
            throw new AssertionError("NAT wrote a malformed IP packet: " + ip.reject());
        assertEquals(packet.length, ip.length(), "IP length");
        assertEquals(IpProtocol.TCP, ip.protocol());
        if (!ip.isIpv6())
            assertEquals(0, Checksum.finish(Checksum.add(b, 0, 20, 0)), "IPv4 header checksum");
        long pseudo = Checksum.pseudoHeader(b, 0, ip.isIpv6(), IpProtocol.TCP, ip.payloadLength());
        if (partialChecksum)
            assertEquals(~Checksum.finish(pseudo) & 0xFFFF, Short.toUnsignedInt(b.getShort(ip.payloadOffset() + 16)),
                    "partial TCP checksum: the pseudo-header sum");
        else
            assertEquals(0, Checksum.finish(Checksum.add(b, ip.payloadOffset(), ip.payloadLength(), pseudo)), "TCP checksum");
        assertEquals(HexFormat.of().formatHex(expectSrc), HexFormat.of().formatHex(ip.source()), "source address");
        assertEquals(HexFormat.of().formatHex(expectDst), HexFormat.of().formatHex(ip.destination()), "destination address");
        TcpHeader h = new TcpHeader();
        if (!h.parse(b, ip.payloadOffset(), ip.payloadLength()))
            throw new AssertionError("NAT wrote a malformed TCP header");
        byte[] data = Arrays.copyOfRange(packet, h.payloadOffset(), h.payloadOffset() + h.payloadLength());
        return new Segment(h.sourcePort(), h.destinationPort(), h.seq(), h.ack(), h.flags(), h.window(), h.mss(),
                h.windowScale(), h.sackPermitted(), data, sackBlocks(b, ip.payloadOffset() + 20, h.payloadOffset()));
    }

    private static int[] sackBlocks(ByteBuffer b, int pos, int end) {
        while (pos < end) {
            int kind = Byte.toUnsignedInt(b.get(pos));
            if (kind == 0)
                break;
            if (kind == 1) {
                pos++;
                continue;
            }
            int length = Byte.toUnsignedInt(b.get(pos + 1));
            if (kind == 5) {
                int[] blocks = new int[(length - 2) / 4];
                for (int i = 0; i < blocks.length; i++)
                    blocks[i] = b.getInt(pos + 2 + 4 * i);
                return blocks;
            }
            pos += length;
        }
        return new int[0];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Segment s && s.srcPort == srcPort && s.dstPort == dstPort && s.seq == seq && s.ack == ack
                && s.flags == flags && s.window == window && s.mss == mss && s.windowScale == windowScale
                && s.sackPermitted == sackPermitted && Arrays.equals(s.payload, payload) && Arrays.equals(s.sack, sack);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(payload) + seq * 31 + ack;
    }

    @Override
    public String toString() {
        StringBuilder f = new StringBuilder();
        if ((flags & S) != 0) f.append('S');
        if ((flags & F) != 0) f.append('F');
        if ((flags & R) != 0) f.append('R');
        if ((flags & P) != 0) f.append('P');
        if ((flags & A) != 0) f.append('.');
        return srcPort + ">" + dstPort + " [" + f + "] seq=" + Integer.toUnsignedString(seq) + " ack="
                + Integer.toUnsignedString(ack) + " win=" + window + (mss >= 0 ? " mss=" + mss : "")
                + (windowScale >= 0 ? " wscale=" + windowScale : "") + (sackPermitted ? " sackOK" : "")
                + (sack.length > 0 ? " sack=" + Arrays.toString(sack) : "") + " len=" + payload.length;
    }
}
