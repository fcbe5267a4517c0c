// The 8-byte offload header of PROTOCOL.md section 7, written before an IP
// packet in an OFFLOAD frame: checksum-partial flag, GSO type and size, and
// where the board's kernel finds the checksum to complete.
package dev.qbkit.qbnet.link;

import java.nio.ByteBuffer;

public final class OffloadHeader {
    public static final int SIZE = 8;
    public static final int CSUM_PARTIAL = 1;
    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_TCPV6 = 2;

    private OffloadHeader() {
    }

    /** Writes the header at {@code at} (little-endian fields). */
    public static void write(ByteBuffer buf, int at, int flags, int gsoType, int gsoSize, int csumStart, int csumOffset) {
        buf.put(at, (byte) flags);
        buf.put(at + 1, (byte) gsoType);
        LittleEndian.putU16(buf, at + 2, gsoSize);
        LittleEndian.putU16(buf, at + 4, csumStart);
        LittleEndian.putU16(buf, at + 6, csumOffset);
    }
}
