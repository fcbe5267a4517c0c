// A failure on a board's loop that nothing closer contains ends that board's
// session at once (so it relinks without 5 s of silence), and only that one.
package dev.qbkit.qbnet.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.nat.Counter;
import dev.qbkit.qbnet.nat.DnsUpstreams;
import dev.qbkit.qbnet.nat.NatConfig;

class BoardSessionFailureTest {
    private record Board(EventLoop loop, BoardSession session, BoardSessionCloseTest.UnpluggingLink link,
            CountDownLatch ended) {
    }

    private static Board start(int id) throws Exception {
        EventLoop loop = new EventLoop("board-" + id);
        loop.start();
        DnsUpstreams upstreams = DnsUpstreams.of(List.of(new InetSocketAddress("127.0.0.1", 53)));
        BoardSessionCloseTest.UnpluggingLink link = new BoardSessionCloseTest.UnpluggingLink();
        CountDownLatch ended = new CountDownLatch(1);
        CompletableFuture<BoardSession> made = new CompletableFuture<>();
        loop.execute(() -> {
            BoardSession s = new BoardSession(id, link, loop, NatConfig.defaults(), upstreams, x -> {
            }, ended::countDown);
            try {
                s.start();
                ByteBuffer hello = BoardSessionCloseTest.boardHello();
                s.onBundle(hello, hello.position(), hello.remaining());
                made.complete(s);
            } catch (Exception e) {
                made.completeExceptionally(e);
            }
        });
        return new Board(loop, made.get(5, TimeUnit.SECONDS), link, ended);
    }

    @Test
    void anUncontainedFailureClosesOnlyThatBoardsSessionAtOnce() throws Exception {
        Board broken = start(1);
        Board healthy = start(2);
        try {
            broken.loop().execute(() -> {
                throw new IllegalStateException("a bug outside any flow");
            });
            assertTrue(broken.ended().await(5, TimeUnit.SECONDS), "the session ends without waiting for silence");
            CompletableFuture<String> state = new CompletableFuture<>();
            broken.loop().execute(() -> state.complete(broken.session().state() + " "
                    + broken.session().stats().get(Counter.HANDLER_FAILURES)));
            assertEquals("CLOSED 1", state.get(5, TimeUnit.SECONDS), "closed, the failure counted");

            CompletableFuture<BoardSession.State> other = new CompletableFuture<>();
            healthy.loop().execute(() -> other.complete(healthy.session().state()));
            assertEquals(BoardSession.State.ACTIVE, other.get(5, TimeUnit.SECONDS), "the other board is untouched");
            assertEquals(1, healthy.ended().getCount());
        } finally {
            for (Board b : List.of(broken, healthy)) {
                b.loop().shutdown();
                b.loop().join();
            }
        }
    }
}
