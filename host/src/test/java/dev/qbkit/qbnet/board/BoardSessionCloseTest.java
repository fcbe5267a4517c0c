// A link that closes inside a send (a USB submit that finds the device gone)
// must not tear the board's NAT down under the packet being written: the
// session frees its flows (real ones: a TCP flow and a UDP mapping with host
// sockets) after that work returns, on the same loop. Asserted on the test thread.
package dev.qbkit.qbnet.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.link.BundleBuilder;
import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.ControlCodec;
import dev.qbkit.qbnet.link.ControlMessage;
import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.nat.DnsUpstreams;
import dev.qbkit.qbnet.nat.NatConfig;
import dev.qbkit.qbnet.packet.TcpHeader;
import dev.qbkit.qbnet.robust.Packets;

class BoardSessionCloseTest {
    /** A link that reports itself closed from inside send() once {@code unplugged} is set. */
    static class UnpluggingLink implements Link {
        Handler handler;
        volatile boolean unplugged;
        int sends;

        @Override
        public void start(Handler h) {
            handler = h;
        }

        @Override
        public boolean send(ByteBuffer bundle) {
            sends++;
            if (unplugged) {
                handler.onClosed("unplugged");
                return false;
            }
            handler.onSent(bundle);
            return true;
        }

        @Override
        public boolean congested() {
            return false;
        }

        @Override
        public int maxReceiveBundle() {
            return 65536;
        }

        @Override
        public void close(String reason) {
            handler.onClosed(reason);
        }

        @Override
        public String description() {
            return "test";
        }
    }

    static ByteBuffer boardHello() {
        byte[] hello = ControlCodec.encode(new ControlMessage.Hello(1, 1, ControlMessage.ROLE_BOARD, 65536, 1500,
                "test-board", "test", 0));
        BundleBuilder b = new BundleBuilder();
        b.start(ByteBuffer.allocate(4096), 4096);
        b.addFrame(Bundles.CHANNEL_CONTROL, ByteBuffer.wrap(hello));
        return b.finish();
    }

    /** A bundle of IP frames from the board. */
    static ByteBuffer boardPackets(byte[]... packets) {
        BundleBuilder b = new BundleBuilder();
        b.start(ByteBuffer.allocate(65536), 65536);
        for (byte[] p : packets)
            b.addFrame(Bundles.CHANNEL_IP, ByteBuffer.wrap(p));
        return b.finish();
    }

    /** What the test reads of the session, taken on its loop (asserted on the test thread). */
    record Seen(BoardSession.State state, boolean natKept, int tcpFlows, int udpMappings, long buffered,
            int registeredChannels, boolean ended) {
    }

    static Seen seen(BoardSession s, EventLoop loop, CountDownLatch ended) {
        return new Seen(s.state(), s.nat() != null, s.nat() == null ? -1 : s.nat().tcp().size(),
                s.nat() == null ? -1 : s.nat().udp().size(), s.nat() == null ? -1 : s.nat().buffers().inUseBytes(),
                loop.registeredChannels(), ended.getCount() == 0);
    }

    static <T> T onLoop(EventLoop loop, java.util.function.Supplier<T> work) throws Exception {
        return CompletableFuture.supplyAsync(work, loop).get(5, TimeUnit.SECONDS);
    }

    /** The peer closed or reset the connection (the NAT aborts its host sockets: a reset). */
    static boolean closedByPeer(SocketChannel s) throws java.io.IOException {
        try {
            return s.socket().getInputStream().read() == -1;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }

    @Test
    void aLinkClosedInsideASendFreesTheNatAfterTheWorkReturns() throws Exception {
        EventLoop loop = new EventLoop("board-test");
        loop.start();
        try (ServerSocketChannel tcpPeer = ServerSocketChannel.open();
                DatagramChannel udpPeer = DatagramChannel.open()) {
            tcpPeer.bind(new InetSocketAddress("127.0.0.1", 0));
            udpPeer.bind(new InetSocketAddress("127.0.0.1", 0));
            int tcpPort = ((InetSocketAddress) tcpPeer.getLocalAddress()).getPort();
            int udpPort = ((InetSocketAddress) udpPeer.getLocalAddress()).getPort();
            // The gateway address is the host's loopback with --allow-host-loopback: real host sockets, on this machine only.
            NatConfig config = NatConfig.defaults().toBuilder().allowHostLoopback(true).build();
            DnsUpstreams upstreams = DnsUpstreams.of(List.of(new InetSocketAddress("127.0.0.1", 53)));
            UnpluggingLink link = new UnpluggingLink();
            CountDownLatch ended = new CountDownLatch(1);
            byte[] board = { 10, 113, 98, 2 };
            byte[] gateway = { 10, 113, 98, 1 };
            BoardSession session = onLoop(loop, () -> {
                BoardSession s = new BoardSession(1, link, loop, config, upstreams, x -> {
                }, ended::countDown);
                try {
                    s.start();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                ByteBuffer hello = boardHello();
                s.onBundle(hello, hello.position(), hello.remaining());
                // Two real flows: a TCP connect and a UDP mapping, each with a host socket of its own.
                ByteBuffer flows = boardPackets(
                        Packets.tcp(board, gateway, 40000, tcpPort, 1000, 0, TcpHeader.SYN, 64240,
                                Packets.synOptions(1460, 7, true), new byte[0]),
                        Packets.udp(board, gateway, 40001, udpPort, "hello".getBytes()));
                s.onBundle(flows, flows.position(), flows.remaining());
                return s;
            });
            tcpPeer.configureBlocking(true);
            try (SocketChannel accepted = tcpPeer.accept()) {
                Seen before = onLoop(loop, () -> seen(session, loop, ended));
                assertEquals(new Seen(BoardSession.State.ACTIVE, true, 1, 1, 0, 2, false), before,
                        "one TCP flow and one UDP mapping open before the unplug");

                Seen during = onLoop(loop, () -> {
                    link.unplugged = true;
                    link.send(ByteBuffer.allocate(16)); // as a bundle flushed in the middle of a TCP segment would
                    return seen(session, loop, ended); // still inside that work
                });
                assertEquals(new Seen(BoardSession.State.CLOSED, true, 1, 1, 0, 2, false), during,
                        "inside the send that closed the link: the session is closed, its NAT intact");

                assertTrue(ended.await(5, TimeUnit.SECONDS), "the session never ended");
                // A closed socket's key leaves the selector at its next select, which may come a few
                // rounds later when the teardown and our tasks run in one drain of the task queue:
                // bounded rounds, then the full state is asserted (a leaked channel still fails).
                Seen after = onLoop(loop, () -> seen(session, loop, ended));
                for (int round = 0; round < 50 && after.registeredChannels() > 0; round++) {
                    Thread.sleep(10);
                    after = onLoop(loop, () -> seen(session, loop, ended));
                }
                assertEquals(new Seen(BoardSession.State.CLOSED, true, 0, 0, 0, 0, true), after,
                        "after the session ended: every flow, mapping and host socket freed");
                accepted.configureBlocking(true);
                accepted.socket().setSoTimeout(5000);
                assertTrue(closedByPeer(accepted), "the TCP flow's host socket was not closed");
            }
            assertEquals(0, loop.handlerFailures());
        } finally {
            loop.shutdown();
            loop.join();
        }
    }
}
