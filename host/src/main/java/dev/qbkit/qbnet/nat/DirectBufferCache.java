// Direct buffers kept from one board's session for the next: when a session
// ends (unplug, daemon restart) its idle bundle buffers and flow chunks come
// here and the next session takes them, so a replug allocates no native memory.
package dev.qbkit.qbnet.nat;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

public final class DirectBufferCache {
    /** The process's cache, shared by every board (each on its own loop thread). */
    public static final DirectBufferCache SHARED = new DirectBufferCache(16L << 20);

    private final long maxBytes;
    private final Map<Integer, ArrayDeque<ByteBuffer>> byCapacity = new HashMap<>();
    private long cachedBytes;

    /** @param maxBytes the most it keeps; buffers given beyond it are left to the GC */
    public DirectBufferCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** A cleared direct buffer of exactly {@code capacity} bytes: a kept one, or a new one. */
    public synchronized ByteBuffer take(int capacity) {
        ArrayDeque<ByteBuffer> kept = byCapacity.get(capacity);
        ByteBuffer buffer = kept == null ? null : kept.poll();
        if (buffer == null)
            return ByteBuffer.allocateDirect(capacity);
        cachedBytes -= capacity;
        return buffer.clear();
    }

    /**
     * Keeps {@code buffer} for a later {@link #take}. The caller must be done
     * with it: nothing else (a transfer in flight above all) may still use it.
     */
    public synchronized void give(ByteBuffer buffer) {
        if (!buffer.isDirect() || cachedBytes + buffer.capacity() > maxBytes)
            return;
        byCapacity.computeIfAbsent(buffer.capacity(), c -> new ArrayDeque<>()).add(buffer);
        cachedBytes += buffer.capacity();
    }

    /** Bytes kept now (for status and tests). */
    public synchronized long cachedBytes() {
        return cachedBytes;
    }
}
