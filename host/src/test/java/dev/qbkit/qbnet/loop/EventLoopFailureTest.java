// What the loop does with a failure: a handler or timer that contains it
// keeps it to itself; anything else goes to the failure handler; either
// way the loop goes on with its other work (issue 11).
package dev.qbkit.qbnet.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class EventLoopFailureTest {
    private final List<String> uncontained = new CopyOnWriteArrayList<>();
    private final List<String> contained = new CopyOnWriteArrayList<>();

    @Test
    void failuresGoToTheirOwnerOrTheFailureHandlerAndTheLoopGoesOn() throws Exception {
        EventLoop loop = new EventLoop("test-loop");
        loop.setFailureHandler(e -> uncontained.add(e.getMessage()));
        loop.start();
        Pipe pipe = Pipe.open();
        try {
            CountDownLatch done = new CountDownLatch(1);
            loop.execute(() -> {
                try {
                    pipe.source().configureBlocking(false);
                    loop.register(pipe.source(), SelectionKey.OP_READ, new EventLoop.IoHandler() {
                        @Override
                        public void onReady(SelectionKey key) {
                            throw new IllegalStateException("handler");
                        }

                        @Override
                        public boolean contain(Exception cause) {
                            contained.add(cause.getMessage());
                            return true;
                        }
                    });
                } catch (IOException e) {
                    uncontained.add("register: " + e);
                }
                throw new IllegalStateException("task");
            });
            loop.execute(() -> {
                long now = loop.now();
                loop.schedule(new Timer() {
                    @Override
                    protected void fire(long at) {
                        throw new IllegalStateException("timer");
                    }
                }, now);
                loop.schedule(new Timer() {
                    @Override
                    protected void fire(long at) {
                        throw new IllegalStateException("contained timer");
                    }

                    @Override
                    protected boolean contain(RuntimeException cause) {
                        contained.add(cause.getMessage());
                        return true;
                    }
                }, now);
                loop.schedule(new Timer() {
                    @Override
                    protected void fire(long at) {
                        done.countDown();
                    }
                }, now + 1);
            });
            pipe.sink().write(java.nio.ByteBuffer.wrap(new byte[] { 1 }));
            assertTrue(done.await(5, TimeUnit.SECONDS), "a timer after the failing ones still fires");
            CountDownLatch after = new CountDownLatch(1);
            loop.execute(after::countDown);
            assertTrue(after.await(5, TimeUnit.SECONDS), "tasks still run");
        } finally {
            loop.shutdown();
            loop.join();
            pipe.sink().close();
            pipe.source().close();
        }
        assertEquals(List.of("task", "timer"), uncontained);
        assertTrue(contained.containsAll(List.of("handler", "contained timer")), contained.toString());
        assertEquals(3, loop.handlerFailures(), "the contained handler and the two it could not contain");
    }
}
