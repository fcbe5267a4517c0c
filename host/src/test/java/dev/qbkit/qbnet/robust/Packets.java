// Builds valid IPv4/IPv6 packets (TCP with options, UDP, ICMP echo) with
// correct checksums, as seeds for the packet and NAT properties.
package dev.qbkit.qbnet.robust;

import java.nio.ByteBuffer;

import dev.qbkit.qbnet.packet.Checksum;
import dev.qbkit.qbnet.packet.IpProtocol;
import dev.qbkit.qbnet.packet.IpWriter;

public final class Packets {
    private Packets() {
    }

    /** TCP options for a SYN: MSS, window scale, SACK-permitted (any may be absent: -1 / false). */
    public static byte[] synOptions(int mss, int scale, boolean sack) {
        ByteBuffer o = ByteBuffer.allocate(12);
        if (mss >= 0)
            o.put((byte) 2).put((byte) 4).putShort((short) mss);
        if (scale >= 0)
            o.put((byte) 1).put((byte) 3).put((byte) 3).put((byte) scale);
        if (sack)
            o.put((byte) 1).put((byte) 1).put((byte) 4).put((byte) 2);
        byte[] out = new byte[o.position()];
        o.get(0, out);
        return out;
    }

    public static byte[] tcp(byte[] src, byte[] dst, int sport, int dport, int seq, int ack, int flags, int window,
            byte[] options, byte[] payload) {
        boolean v6 = src.length == 16;
        int optionsLength = (options.length + 3) / 4 * 4;
        int tcpLength = 20 + optionsLength + payload.length;
        int h = IpWriter.headerLength(v6);
        ByteBuffer b = ByteBuffer.allocate(h + tcpLength);
        IpWriter.writeHeader(b, 0, src, dst, IpProtocol.TCP, tcpLength, 7);
        b.putShort(h, (short) sport).putShort(h + 2, (short) dport).putInt(h + 4, seq).putInt(h + 8, ack);
        b.put(h + 12, (byte) ((20 + optionsLength) / 4 << 4)).put(h + 13, (byte) flags).putShort(h + 14, (short) window);
        b.put(h + 20, options);
        b.put(h + 20 + optionsLength, payload);
        IpWriter.fillTransportChecksum(b, 0, v6, IpProtocol.TCP, tcpLength, 16);
        return b.array();
    }

    public static byte[] udp(byte[] src, byte[] dst, int sport, int dport, byte[] payload) {
        boolean v6 = src.length == 16;
        int udpLength = 8 + payload.length;
        int h = IpWriter.headerLength(v6);
        ByteBuffer b = ByteBuffer.allocate(h + udpLength);
        IpWriter.writeHeader(b, 0, src, dst, IpProtocol.UDP, udpLength, 9);
        b.putShort(h, (short) sport).putShort(h + 2, (short) dport).putShort(h + 4, (short) udpLength);
        b.put(h + 8, payload);
        IpWriter.fillTransportChecksum(b, 0, v6, IpProtocol.UDP, udpLength, 6);
        return b.array();
    }

    /** An ICMP (v4) or ICMPv6 message of {@code type} with an echo-style body. */
    public static byte[] icmp(byte[] src, byte[] dst, int type, int identifier, int sequence, byte[] payload) {
        boolean v6 = src.length == 16;
        int length = 8 + payload.length;
        int h = IpWriter.headerLength(v6);
        int protocol = v6 ? IpProtocol.ICMPV6 : IpProtocol.ICMP;
        ByteBuffer b = ByteBuffer.allocate(h + length);
        IpWriter.writeHeader(b, 0, src, dst, protocol, length, 11);
        b.put(h, (byte) type).putShort(h + 4, (short) identifier).putShort(h + 6, (short) sequence);
        b.put(h + 8, payload);
        if (v6)
            IpWriter.fillTransportChecksum(b, 0, true, protocol, length, 2);
        else
            b.putShort(h + 2, (short) Checksum.finish(Checksum.add(b, h, length, 0)));
        return b.array();
    }

    /** RFC 1071 the slow way, byte by byte: the reference for Checksum. */
    public static int referenceChecksum(byte[] b, int offset, int length) {
        long sum = 0;
        for (int i = 0; i < length; i += 2) {
            int hi = b[offset + i] & 0xff;
            int lo = i + 1 < length ? b[offset + i + 1] & 0xff : 0;
            sum += hi << 8 | lo;
        }
        while (sum >>> 16 != 0)
            sum = (sum & 0xffff) + (sum >>> 16);
        return (int) (~sum & 0xffff);
    }
}
