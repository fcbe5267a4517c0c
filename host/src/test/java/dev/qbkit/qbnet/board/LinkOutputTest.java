// LinkOutput at the end of a session: its spare buffers and the bundle it was
// building go to the cache for the next board; bundles the link holds do not.
// And its invariants: no write from inside a send, no half-written packet sent.
package dev.qbkit.qbnet.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** A link that breaks the rule: it lets its handler write from inside send(). */
    private static final class ReenteringLink extends BoardSessionCloseTest.UnpluggingLink {
        Runnable duringSend = () -> {
        };

        @Override
        public boolean send(ByteBuffer bundle) {
            duringSend.run();
            return true;
        }
    }

    @Test
    void aWriteFromInsideASendFailsAtItsSource() {
        ReenteringLink link = new ReenteringLink();
        LinkOutput output = new LinkOutput(link, new Stats(), new DirectBufferCache(16L << 20));
        link.duringSend = () -> output.sendControl(new byte[] { 9 });
        output.sendControl(new byte[] { 1 });
        AssertionError e = assertThrows(AssertionError.class, output::flush);
        assertTrue(e.getMessage().startsWith("re-entrant write"), e.getMessage());
    }

    @Test
    void aPacketLeftOpenByAFailedWriterIsForgotten() {
        HoldingLink link = new HoldingLink();
        LinkOutput output = new LinkOutput(link, new Stats(), new DirectBufferCache(16L << 20));
        output.sendControl(new byte[] { 1, 2 });
        output.begin(100); // a writer that throws before commit
        output.abortPacket();
        output.sendControl(new byte[] { 3 });
        output.flush();
        ByteBuffer sent = link.held.getFirst();
        assertNull(Bundles.validate(sent, 0, sent.remaining(), Bundles.INITIAL_MAX));
        assertEquals(2, Bundles.forEachFrame(sent, 0, sent.remaining(), (c, b, o, l) -> {
        }), "the two control frames, nothing of the abandoned packet");
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
