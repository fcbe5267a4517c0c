// Fixed-size direct chunks for flow buffers, capped per board. Flows take
// chunks only while they hold data, so an idle flow holds none; freed chunks
// are kept for reuse up to a small reserve, the rest go to DirectBufferCache.
package dev.qbkit.qbnet.nat;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

public final class BufferPool {
    public static final int CHUNK_SIZE = 64 * 1024;

    private final long maxBytes;
    private final int reserveChunks;
    private final DirectBufferCache cache;
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private long inUseBytes;
    private long peakBytes;

    public BufferPool(long maxBytes, int reserveChunks) {
        this(maxBytes, reserveChunks, DirectBufferCache.SHARED);
    }

    public BufferPool(long maxBytes, int reserveChunks, DirectBufferCache cache) {
        this.maxBytes = maxBytes;
        this.reserveChunks = reserveChunks;
        this.cache = cache;
    }

    /** A cleared chunk, or null when the per-board cap is reached. */
    public ByteBuffer take() {
        if (inUseBytes + CHUNK_SIZE > maxBytes)
            return null;
        ByteBuffer chunk = free.poll();
        if (chunk == null)
            chunk = cache.take(CHUNK_SIZE);
        chunk.clear();
        inUseBytes += CHUNK_SIZE;
        peakBytes = Math.max(peakBytes, inUseBytes);
        return chunk;
    }

    public void give(ByteBuffer chunk) {
        inUseBytes -= CHUNK_SIZE;
        if (free.size() < reserveChunks)
            free.add(chunk);
        else
            cache.give(chunk);
    }

    /** The board is gone and its flows have given their chunks back: the reserve goes to the shared cache. */
    public void close() {
        for (ByteBuffer chunk; (chunk = free.poll()) != null;)
            cache.give(chunk);
    }

    /** Counts {@code n} bytes held outside chunks (reassembly) against the cap; false when over it. */
    public boolean reserve(long n) {
        if (inUseBytes + n > maxBytes)
            return false;
        inUseBytes += n;
        peakBytes = Math.max(peakBytes, inUseBytes);
        return true;
    }

    public void release(long n) {
        inUseBytes -= n;
    }

    public long inUseBytes() {
        return inUseBytes;
    }

    public long peakBytes() {
        return peakBytes;
    }

    public long maxBytes() {
        return maxBytes;
    }
}
