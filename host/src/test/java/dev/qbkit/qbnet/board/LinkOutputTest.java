// LinkOutput at the end of a session: its spare buffers and the bundle it was
// building go to the cache for the next board; bundles the link holds do not.
package dev.qbkit.qbnet.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.nat.DirectBufferCache;
import dev.qbkit.qbnet.nat.Stats;

final class LinkOutputTest {
    /** Keeps every bundle sent until the test says the link is done with it. */
    private static final class HoldingLink extends BoardSessionCloseTest.UnpluggingLink {
        final List<ByteBuffer> held = new ArrayList<>();

        @Override
        public boolean send(ByteBuffer bundle) {
            held.add(bundle);
            return true;
        }
    }

    @Test
    void closingGivesTheIdleBuffersToTheCacheAndKeepsTheHeldOnesOut() {
        DirectBufferCache cache = new DirectBufferCache(16L << 20);
        HoldingLink link = new HoldingLink();
        LinkOutput output = new LinkOutput(link, new Stats(), cache);
        output.sendControl(new byte[] { 1, 2, 3 });
        output.flush();
        output.sendControl(new byte[] { 4, 5, 6 });
        output.flush();
        ByteBuffer inFlight = link.held.get(0);
        ByteBuffer sent = link.held.get(1);
        output.recycle(sent); // the link is done with the second bundle: it becomes a spare
        output.sendControl(new byte[] { 7 }); // built in that spare, never flushed
        output.close();

        assertEquals(Bundles.INITIAL_MAX, cache.cachedBytes(), "only the unsent bundle's buffer is kept");
        ByteBuffer next = cache.take(Bundles.INITIAL_MAX);
        assertSame(sent, next);
        assertNotSame(inFlight, cache.take(Bundles.INITIAL_MAX), "a bundle the link holds is never reused");
    }

    @Test
    void aNewMaximumBundleSizeGivesTheOldSparesToTheCache() {
        DirectBufferCache cache = new DirectBufferCache(16L << 20);
        HoldingLink link = new HoldingLink();
        LinkOutput output = new LinkOutput(link, new Stats(), cache);
        output.sendControl(new byte[] { 1 });
        output.flush();
        output.recycle(link.held.get(0));
        output.setMaxBundle(4 * Bundles.INITIAL_MAX);
        assertEquals(Bundles.INITIAL_MAX, cache.cachedBytes());
    }
}
