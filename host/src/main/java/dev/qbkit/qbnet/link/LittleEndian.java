// Little-endian integer access for the link protocol's headers and TLVs.
// Link buffers keep Java's default big-endian order (IP headers inside them
// are big-endian); these helpers swap at the few places the protocol needs LE.
package dev.qbkit.qbnet.link;

import java.nio.ByteBuffer;

public final class LittleEndian {
    private LittleEndian() {
    }

    public static int u16(ByteBuffer buf, int index) {
        return Short.toUnsignedInt(Short.reverseBytes(buf.getShort(index)));
    }

    public static long u32(ByteBuffer buf, int index) {
        return Integer.toUnsignedLong(Integer.reverseBytes(buf.getInt(index)));
    }

    public static void putU16(ByteBuffer buf, int index, int value) {
        buf.putShort(index, Short.reverseBytes((short) value));
    }

    public static void putU32(ByteBuffer buf, int index, long value) {
        buf.putInt(index, Integer.reverseBytes((int) value));
    }
}
