// The Internet checksum (RFC 1071) over ByteBuffer regions, eight bytes at a
// time, plus the IPv4/IPv6 pseudo-header sums that TCP, UDP and ICMPv6 use.
package dev.qbkit.qbnet.packet;

import java.nio.ByteBuffer;

public final class Checksum {
    private Checksum() {
    }

    /**
     * Adds the 16-bit big-endian words of {@code buf[offset, offset+length)}
     * to {@code sum}. The region's first byte is the high byte of a word.
     * The result is unfolded; pass it on or {@link #finish} it.
     */
    public static long add(ByteBuffer buf, int offset, int length, long sum) {
        int i = offset;
        int end = offset + length;
        // Each step adds two 32-bit halves (< 2^33): a long cannot overflow
        // before 2^30 steps, far beyond any packet.
        while (end - i >= 8) {
            long v = buf.getLong(i);
            sum += (v >>> 32) + (v & 0xFFFFFFFFL);
            i += 8;
        }
        if (end - i >= 4) {
            sum += Integer.toUnsignedLong(buf.getInt(i));
            i += 4;
        }
        if (end - i >= 2) {
            sum += Short.toUnsignedInt(buf.getShort(i));
            i += 2;
        }
        if (i < end)
            sum += (Byte.toUnsignedInt(buf.get(i))) << 8;
        return sum;
    }

    /** Folds a sum to 16 bits and complements it: the value to put in a header. */
    public static int finish(long sum) {
        while ((sum >>> 16) != 0)
            sum = (sum & 0xFFFF) + (sum >>> 16);
        return (int) (~sum & 0xFFFF);
    }

    /** Pseudo-header sum for an upper-layer checksum; addresses are read from the IP header in {@code buf}. */
    public static long pseudoHeader(ByteBuffer buf, int ipOffset, boolean ipv6, int protocol, int upperLength) {
        if (ipv6)
            return add(buf, ipOffset + 8, 32, 0) + upperLength + protocol;
        return add(buf, ipOffset + 12, 8, 0) + upperLength + protocol;
    }

    /** Whether the region (which includes its checksum field) sums to all ones. */
    public static boolean verifies(long sum) {
        return finish(sum) == 0;
    }
}
