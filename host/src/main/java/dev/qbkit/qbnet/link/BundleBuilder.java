// Assembles outbound bundles in place: frames are appended to one buffer and
// the header's length is filled in when the bundle is finished. Packets are
// written straight into the buffer, so a packet is built exactly once.
package dev.qbkit.qbnet.link;

import java.nio.ByteBuffer;

public final class BundleBuilder {
    private ByteBuffer buf;
    private int limit;
    private int frameStart = -1;
    private int frames;

    /** Starts a bundle in {@code target} holding at most {@code maxBundle} bytes. */
    public void start(ByteBuffer target, int maxBundle) {
        buf = target;
        limit = Math.min(maxBundle, target.capacity());
        buf.clear();
        buf.put(0, Bundles.MAGIC_0).put(1, Bundles.MAGIC_1).put(2, (byte) Bundles.FORMAT).put(3, (byte) 0);
        LittleEndian.putU32(buf, 4, Bundles.HEADER_SIZE);
        buf.position(Bundles.HEADER_SIZE);
        frames = 0;
        frameStart = -1;
    }

    public boolean isStarted() {
        return buf != null;
    }

    public int frames() {
        return frames;
    }

    /** Whether a frame was begun and not yet ended or cancelled. */
    public boolean frameOpen() {
        return frameStart >= 0;
    }

    public int size() {
        return buf.position();
    }

    /** Whether a frame with {@code payloadLength} bytes still fits. */
    public boolean fits(int payloadLength) {
        return buf.position() + Bundles.FRAME_HEADER_SIZE + (long) payloadLength <= limit;
    }

    /**
     * Opens a frame on {@code channel}; the payload is to be written from the
     * returned absolute index on, then {@link #endFrame} called.
     */
    public int beginFrame(int channel) {
        return beginFrame(channel, 0);
    }

    /** Opens a frame with the given frame flags (PROTOCOL.md section 2). */
    public int beginFrame(int channel, int flags) {
        if (frameStart >= 0)
            throw new IllegalStateException("frame already open");
        assert buf != null : "no bundle started";
        frameStart = buf.position();
        LittleEndian.putU16(buf, frameStart, channel);
        LittleEndian.putU16(buf, frameStart + 2, flags);
        return frameStart + Bundles.FRAME_HEADER_SIZE;
    }

    public void endFrame(int payloadLength) {
        if (frameStart < 0)
            throw new IllegalStateException("no frame open");
        int end = frameStart + Bundles.FRAME_HEADER_SIZE + payloadLength;
        if (payloadLength < 0 || end > limit)
            throw new IllegalStateException("frame overruns the bundle");
        LittleEndian.putU32(buf, frameStart + 4, payloadLength);
        buf.position(end);
        frameStart = -1;
        frames++;
    }

    /** Forgets the frame begun last, as if it had never been begun. */
    public void cancelFrame() {
        if (frameStart < 0)
            throw new IllegalStateException("no frame open");
        buf.position(frameStart);
        frameStart = -1;
    }

    /** Appends a whole frame copied from {@code payload}. */
    public void addFrame(int channel, ByteBuffer payload) {
        int at = beginFrame(channel);
        int length = payload.remaining();
        buf.put(at, payload, payload.position(), length);
        endFrame(length);
    }

    /** The buffer being filled (absolute indices, as returned by {@link #beginFrame}). */
    public ByteBuffer buffer() {
        return buf;
    }

    /** Forgets the bundle being built, frames and all, and returns its buffer (null when none). */
    public ByteBuffer abandon() {
        ByteBuffer dropped = buf;
        buf = null;
        frameStart = -1;
        frames = 0;
        return dropped;
    }

    /** Writes the length, flips the buffer for sending and forgets it. */
    public ByteBuffer finish() {
        if (frameStart >= 0)
            throw new IllegalStateException("frame still open");
        assert buf.position() <= limit : "bundle past its limit";
        LittleEndian.putU32(buf, 4, buf.position());
        buf.flip();
        ByteBuffer done = buf;
        buf = null;
        return done;
    }
}
