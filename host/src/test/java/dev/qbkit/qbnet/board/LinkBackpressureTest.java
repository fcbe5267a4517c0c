// Backpressure from the link toward the board, through a real Nat and
// LinkOutput (issue 14, defect 1): a UDP blast from a host peer stops being
// read while the link is congested, so the link's queue stays bounded and no
// bundle is dropped; reading resumes when the board reads again. And a control
// message still goes out when data has filled the link to its hard limit.
package dev.qbkit.qbnet.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayDeque;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.link.BundleDrop;
import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.ControlCodec;
import dev.qbkit.qbnet.link.ControlMessage;
import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.link.Writability;
import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.nat.Counter;
import dev.qbkit.qbnet.nat.DirectBufferCache;
import dev.qbkit.qbnet.nat.DnsUpstreams;
import dev.qbkit.qbnet.nat.EchoSender;
import dev.qbkit.qbnet.nat.Nat;
import dev.qbkit.qbnet.nat.NatConfig;
import dev.qbkit.qbnet.nat.Stats;
import dev.qbkit.qbnet.robust.Packets;

class LinkBackpressureTest {
    static final int MAX_BUNDLE = 65536;

    /**
     * A link whose board reads only when the test says. Congested past
     * {@code soft} queued bytes (the real links' Writability decides when room
     * is back, as a loop task); data bundles are refused past {@code hard},
     * control bundles past {@code hard + reserve}.
     */
    static final class BoardNotReadingLink implements Link {
        final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
        final long soft;
        final long hard;
        final long reserve;
        long queued;
        long maxQueued;
        int refused;
        int priorityTaken;
        Handler handler;
        final Writability writability;

        BoardNotReadingLink(EventLoop loop, long soft, long hard, long reserve) {
            this.soft = soft;
            this.hard = hard;
            this.reserve = reserve;
            this.writability = new Writability(loop, () -> queued > this.soft, () -> false);
        }

        @Override
        public void start(Handler h) {
            handler = h;
            writability.start(h);
        }

        @Override
        public boolean send(ByteBuffer bundle) {
            return take(bundle, hard);
        }

        @Override
        public boolean sendPriority(ByteBuffer bundle) {
            boolean taken = take(bundle, hard + reserve);
            if (taken)
                priorityTaken++;
            return taken;
        }

        private boolean take(ByteBuffer bundle, long limit) {
            if (queued + bundle.remaining() > limit) {
                refused++;
                return false;
            }
            queue.add(bundle);
            queued += bundle.remaining();
            maxQueued = Math.max(maxQueued, queued);
            return true;
        }

        /** The board reads everything queued. */
        void boardReadsAll() {
            for (ByteBuffer b; (b = queue.poll()) != null;) {
                queued -= b.remaining();
                handler.onSent(b);
            }
            writability.queueShrank();
        }

        @Override
        public boolean congested() {
            return writability.congested();
        }

        @Override
        public int maxReceiveBundle() {
            return MAX_BUNDLE;
        }

        @Override
        public void close(String reason) {
        }

        @Override
        public String description() {
            return "test";
        }
    }

    /** A board's NAT and output on a loop the test drives round by round, as BoardSession wires them. */
    record Board(EventLoop loop, BoardNotReadingLink link, LinkOutput output, Stats stats, Nat nat) {
        static Board open(long soft, long hard, long reserve) throws IOException {
            EventLoop loop = new EventLoop("test-board"); // never started: the test runs its rounds
            BoardNotReadingLink link = new BoardNotReadingLink(loop, soft, hard, reserve);
            Stats stats = new Stats();
            LinkOutput output = new LinkOutput(link, stats, new DirectBufferCache(16L << 20));
            output.setMaxBundle(MAX_BUNDLE);
            NatConfig config = NatConfig.defaults().toBuilder().allowHostLoopback(true).build();
            Nat nat = new Nat(config, loop, output, stats, DnsUpstreams.of(List.of()), (l, r) -> EchoSender.NONE);
            link.start(new Link.Handler() {
                @Override
                public void onBundle(ByteBuffer buf, int offset, int length) {
                }

                @Override
                public void onSent(ByteBuffer bundle) {
                    output.recycle(bundle);
                }

                @Override
                public void onWritable() {
                    nat.onLinkWritable();
                }

                @Override
                public void onClosed(String reason) {
                }

                @Override
                public void onBadBundle(BundleDrop reason) {
                }
            });
            loop.addFlushHook(() -> {
                nat.flush();
                output.flush();
            });
            return new Board(loop, link, output, stats, nat);
        }

