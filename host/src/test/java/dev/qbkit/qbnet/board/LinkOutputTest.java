// LinkOutput at the end of a session: its spare buffers and the bundle it was
// building go to the cache for the next board; bundles the link holds do not.
// And its invariants: no write from inside a send, no half-written packet sent.
// While the board is held: no IP goes out, resets are kept for its return.
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
import dev.qbkit.qbnet.nat.Counter;
import dev.qbkit.qbnet.nat.DirectBufferCache;
import dev.qbkit.qbnet.nat.Stats;
import dev.qbkit.qbnet.packet.IpProtocol;
import dev.qbkit.qbnet.packet.IpWriter;
import dev.qbkit.qbnet.packet.TcpHeader;

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

    /** A bare TCP segment from 10.113.98.1 to the board with these flags. */
    private static void writeTcp(LinkOutput output, int flags) {
        int at = output.begin(40);
        ByteBuffer b = output.buffer();
        int t = at + IpWriter.writeHeader(b, at, new byte[] { 10, 113, 98, 1 }, new byte[] { 10, 113, 98, 2 }, IpProtocol.TCP,
                20, 1);
        b.put(t + 12, (byte) (5 << 4)).put(t + 13, (byte) flags);
        output.commit(40);
    }

    /** "control" or "ip:FLAGS" for each frame the link was given, in order. */
    private static List<String> frames(HoldingLink link) {
        List<String> out = new ArrayList<>();
        for (ByteBuffer bundle : link.held)
            Bundles.forEachFrame(bundle, 0, bundle.remaining(), (c, b, o, l) -> out.add(
                    c == Bundles.CHANNEL_IP ? "ip:" + b.get(o + 20 + 13) : "control"));
        return out;
    }

    @Test
    void whileHeldNothingIsSentAndResetsWaitForTheNextConfiguration() {
        HoldingLink link = new HoldingLink();
        Stats stats = new Stats();
        LinkOutput output = new LinkOutput(link, stats, new DirectBufferCache(16L << 20));
        writeTcp(output, TcpHeader.ACK); // built before the link went: lost with it
        output.detachLink(); // as from inside a send that found the link gone
        output.holdIp();
        assertTrue(output.congested(), "flows see a link with no room");
        writeTcp(output, TcpHeader.ACK); // an ack: pointless later, dropped
        writeTcp(output, TcpHeader.RST | TcpHeader.ACK); // a flow ended meanwhile: kept
        output.flush();
        assertEquals(List.of(), link.held, "nothing reaches the old link");
        assertEquals(1, output.heldResets());
        assertEquals(2, stats.get(Counter.DROP_LINK_HELD), "the bundle in the making, and the ack");

        HoldingLink next = new HoldingLink();
        output.attachLink(next);
        output.sendControl(new byte[] { 2, 0 }); // CONFIG goes out while IP is still held
        writeTcp(output, TcpHeader.ACK);
        output.releaseIp(true);
        writeTcp(output, TcpHeader.ACK | TcpHeader.PSH);
        output.flush();
        assertEquals(List.of("control", "ip:" + (TcpHeader.RST | TcpHeader.ACK), "ip:" + (TcpHeader.ACK | TcpHeader.PSH)),
                frames(next), "CONFIG, the kept reset, then IP as usual");
        assertEquals(1, stats.get(Counter.TCP_HELD_RESETS));
        assertEquals(3, stats.get(Counter.DROP_LINK_HELD));
        assertTrue(!output.congested());
    }

    @Test
    void aBoardBackWithAnotherConfigurationGetsNoneOfTheKeptResets() {
        HoldingLink link = new HoldingLink();
        Stats stats = new Stats();
        LinkOutput output = new LinkOutput(link, stats, new DirectBufferCache(16L << 20));
        output.detachLink();
        output.holdIp();
        writeTcp(output, TcpHeader.RST);
        HoldingLink next = new HoldingLink();
        output.attachLink(next);
        output.releaseIp(false);
        output.flush();
        assertEquals(List.of(), frames(next));
        assertEquals(0, stats.get(Counter.TCP_HELD_RESETS));
        assertEquals(1, stats.get(Counter.DROP_LINK_HELD));
    }
}
