// A parsed view of one IPv4 or IPv6 packet inside a larger buffer: header
// fields and where the transport payload lies. Reused for every packet, so
// parsing allocates nothing; parse() rejects anything malformed.
package dev.qbkit.qbnet.packet;

import java.nio.ByteBuffer;

public final class IpPacket {
    /** Why a packet was rejected; names appear in counters and logs. */
    public enum Reject {
        TOO_SHORT, BAD_VERSION, BAD_HEADER_LENGTH, BAD_TOTAL_LENGTH, FRAGMENT, BAD_EXTENSION_HEADER
    }

    public static final int IPV4_HEADER = 20;
    public static final int IPV6_HEADER = 40;

    private ByteBuffer buf;
    private int offset;
    private int length;
    private boolean ipv6;
    private int headerLength;
    private int protocol;
    private int ttl;
    private Reject reject;

    /**
     * Parses the packet at {@code buf[offset, offset+length)}.
     *
     * @return false when malformed ({@link #reject()} says why)
     */
    public boolean parse(ByteBuffer buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        reject = null;
        if (length < IPV4_HEADER)
            return fail(Reject.TOO_SHORT);
        int version = Byte.toUnsignedInt(buf.get(offset)) >>> 4;
        if (version == 4)
            return parseIpv4(length);
        if (version == 6)
            return parseIpv6(length);
        return fail(Reject.BAD_VERSION);
    }

    private boolean parseIpv4(int available) {
        ipv6 = false;
        headerLength = (buf.get(offset) & 0x0F) * 4;
        if (headerLength < IPV4_HEADER || headerLength > available)
            return fail(Reject.BAD_HEADER_LENGTH);
        int total = Short.toUnsignedInt(buf.getShort(offset + 2));
        if (total < headerLength || total > available)
            return fail(Reject.BAD_TOTAL_LENGTH);
        int fragment = Short.toUnsignedInt(buf.getShort(offset + 6));
        if ((fragment & 0x3FFF) != 0) // MF set or a non-zero offset
            return fail(Reject.FRAGMENT);
        length = total;
        ttl = Byte.toUnsignedInt(buf.get(offset + 8));
        protocol = Byte.toUnsignedInt(buf.get(offset + 9));
        return true;
    }

    private boolean parseIpv6(int available) {
        ipv6 = true;
        if (available < IPV6_HEADER)
            return fail(Reject.TOO_SHORT);
        int payload = Short.toUnsignedInt(buf.getShort(offset + 4));
        if (IPV6_HEADER + payload > available)
            return fail(Reject.BAD_TOTAL_LENGTH);
        length = IPV6_HEADER + payload;
        ttl = Byte.toUnsignedInt(buf.get(offset + 7));
        int next = Byte.toUnsignedInt(buf.get(offset + 6));
        int pos = IPV6_HEADER;
        // Skip hop-by-hop, routing and destination options headers.
        while (next == 0 || next == 43 || next == 60) {
            if (pos + 8 > length)
                return fail(Reject.BAD_EXTENSION_HEADER);
            int extLength = (Byte.toUnsignedInt(buf.get(offset + pos + 1)) + 1) * 8;
            next = Byte.toUnsignedInt(buf.get(offset + pos));
            pos += extLength;
            if (pos > length)
                return fail(Reject.BAD_EXTENSION_HEADER);
        }
        if (next == 44)
            return fail(Reject.FRAGMENT);
        headerLength = pos;
        protocol = next;
        return true;
    }

    private boolean fail(Reject why) {
        reject = why;
        return false;
    }

    public Reject reject() {
        return reject;
    }

    public ByteBuffer buffer() {
        return buf;
    }

    public int offset() {
        return offset;
    }

    /** Length of the packet per its header (trailing link padding excluded). */
    public int length() {
        return length;
    }

    public boolean isIpv6() {
        return ipv6;
    }

    public int protocol() {
        return protocol;
    }

    public int ttl() {
        return ttl;
    }

    /** Offset of the transport header (after any IPv6 extension headers). */
    public int payloadOffset() {
        return offset + headerLength;
    }

    public int payloadLength() {
        return length - headerLength;
    }

    public int addressLength() {
        return ipv6 ? 16 : 4;
    }

    public int sourceOffset() {
        return offset + (ipv6 ? 8 : 12);
    }

    public int destinationOffset() {
        return offset + (ipv6 ? 24 : 16);
    }

    public byte[] source() {
        byte[] a = new byte[addressLength()];
        buf.get(sourceOffset(), a);
        return a;
    }

    public byte[] destination() {
        byte[] a = new byte[addressLength()];
        buf.get(destinationOffset(), a);
        return a;
    }
}
