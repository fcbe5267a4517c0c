// The real links take a bundle that carries a control message past their
// hard limit, into a reserve data cannot use (issue 14, defect 1): a board
// whose link is full of data still gets KEEPALIVE, CONFIG and ERROR.
package dev.qbkit.qbnet.link;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.qbkit.qbnet.loop.EventLoop;

class ControlReserveTest {
    @TempDir
    Path dir;

    static final class Quiet implements Link.Handler {
        @Override
        public void onBundle(ByteBuffer buf, int offset, int length) {
        }

        @Override
        public void onSent(ByteBuffer bundle) {
        }

        @Override
        public void onWritable() {
        }

        @Override
        public void onClosed(String reason) {
        }

        @Override
        public void onBadBundle(BundleDrop reason) {
        }
    }

    @Test
    void aStreamLinkFullOfDataStillTakesAControlBundle() throws Exception {
        EventLoop loop = new EventLoop("reserve-test"); // never started
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(dir.resolve("link.sock")));
            SocketChannel board = SocketChannel.open(server.getLocalAddress()); // never reads
            StreamLink link = new StreamLink(server.accept(), loop, "test", 262144, 262144);
            link.start(new Quiet());
            ByteBuffer data = ByteBuffer.allocateDirect(Bundles.ABSOLUTE_MAX);
            int taken = 0;
            while (taken < 200 && link.send(data.duplicate()))
                taken++;
            assertTrue(taken < 200, "the link never refused data");
            int small = 0; // then small data bundles until not even those fit
            while (small < 100_000 && link.send(ByteBuffer.allocateDirect(40)))
                small++;
            assertTrue(small < 100_000, "the link never refused small data bundles");
            ByteBuffer keepalive = ByteBuffer.allocateDirect(40);
            assertTrue(link.sendPriority(keepalive), "a control bundle was refused with data");
            assertFalse(link.send(ByteBuffer.allocateDirect(40)), "data used the reserve");
            int reserved = 0;
            while (reserved < 200 && link.sendPriority(data.duplicate()))
                reserved++;
            assertTrue(reserved > 0 && reserved < 200, "the reserve is bounded: " + reserved + " more bundles");
            link.close("test over");
            board.close();
        } finally {
            loop.runOnce();
        }
    }
}
