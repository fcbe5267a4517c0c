// A stream link moved to another loop in the middle of a read (a board held
// there takes over its new connection, doc/DESIGN.md "Connections survive an
// unplug"): the old link delivers nothing more, the new one delivers the rest
// of what was read and everything after it, in order, and sends go on in order.
package dev.qbkit.qbnet.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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

class StreamLinkMoveTest {
    @TempDir
    Path dir;

    /** Records the first byte of each bundle's single frame; moves the link when told to. */
    private static final class Recorder implements Link.Handler {
        final List<Integer> got = new ArrayList<>();
        final List<String> closed = new ArrayList<>();
        Link link;
        EventLoop moveTo;
        int moveAt = -1;
        Link moved;

        @Override
        public void onBundle(ByteBuffer buf, int offset, int length) {
            Bundles.forEachFrame(buf, offset, length, (c, b, o, l) -> got.add((int) b.get(o)));
            if (got.size() == moveAt)
                moved = link.moveTo(moveTo);
        }

        @Override
        public void onSent(ByteBuffer bundle) {
        }

        @Override
        public void onWritable() {
        }

        @Override
        public void onClosed(String reason) {
            closed.add(reason);
        }

        @Override
        public void onBadBundle(BundleDrop reason) {
            closed.add("bad " + reason);
        }
    }

    static ByteBuffer bundle(int id, int size) {
        BundleBuilder b = new BundleBuilder();
        b.start(ByteBuffer.allocate(size + 64), size + 64);
        byte[] payload = new byte[size];
        payload[0] = (byte) id;
        b.addFrame(Bundles.CHANNEL_CONTROL, ByteBuffer.wrap(payload));
        return b.finish();
    }

    @Test
    void theRestOfTheReadAndEverythingAfterItGoesToTheNewLoop() throws IOException {
        EventLoop first = new EventLoop("new-board"); // neither started: the test runs their rounds
        EventLoop held = new EventLoop("held-board");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(dir.resolve("link.sock")));
            SocketChannel board = SocketChannel.open(server.getLocalAddress());
            StreamLink link = new StreamLink(server.accept(), first, "test", 65536, 65536);
            Recorder before = new Recorder();
            before.link = link;
            before.moveTo = held;
            before.moveAt = 1;
            link.start(before);
            // Three bundles in one write: the first is the board's HELLO, the two after it are read with it.
            ByteBuffer three = ByteBuffer.allocate(4096);
            for (int id = 1; id <= 3; id++)
                three.put(bundle(id, 100 * id));
            board.write(three.flip());
            for (int round = 0; round < 20 && before.moved == null; round++)
                first.runOnce();
            assertNotNull(before.moved, "moved on the first bundle");
            first.runOnce();
            assertEquals(List.of(1), before.got, "the old link delivered nothing after the move");
            assertEquals(List.of(), before.closed, "and reported no close");
            assertNull(link.moveTo(held), "a moved link cannot move again");
            link.close("the old session ends"); // must not close the connection under the new link

            Recorder after = new Recorder();
            before.moved.start(after); // on the held loop, in a task after the move
            for (int round = 0; round < 5; round++)
                held.runOnce();
            assertEquals(List.of(2, 3), after.got, "the rest of the read, in order");
            board.write(bundle(4, 50000));
            for (int round = 0; round < 20 && after.got.size() < 3; round++)
                held.runOnce();
            assertEquals(List.of(2, 3, 4), after.got, "and what comes after");
            assertTrue(before.moved.send(bundle(9, 10)), "sending goes on on the new loop");
            ByteBuffer in = ByteBuffer.allocate(4096);
            board.read(in);
            assertEquals(9, in.get(Bundles.HEADER_SIZE + Bundles.FRAME_HEADER_SIZE));
            assertEquals(List.of(), after.closed);
        }
    }
}
