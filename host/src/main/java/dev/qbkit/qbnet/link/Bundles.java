// Bundle and frame layout of the link protocol (doc/PROTOCOL.md section 2):
// validation of a received bundle as a whole, then a walk over its frames.
// Pure functions over a ByteBuffer region; no allocation on the accept path.
package dev.qbkit.qbnet.link;

import java.nio.ByteBuffer;

public final class Bundles {
    public static final int HEADER_SIZE = 8;
    public static final int FRAME_HEADER_SIZE = 8;
    public static final int ABSOLUTE_MAX = 1 << 20;
    /** What a peer may send before it has the other side's HELLO. */
    public static final int INITIAL_MAX = 16384;
    public static final int MIN_ADVERTISED_MAX = 16384;
    public static final byte MAGIC_0 = 0x71;
    public static final byte MAGIC_1 = 0x62;
    public static final int FORMAT = 1;

    public static final int CHANNEL_CONTROL = 0;
    public static final int CHANNEL_IP = 1;
    /** Frame flag on channel 1: the payload starts with an {@link OffloadHeader} (section 7). */
    public static final int FRAME_OFFLOAD = 1;

    /** Receives the frames of an accepted bundle, in order. */
    @FunctionalInterface
    public interface FrameHandler {
        void onFrame(int channel, ByteBuffer buf, int payloadOffset, int payloadLength);
    }

    private Bundles() {
    }

    /**
     * Checks the bundle header at {@code offset}: magic and format, and that
     * the declared length lies within [8, maxBundle]. Used by stream readers
     * before they know how many bytes to wait for.
     *
     * @return null when the header is acceptable
     */
    public static BundleDrop checkHeader(ByteBuffer buf, int offset, int maxBundle) {
        if (buf.get(offset) != MAGIC_0 || buf.get(offset + 1) != MAGIC_1)
            return BundleDrop.BAD_MAGIC;
        if (Byte.toUnsignedInt(buf.get(offset + 2)) != FORMAT)
            return BundleDrop.BAD_FORMAT;
        long length = declaredLength(buf, offset);
        if (length < HEADER_SIZE || length > maxBundle)
            return BundleDrop.BAD_LENGTH;
        return null;
    }

    public static long declaredLength(ByteBuffer buf, int offset) {
        return LittleEndian.u32(buf, offset + 4);
    }

    /**
     * Validates the bundle that a transport delivered as {@code length} bytes
     * at {@code offset}: header, exact length, and a frame walk that fills the
     * bundle exactly.
     *
     * @return null when the bundle is accepted whole, else why it is dropped
     */
    public static BundleDrop validate(ByteBuffer buf, int offset, int length, int maxBundle) {
        if (length < HEADER_SIZE)
            return length >= 2 && (buf.get(offset) != MAGIC_0 || buf.get(offset + 1) != MAGIC_1)
                    ? BundleDrop.BAD_MAGIC : BundleDrop.BAD_LENGTH;
        BundleDrop header = checkHeader(buf, offset, maxBundle);
        if (header != null)
            return header;
        if (declaredLength(buf, offset) != length)
            return BundleDrop.BAD_LENGTH;
        long pos = HEADER_SIZE;
        while (pos < length) {
            if (length - pos < FRAME_HEADER_SIZE)
                return BundleDrop.TRUNCATED_FRAME;
            long payload = LittleEndian.u32(buf, offset + (int) pos + 4);
            pos += FRAME_HEADER_SIZE + payload;
            if (pos > length)
                return BundleDrop.TRUNCATED_FRAME;
        }
        return null;
    }

    /** Hands each frame of a bundle that {@link #validate} accepted to the handler. */
    public static int forEachFrame(ByteBuffer buf, int offset, int length, FrameHandler handler) {
        int pos = offset + HEADER_SIZE;
        int end = offset + length;
        int frames = 0;
        while (pos < end) {
            int channel = LittleEndian.u16(buf, pos);
            int payloadLength = (int) LittleEndian.u32(buf, pos + 4);
            handler.onFrame(channel, buf, pos + FRAME_HEADER_SIZE, payloadLength);
            pos += FRAME_HEADER_SIZE + payloadLength;
            frames++;
        }
        return frames;
    }
}
