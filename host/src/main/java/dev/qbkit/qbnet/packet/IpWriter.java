// Writes IPv4 and IPv6 headers for packets the NAT sends to the board, and
// fills in transport checksums over the finished packet.
package dev.qbkit.qbnet.packet;

import java.nio.ByteBuffer;

public final class IpWriter {
    public static final int DEFAULT_TTL = 64;

    private IpWriter() {
    }

    public static int headerLength(boolean ipv6) {
        return ipv6 ? IpPacket.IPV6_HEADER : IpPacket.IPV4_HEADER;
    }

    /**
     * Writes an IP header at {@code offset} for a payload of
     * {@code payloadLength} bytes; the address lengths choose the version.
     *
     * @return the header length
     */
    public static int writeHeader(ByteBuffer buf, int offset, byte[] source, byte[] destination, int protocol,
            int payloadLength, int id) {
        if (source.length == 16) {
            buf.putInt(offset, 6 << 28);
            buf.putShort(offset + 4, (short) payloadLength);
            buf.put(offset + 6, (byte) protocol);
            buf.put(offset + 7, (byte) DEFAULT_TTL);
            buf.put(offset + 8, source);
            buf.put(offset + 24, destination);
            return IpPacket.IPV6_HEADER;
        }
        buf.put(offset, (byte) 0x45);
        buf.put(offset + 1, (byte) 0);
        buf.putShort(offset + 2, (short) (IpPacket.IPV4_HEADER + payloadLength));
        buf.putShort(offset + 4, (short) id);
        buf.putShort(offset + 6, (short) 0x4000); // DF
        buf.put(offset + 8, (byte) DEFAULT_TTL);
        buf.put(offset + 9, (byte) protocol);
        buf.putShort(offset + 10, (short) 0);
        buf.put(offset + 12, source);
        buf.put(offset + 16, destination);
        buf.putShort(offset + 10, (short) Checksum.finish(Checksum.add(buf, offset, IpPacket.IPV4_HEADER, 0)));
        return IpPacket.IPV4_HEADER;
    }

    /**
     * Computes and stores the checksum of a TCP, UDP or ICMPv6 payload that
     * starts right after the IP header at {@code ipOffset}.
     */
    public static void fillTransportChecksum(ByteBuffer buf, int ipOffset, boolean ipv6, int protocol,
            int transportLength, int checksumFieldOffset) {
        int transportOffset = ipOffset + headerLength(ipv6);
        buf.putShort(transportOffset + checksumFieldOffset, (short) 0);
        long sum = Checksum.pseudoHeader(buf, ipOffset, ipv6, protocol, transportLength);
        int checksum = Checksum.finish(Checksum.add(buf, transportOffset, transportLength, sum));
        if (checksum == 0 && protocol == IpProtocol.UDP)
            checksum = 0xFFFF;
        buf.putShort(transportOffset + checksumFieldOffset, (short) checksum);
    }
}
