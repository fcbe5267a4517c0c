// Fuzz tests of the byte-stream link's reassembly (link/StreamLink): bundles
// cut into arbitrary pieces arrive whole, in order, byte for byte; a bad
// bundle header closes the link after exactly the bundles before it.
package dev.qbkit.qbnet.robust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.qbkit.qbnet.link.BundleDrop;
import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.link.StreamLink;
import dev.qbkit.qbnet.loop.EventLoop;

class StreamLinkFuzzTest {
    /** Records what the link tells its session. */
    static final class Events implements Link.Handler {
        final List<byte[]> bundles = new ArrayList<>();
        final List<BundleDrop> bad = new ArrayList<>();
        String closed;
        int eventsAfterClose;

        @Override
        public void onBundle(ByteBuffer buf, int offset, int length) {
            if (closed != null)
                eventsAfterClose++;
            byte[] b = new byte[length];
            buf.get(offset, b);
            bundles.add(b);
        }

        @Override
        public void onSent(ByteBuffer bundle) {
        }

        @Override
        public void onWritable() {
        }

        @Override
        public void onClosed(String reason) {
            if (closed != null)
                eventsAfterClose++;
            closed = reason;
        }

        @Override
        public void onBadBundle(BundleDrop reason) {
            bad.add(reason);
        }
    }

    /** A readiness key that says "readable": the test decides when the link reads. */
    static final class ReadableKey extends SelectionKey {
        @Override
        public java.nio.channels.SelectableChannel channel() {
            return null;
        }

        @Override
        public Selector selector() {
            return null;
        }

        @Override
        public boolean isValid() {
            return true;
        }

        @Override
        public void cancel() {
        }

        @Override
        public int interestOps() {
            return OP_READ;
        }

        @Override
        public SelectionKey interestOps(int ops) {
            return this;
        }

        @Override
        public int readyOps() {
            return OP_READ;
        }
    }

