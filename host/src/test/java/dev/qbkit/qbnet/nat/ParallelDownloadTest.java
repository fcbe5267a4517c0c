// Several fast flows toward the board at once, through the real LinkOutput
// and StreamLink on a socket pair (issue 11): the link drains while flows wait
// for room, and every bundle the board reads must be whole, every flow exact.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.qbkit.qbnet.board.LinkOutput;
import dev.qbkit.qbnet.link.BundleDrop;
import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.link.LittleEndian;
import dev.qbkit.qbnet.link.OffloadHeader;
import dev.qbkit.qbnet.link.StreamLink;
import dev.qbkit.qbnet.loop.EventLoop;

class ParallelDownloadTest {
    static final int MAX_BUNDLE = 262144;
    static final int IRS = 5000;
    static final int FIRST_PORT = 40000;
    /** The board reads everything the link holds each round, as qbnetd does on its own core. */
    static final int BOARD_READ_PER_ROUND = 4 << 20;

    @TempDir
    Path dir;

    @Test
    void eightFlowsDownloadingAtOnceKeepEveryBundleWhole() throws IOException {
        downloadInParallel(8, 3 << 20);
    }

    @Test
    void sixtyFourFlowsDownloadingAtOnceKeepEveryBundleWhole() throws IOException {
        downloadInParallel(64, 256 << 10);
    }

    private void downloadInParallel(int flows, int bytesPerFlow) throws IOException {
        EventLoop loop = new EventLoop("test-board"); // never started: the test runs its rounds
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(dir.resolve("link.sock")));
            SocketChannel board = SocketChannel.open(server.getLocalAddress());
            SocketChannel host = server.accept();
            // Room for the whole queue, as a reader on another core makes: a write can then empty
            // the queue inside send(), where the link used to report writability (issue 11).
            host.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
            board.configureBlocking(false);
            StreamLink link = new StreamLink(host, loop, "test", MAX_BUNDLE, MAX_BUNDLE);
            Stats stats = new Stats();
            LinkOutput output = new LinkOutput(link, stats, new DirectBufferCache(16L << 20));
            output.setMaxBundle(MAX_BUNDLE);
            output.setOffload(true);
            ScriptedNat nat = new ScriptedNat(NatConfig.defaults(), output);
            List<String> closed = new ArrayList<>();
            link.start(new Link.Handler() {
                @Override
                public void onBundle(ByteBuffer buf, int offset, int length) {
                    fail("the board sent nothing");
                }

                @Override
                public void onSent(ByteBuffer bundle) {
                    output.recycle(bundle);
                }

                @Override
                public void onWritable() {
                    nat.linkWaiters().drain(output); // what Nat.onLinkWritable does
                }

                @Override
                public void onClosed(String reason) {
                    closed.add(reason);
                }

                @Override
                public void onBadBundle(BundleDrop reason) {
                    fail("bad bundle " + reason);
                }
            });

            for (int i = 0; i < flows; i++) {
                int port = FIRST_PORT + i;
                nat.board(Segment.of(port, ScriptedNat.REMOTE_PORT, IRS, 0, Segment.S, 64240).withOptions(1460, 7, true));
                nat.sockets.get(i).listener.onConnected();
                nat.board(Segment.of(port, ScriptedNat.REMOTE_PORT, IRS + 1, ScriptedNat.ISS + 1, Segment.A, 65535));
                nat.sockets.get(i).remoteSends(TcpFlowTest.bytes(bytesPerFlow, i));
            }
            BoardReader reader = new BoardReader(flows);
            for (int round = 0; round < 100_000 && !reader.done(bytesPerFlow); round++) {
                reader.read(board);
                List<Segment> acks = new ArrayList<>();
                for (int i = 0; i < flows; i++)
                    if (reader.unacked[i]) {
                        reader.unacked[i] = false;
                        acks.add(Segment.of(FIRST_PORT + i, ScriptedNat.REMOTE_PORT, IRS + 1,
                                ScriptedNat.ISS + 1 + reader.received[i], Segment.A, 65535));
                    }
                nat.boardInOneRound(acks.toArray(Segment[]::new));
                for (FakeSocket s : nat.sockets)
                    if (s.wantRead && s.incoming.hasRemaining())
                        s.listener.onReadable(); // what the selector would report
                nat.endRound();
                output.flush();
                loop.runOnce();
            }
            assertEquals(List.of(), closed, "the link stays up");
            for (int i = 0; i < flows; i++)
                assertEquals(bytesPerFlow, reader.received[i], "bytes of flow " + i);
            assertEquals(0, stats.get(Counter.DROP_LINK_OVERFLOW));
        }
    }

    /** The board's end of the link: checks every bundle and each flow's bytes in order. */
    private static final class BoardReader {
        final int[] received;
        final boolean[] unacked;
        final ByteBuffer rx = ByteBuffer.allocate(2 * MAX_BUNDLE + BOARD_READ_PER_ROUND);

        BoardReader(int flows) {
            received = new int[flows];
            unacked = new boolean[flows];
        }

        boolean done(int bytesPerFlow) {
            for (int r : received)
                if (r < bytesPerFlow)
                    return false;
            return true;
        }

        void read(SocketChannel board) throws IOException {
            ByteBuffer window = rx.duplicate();
            window.limit(Math.min(rx.capacity(), rx.position() + BOARD_READ_PER_ROUND));
            board.read(window);
            rx.position(window.position());
            rx.flip();
            while (rx.remaining() >= Bundles.HEADER_SIZE) {
                int at = rx.position();
                assertNull(Bundles.checkHeader(rx, at, MAX_BUNDLE), "bundle header");
                int length = (int) Bundles.declaredLength(rx, at);
                if (rx.remaining() < length)
                    break;
                assertNull(Bundles.validate(rx, at, length, MAX_BUNDLE), "bundle");
                Bundles.forEachFrame(rx, at, length, this::onFrame);
                rx.position(at + length);
            }
            rx.compact();
        }

        private void onFrame(int channel, ByteBuffer buf, int offset, int length) {
            if (channel != Bundles.CHANNEL_IP)
                return;
            boolean offload = (LittleEndian.u16(buf, offset - Bundles.FRAME_HEADER_SIZE + 2) & Bundles.FRAME_OFFLOAD) != 0;
            int skip = offload ? OffloadHeader.SIZE : 0;
            byte[] packet = new byte[length - skip];
            buf.get(offset + skip, packet);
            Segment s = Segment.parse(packet, ScriptedNat.REMOTE, ScriptedNat.BOARD, offload);
            if ((s.flags() & Segment.S) != 0 || s.payload().length == 0)
                return;
            int flow = s.dstPort() - FIRST_PORT;
            assertEquals(ScriptedNat.ISS + 1 + received[flow], s.seq(), "flow " + flow + " in order, nothing lost");
            for (int k = 0; k < s.payload().length; k++) {
                int at = received[flow] + k;
                if (s.payload()[k] != (byte) (at * 7 + flow)) // TcpFlowTest.bytes
                    fail("flow " + flow + " byte " + at + " differs");
            }
            received[flow] += s.payload().length;
            unacked[flow] = true;
        }
    }
}