        void fromBoard(byte[] packet) {
            nat.onPacket(ByteBuffer.wrap(packet), 0, packet.length);
        }

        void round() throws IOException {
            loop.runOnce();
        }

        void close() throws IOException {
            nat.close();
            loop.runOnce();
        }
    }

    @Test
    void aUdpBlastIsNotReadWhileTheLinkIsCongested() throws Exception {
        long soft = 256 << 10;
        Board b = Board.open(soft, 1 << 20, 4L * MAX_BUNDLE);
        try (DatagramChannel peer = DatagramChannel.open()) {
            peer.bind(new InetSocketAddress("127.0.0.1", 0));
            int peerPort = ((InetSocketAddress) peer.getLocalAddress()).getPort();
            // The board opens the mapping (to the gateway: the host's loopback); the peer learns its port.
            b.fromBoard(Packets.udp(new byte[] { 10, 113, 98, 2 }, new byte[] { 10, 113, 98, 1 }, 40000, peerPort,
                    "start".getBytes()));
            b.round();
            peer.configureBlocking(true);
            peer.socket().setSoTimeout(5000);
            SocketAddress mapping = peer.receive(ByteBuffer.allocate(64));
            assertNotNull(mapping);
            peer.configureBlocking(false);

            // The peer blasts 3000 datagrams of 1400 bytes (4.2 MB) over 60 rounds; the board reads nothing.
            ByteBuffer datagram = ByteBuffer.allocate(1400);
            for (int round = 0; round < 60; round++) {
                for (int i = 0; i < 50; i++)
                    peer.send(datagram.clear(), mapping);
                b.round();
            }
            BoardNotReadingLink link = b.link();
            long rx = b.stats().get(Counter.UDP_DATAGRAMS_RX);
            assertTrue(link.maxQueued <= soft + MAX_BUNDLE, "the link queued " + link.maxQueued
                    + " bytes, its soft limit is " + soft + ": UDP kept being read while the link was congested");
            assertEquals(0, link.refused, "bundles refused by the full link");
            assertEquals(0, b.stats().get(Counter.DROP_LINK_OVERFLOW), "bundles dropped");
            assertTrue(b.stats().get(Counter.UDP_READS_PAUSED) > 0, "reading was never paused");

            // The board reads: room is back (a loop event), reading resumes.
            for (int round = 0; round < 5; round++) {
                link.boardReadsAll();
                b.round();
            }
            assertTrue(b.stats().get(Counter.UDP_DATAGRAMS_RX) > rx, "reading never resumed after the link drained");
        } finally {
            b.close();
        }
    }

    @Test
    void aControlMessageGoesOutWhenDataFilledTheLink() throws Exception {
        int dataBundle = Bundles.HEADER_SIZE + Bundles.FRAME_HEADER_SIZE + 60000;
        Board b = Board.open(64 << 10, 4L * dataBundle, 4L * MAX_BUNDLE); // four data bundles fill it exactly
        try {
            BoardNotReadingLink link = b.link();
            LinkOutput out = b.output();
            // Data until the link refuses it: a bundle of IP frames is dropped and counted.
            for (int i = 0; i < 64 && link.refused == 0; i++) {
                int at = out.begin(60000);
                out.buffer().put(at, new byte[60000]);
                out.commit(60000);
                out.flush();
            }
            assertTrue(link.refused > 0 && b.stats().get(Counter.DROP_LINK_OVERFLOW) > 0, "data never filled the link");
            long queued = link.queued;
            // A KEEPALIVE, alone and then behind more data in the same bundle: both go out.
            out.sendControl(ControlCodec.encode(new ControlMessage.Keepalive(1, -1)));
            out.flush();
            int at = out.begin(30000);
            out.buffer().put(at, new byte[30000]);
            out.commit(30000);
            out.sendControl(ControlCodec.encode(new ControlMessage.Keepalive(2, -1)));
            out.flush();
            assertEquals(2, link.priorityTaken, "bundles with a control message taken into the reserve");
            assertTrue(link.queued > queued, "nothing was queued");
            int controlFrames = 0;
            for (ByteBuffer bundle : link.queue)
                controlFrames += countControl(bundle);
            assertEquals(2, controlFrames, "control frames queued for the board");
        } finally {
            b.close();
        }
    }

    static int countControl(ByteBuffer bundle) {
        int[] n = { 0 };
        Bundles.forEachFrame(bundle, bundle.position(), bundle.remaining(), (channel, buf, offset, length) -> {
            if (channel == Bundles.CHANNEL_CONTROL)
                n[0]++;
        });
        return n[0];
    }
}