    /** A connected pair of Unix stream sockets: the board's end and the host's. */
    record Pair(Path dir, SocketChannel board, SocketChannel host) implements AutoCloseable {
        static Pair open() throws IOException {
            Path dir = Files.createTempDirectory("qbnet-streamlink");
            Path path = dir.resolve("s");
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(path));
                SocketChannel board = SocketChannel.open(UnixDomainSocketAddress.of(path));
                return new Pair(dir, board, server.accept());
            } finally {
                Files.deleteIfExists(path);
            }
        }

        @Override
        public void close() throws IOException {
            board.close();
            host.close();
            Files.deleteIfExists(dir);
        }
    }

    /** Runs the (never started) loop's one final round, which closes its selector and deregistered channels. */
    static void dispose(EventLoop loop) throws InterruptedException {
        loop.shutdown();
        loop.start();
        loop.join();
    }

    static byte[] bundle(int frames, int payloadBytes, int seed) {
        int length = 8 + frames * 8 + payloadBytes;
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x71).put((byte) 0x62).put((byte) 1).put((byte) 0).putInt(length);
        int left = payloadBytes;
        for (int f = 0; f < frames; f++) {
            int n = f == frames - 1 ? left : left / 2;
            left -= n;
            b.putShort((short) (f % 3)).putShort((short) 0).putInt(n);
            for (int i = 0; i < n; i++)
                b.put((byte) (seed + i * 31 + f));
        }
        return b.array();
    }

    record Spec(int frames, int payload) {
    }

    /**
     * Input: 1..24 bundles (each small: 0..4 frames and 0..2000 payload bytes, or one frame of
     * 16000..65528 bytes), 1..40 read sizes the stream is cut into (1..70000, used in turn), which
     * bundle gets a bad header (-1: none) and how (0..3).
     */
    @FuzzTest
    void bundlesArriveWholeHoweverTheStreamIsCut(byte[] data) throws Exception {
        FuzzInput in = new FuzzInput(data);
        List<Spec> specs = new ArrayList<>();
        for (int n = in.between(1, 24); n > 0; n--)
            specs.add(in.between(0, 9) == 9 ? new Spec(1, in.between(16000, 65536 - 16) - 8)
                    : new Spec(in.between(0, 4), in.between(0, 2000)));
        List<Integer> cuts = new ArrayList<>();
        for (int n = in.between(1, 40); n > 0; n--)
            cuts.add(in.between(1, 70000));
        int badAt = in.between(-1, 23);
        int damage = in.between(0, 3);
        int maxReceive = 65536;
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++)
            sent.add(bundle(specs.get(i).frames, specs.get(i).payload, i));
        boolean corrupt = badAt >= 0 && badAt < sent.size();
        BundleDrop expectedDrop = null;
        if (corrupt) {
            ByteBuffer h = ByteBuffer.wrap(sent.get(badAt)).order(ByteOrder.LITTLE_ENDIAN);
            expectedDrop = switch (damage) {
                case 0 -> { h.put(0, (byte) 0x72); yield BundleDrop.BAD_MAGIC; }
                case 1 -> { h.put(2, (byte) 2); yield BundleDrop.BAD_FORMAT; }
                case 2 -> { h.putInt(4, maxReceive + 1); yield BundleDrop.BAD_LENGTH; }
                default -> { h.putInt(4, 7); yield BundleDrop.BAD_LENGTH; }
            };
        }
        ByteBuffer stream = ByteBuffer.allocate(sent.stream().mapToInt(b -> b.length).sum());
        sent.forEach(stream::put);
        stream.flip();

        EventLoop loop = new EventLoop("streamlink-test");
        Events events = new Events();
        try (Pair pair = Pair.open()) {
            StreamLink link = new StreamLink(pair.host(), loop, "test", maxReceive, maxReceive);
            link.start(events);
            ReadableKey readable = new ReadableKey();
            int cut = 0;
            while (stream.hasRemaining() && events.closed == null) {
                int n = Math.min(stream.remaining(), cuts.get(cut++ % cuts.size()));
                ByteBuffer piece = stream.slice(stream.position(), n);
                while (piece.hasRemaining())
                    pair.board().write(piece);
                stream.position(stream.position() + n);
                link.onReady(readable);
            }
            int good = corrupt ? badAt : sent.size();
            assertEquals(good, events.bundles.size(), "bundles delivered");
            for (int i = 0; i < good; i++)
                assertArrayEquals(sent.get(i), events.bundles.get(i), "bundle " + i);
            if (corrupt) {
                assertEquals(List.of(expectedDrop), events.bad);
                assertTrue(events.closed != null && events.closed.contains(expectedDrop.wireName()), events.closed);
            } else {
                assertTrue(events.bad.isEmpty());
                assertEquals(null, events.closed);
                pair.board().close(); // the board goes away: the link notices at its next read
                link.onReady(readable);
                assertTrue(events.closed != null, "EOF closes the link");
            }
            assertEquals(0, events.eventsAfterClose, "events after onClosed");
            assertFalse(link.send(ByteBuffer.wrap(sent.get(0))), "a closed link takes nothing");
        } finally {
            dispose(loop);
        }
    }

    /** Seeds: the stream whole, cut into bytes, cut at every header boundary; each bad header kind. */
    static Map<String, byte[]> streamSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        int[][] cutsOf = { { 70000 }, { 1 }, { 8, 1, 7, 3000 }, { 65536, 9 } };
        String[] cutNames = { "whole", "bytewise", "around-headers", "large-reads" };
        for (int c = 0; c < cutsOf.length; c++) {
            for (int bad = -1; bad < 4; bad++) {
                FuzzInput.Writer w = new FuzzInput.Writer().between(1, 24, 4);
                w.between(0, 9, 0).between(0, 4, 2).between(0, 2000, 100);
                w.between(0, 9, 9).between(16000, 65536 - 16, 40000);
                w.between(0, 9, 0).between(0, 4, 0).between(0, 2000, 0);
                w.between(0, 9, 0).between(0, 4, 4).between(0, 2000, 2000);
                w.between(1, 40, cutsOf[c].length);
                for (int cut : cutsOf[c])
                    w.between(1, 70000, cut);
                w.between(-1, 23, bad < 0 ? -1 : 2).between(0, 3, Math.max(0, bad));
                seeds.put(cutNames[c] + (bad < 0 ? "" : "-bad-header-" + bad), w.toByteArray());
            }
        }
        return seeds;
    }

    @Test
    void seedInputsAreCurrent() {
        FuzzSeeds.check(StreamLinkFuzzTest.class, "bundlesArriveWholeHoweverTheStreamIsCut", streamSeeds());
    }

    @Test
    void anUnreadLinkStopsTakingBundlesAtItsHardLimit() throws Exception {
        EventLoop loop = new EventLoop("streamlink-test");
        try (Pair pair = Pair.open()) {
            StreamLink link = new StreamLink(pair.host(), loop, "test", Bundles.INITIAL_MAX, 262144);
            link.start(new Events());
            ByteBuffer bundle = ByteBuffer.allocateDirect(Bundles.ABSOLUTE_MAX);
            long accepted = 0;
            boolean congestedSeen = false;
            for (int i = 0; i < 200; i++) {
                if (!link.send(bundle.duplicate()))
                    break;
                accepted += bundle.capacity();
                congestedSeen |= link.congested();
            }
            assertTrue(congestedSeen, "the board never reads: the link must say congested");
            // The hard limit is 64 bundles of the absolute maximum, plus what the socket itself took.
            assertTrue(accepted <= 65L * Bundles.ABSOLUTE_MAX, "queued " + accepted + " bytes");
            assertTrue(accepted >= 4L * 262144, "took too little before refusing: " + accepted);
            link.close("test over");
        } finally {
            dispose(loop);
        }
    }
}
