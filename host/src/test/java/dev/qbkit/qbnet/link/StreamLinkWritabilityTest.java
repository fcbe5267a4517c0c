// The stream link's "room again" event comes from the loop as a task of its
// own, never from inside send(): a handler that writes when told there is
// room must not be told again while that write is in progress (issue 11).
package dev.qbkit.qbnet.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.qbkit.qbnet.loop.EventLoop;

class StreamLinkWritabilityTest {
    @TempDir
    Path dir;

    private boolean insideSend;
    private final List<String> events = new ArrayList<>();

    @Test
    void roomAgainIsAnEventOfItsOwnNeverInsideASend() throws IOException {
        EventLoop loop = new EventLoop("test-board"); // never started: the test runs its rounds
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(dir.resolve("link.sock")));
            SocketChannel board = SocketChannel.open(server.getLocalAddress());
            board.configureBlocking(false);
            StreamLink link = new StreamLink(server.accept(), loop, "test", Bundles.INITIAL_MAX, Bundles.INITIAL_MAX);
            link.start(new Handler(link));

            // The board does not read: the socket fills, then the queue passes its soft limit.
            int sent = 0;
            while (!link.congested() && sent++ < 10_000)
                link.send(bundle(Bundles.INITIAL_MAX));
            assertTrue(link.congested(), "the link congests when the board does not read");
            events.clear();

            // The board reads everything: the next round empties the queue, and only then is the NAT told.
            ByteBuffer sink = ByteBuffer.allocate(1 << 20);
            while (board.read(sink.clear()) > 0) {
                // drained
            }
            for (int round = 0; round < 10 && events.isEmpty(); round++)
                loop.runOnce();
            assertEquals(List.of("writable, outside send"), events, "one event, from the loop, not from a send");
            loop.runOnce();
            assertEquals(List.of("writable, outside send"), events, "the handler's own send owes it nothing");
        }
    }

    private ByteBuffer bundle(int size) {
        BundleBuilder b = new BundleBuilder();
        b.start(ByteBuffer.allocateDirect(size), size);
        b.addFrame(Bundles.CHANNEL_IP, ByteBuffer.allocate(size - Bundles.HEADER_SIZE - Bundles.FRAME_HEADER_SIZE));
        return b.finish();
    }

    /** A NAT in miniature: told there is room, it sends a bundle at once. */
    private final class Handler implements Link.Handler {
        private final StreamLink link;

        Handler(StreamLink link) {
            this.link = link;
        }

        @Override
        public void onWritable() {
            events.add(insideSend ? "writable, inside send" : "writable, outside send");
            insideSend = true;
            try {
                link.send(bundle(4096));
            } finally {
                insideSend = false;
            }
        }

        @Override
        public void onBundle(ByteBuffer buf, int offset, int length) {
            events.add("bundle");
        }

        @Override
        public void onSent(ByteBuffer bundle) {
            // buffers are not reused here
        }

        @Override
        public void onClosed(String reason) {
            events.add("closed: " + reason);
        }

        @Override
        public void onBadBundle(BundleDrop reason) {
            events.add("bad bundle");
        }
    }
}
