// A link that closes inside a send (a USB submit that finds the device gone)
// must not tear the board's NAT down under the packet being written: the
// session frees its flows after that work returns, on the same loop.
package dev.qbkit.qbnet.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
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

    @Test
    void aLinkClosedInsideASendFreesTheNatAfterTheWorkReturns() throws Exception {
        EventLoop loop = new EventLoop("board-test");
        loop.start();
        try {
            DnsUpstreams upstreams = DnsUpstreams.of(List.of(new InetSocketAddress("127.0.0.1", 53)));
            UnpluggingLink link = new UnpluggingLink();
            CountDownLatch ended = new CountDownLatch(1);
            CompletableFuture<BoardSession> made = new CompletableFuture<>();
            loop.execute(() -> {
                BoardSession s = new BoardSession(1, link, loop, NatConfig.defaults(), upstreams, x -> {
                        }, ended::countDown);
                try {
                    s.start();
                    ByteBuffer hello = boardHello();
                    s.onBundle(hello, hello.position(), hello.remaining());
                    made.complete(s);
                } catch (Exception e) {
                    made.completeExceptionally(e);
                }
            });
            BoardSession session = made.get(5, TimeUnit.SECONDS);
            CompletableFuture<String> during = new CompletableFuture<>();
            loop.execute(() -> {
                assertEquals(BoardSession.State.ACTIVE, session.state());
                link.unplugged = true;
                link.send(ByteBuffer.allocate(16)); // as a bundle flushed in the middle of a TCP segment would
                // Still inside that work: the session knows it is closed, and the NAT is intact.
                during.complete(session.state() + " nat=" + (session.nat() != null) + " ended="
                        + (ended.getCount() == 0));
            });
            assertEquals("CLOSED nat=true ended=false", during.get(5, TimeUnit.SECONDS));
            assertTrue(ended.await(5, TimeUnit.SECONDS), "the session ends in the next loop round");
            assertEquals(0, loop.handlerFailures());
            assertNotNull(session.nat());
            assertEquals(0, session.nat().tcp().size() + session.nat().udp().size(), "every flow freed");
        } finally {
            loop.shutdown();
            loop.join();
        }
    }
}
