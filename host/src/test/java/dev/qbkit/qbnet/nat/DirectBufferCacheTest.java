// DirectBufferCache and BufferPool: buffers a board's session is done with are
// reused by the next one, within the cache's budget, and never handed out twice.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

final class DirectBufferCacheTest {

    @Test
    void aGivenBufferIsTakenAgainClearedAndOnlyOnce() {
        DirectBufferCache cache = new DirectBufferCache(1 << 20);
        ByteBuffer first = cache.take(4096);
        assertTrue(first.isDirect());
        assertEquals(4096, first.capacity());
        first.position(100).limit(200);
        cache.give(first);
        assertEquals(4096, cache.cachedBytes());
        ByteBuffer again = cache.take(4096);
        assertSame(first, again);
        assertEquals(0, again.position());
        assertEquals(4096, again.limit());
        assertEquals(0, cache.cachedBytes());
        assertNotSame(again, cache.take(4096), "a buffer kept once is handed out once");
    }

    @Test
    void capacitiesAreKeptApart() {
        DirectBufferCache cache = new DirectBufferCache(1 << 20);
        ByteBuffer small = cache.take(1024);
        cache.give(small);
        ByteBuffer big = cache.take(2048);
        assertEquals(2048, big.capacity());
        assertSame(small, cache.take(1024));
    }

    @Test
    void beyondTheBudgetAndHeapBuffersAreLeftToTheGc() {
        DirectBufferCache cache = new DirectBufferCache(8192);
        cache.give(ByteBuffer.allocateDirect(4096));
        cache.give(ByteBuffer.allocateDirect(4096));
        cache.give(ByteBuffer.allocateDirect(4096));
        cache.give(ByteBuffer.allocate(16));
        assertEquals(8192, cache.cachedBytes());
    }

    @Test
    void aClosedPoolGivesItsReserveToTheCache() {
        DirectBufferCache cache = new DirectBufferCache(16L << 20);
        BufferPool pool = new BufferPool(1 << 20, 2, cache);
        ByteBuffer a = pool.take();
        ByteBuffer b = pool.take();
        ByteBuffer c = pool.take();
        pool.give(a);
        pool.give(b);
        pool.give(c); // over the reserve of 2: straight to the cache
        assertEquals(BufferPool.CHUNK_SIZE, cache.cachedBytes());
        assertEquals(0, pool.inUseBytes());
        pool.close();
        assertEquals(3L * BufferPool.CHUNK_SIZE, cache.cachedBytes());
        BufferPool next = new BufferPool(1 << 20, 2, cache);
        ByteBuffer reused = next.take();
        assertTrue(reused == a || reused == b || reused == c, "the next board's pool reuses a chunk");
    }
}
