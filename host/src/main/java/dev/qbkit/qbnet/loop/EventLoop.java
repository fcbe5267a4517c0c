// One thread, one Selector: owns every channel and timer of one board (or of
// the link acceptor). Other threads hand work in with execute(). After each
// round of I/O, tasks and timers, the flush hooks run (acks, bundle output).
// A handler or timer that throws contains the damage itself (a flow resets);
// what it cannot contain goes to the loop's failure handler (a board's session closes).
package dev.qbkit.qbnet.loop;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public final class EventLoop implements Executor {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);

    /** Receives readiness of one registered channel. */
    @FunctionalInterface
    public interface IoHandler {
        void onReady(SelectionKey key) throws IOException;

        /**
         * onReady threw: limit the damage to what this handler owns (a flow
         * resets itself). False when it cannot; the loop's failure handler
         * then decides. The key is cancelled either way.
         */
        default boolean contain(Exception cause) {
            return false;
        }
    }

    private final String name;
    private final Selector selector;
    private final TimerQueue timers = new TimerQueue();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final List<Runnable> flushHooks = new ArrayList<>();
    private volatile boolean running = true;
    private Thread thread;
    private long handlerFailures;
    private Consumer<Throwable> failureHandler = this::logFailure;

    public EventLoop(String name) throws IOException {
        this.name = name;
        this.selector = Selector.open();
    }

    public void start() {
        thread = Thread.ofPlatform().name(name).daemon(false).start(this::run);
    }

    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    public long now() {
        return System.nanoTime();
    }

    public TimerQueue timers() {
        return timers;
    }

    public void schedule(Timer timer, long deadline) {
        timers.schedule(timer, deadline);
    }

    public void cancel(Timer timer) {
        timers.cancel(timer);
    }

    public SelectionKey register(SelectableChannel channel, int ops, IoHandler handler) throws ClosedChannelException {
        return channel.register(selector, ops, handler);
    }

    /** Runs after every loop round, in the order added. */
    public void addFlushHook(Runnable hook) {
        flushHooks.add(hook);
    }

    /**
     * What to do with a failure nothing closer could contain (the default
     * logs it): a board's session closes so the board relinks at once.
     * Runs on the loop thread, also when the loop itself is dying.
     */
    public void setFailureHandler(Consumer<Throwable> handler) {
        this.failureHandler = handler;
    }

    public int registeredChannels() {
        return selector.keys().size();
    }

    public long handlerFailures() {
        return handlerFailures;
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        if (!inLoop() && wakeupPending.compareAndSet(false, true))
            selector.wakeup();
    }

    /**
     * Runs one round without blocking on the calling thread, for a loop that
     * was never started: tests drive a loop's links and sockets by hand.
     */
    public void runOnce() throws IOException {
        if (thread != null)
            throw new IllegalStateException(name + " runs on its own thread");
        round(0);
    }

    /** Stops the loop after its current round; close hooks run on the loop thread. */
    public void shutdown() {
        running = false;
        selector.wakeup();
    }

    public void join() throws InterruptedException {
        if (thread != null)
            thread.join();
    }

    private void run() {
        try {
            while (running)
                round(selectTimeoutMillis());
        } catch (IOException | RuntimeException | Error e) {
            log.error("{}: event loop failed: {}", name, e.toString(), e);
            failed(e);
        } finally {
            runTasks();
            try {
                selector.close();
            } catch (IOException e) {
                log.debug("{}: closing selector: {}", name, e.toString());
            }
        }
    }

    /** One round: ready channels, tasks, due timers, then the flush hooks. */
    private void round(long timeoutMillis) throws IOException {
        if (timeoutMillis == 0)
            selector.selectNow();
        else
            selector.select(timeoutMillis < 0 ? 0 : timeoutMillis);
        wakeupPending.set(false);
        dispatchSelected();
        runTasks();
        runTimers();
        for (Runnable hook : flushHooks)
            guarded(hook);
    }

    /** Due timers; one that throws and cannot contain it does not stop the others. */
    private void runTimers() {
        while (true) {
            try {
                timers.runDue(now());
                return;
            } catch (RuntimeException e) {
                failed(e);
            }
        }
    }

    /** Milliseconds to block: 0 for "poll", -1 for "until woken". */
    private long selectTimeoutMillis() {
        if (!tasks.isEmpty())
            return 0;
        long next = timers.nextDeadline();
        if (next == Long.MAX_VALUE)
            return -1;
        long nanos = next - now();
        if (nanos <= 0)
            return 0;
        return Math.max(1, (nanos + 999_999) / 1_000_000);
    }

    private void dispatchSelected() {
        var selected = selector.selectedKeys();
        if (selected.isEmpty())
            return;
        for (var it = selected.iterator(); it.hasNext();) {
            SelectionKey key = it.next();
            it.remove();
            if (!key.isValid())
                continue;
            IoHandler handler = (IoHandler) key.attachment();
            try {
                handler.onReady(key);
            } catch (IOException | RuntimeException e) {
                key.cancel();
                if (containedBy(handler, e))
                    handlerFailures++;
                else
                    failed(e);
            }
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = tasks.poll()) != null)
            guarded(task);
    }

    private boolean containedBy(IoHandler handler, Exception e) {
        try {
            return handler.contain(e);
        } catch (RuntimeException again) {
            e.addSuppressed(again);
            return false;
        }
    }

    private void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    private void logFailure(Throwable e) {
        log.warn("{}: internal error: {}", name, e.toString(), e);
    }

    private void failed(Throwable e) {
        handlerFailures++;
        try {
            failureHandler.accept(e);
        } catch (RuntimeException again) {
            log.error("{}: the failure handler failed too: {}", name, again.toString(), again);
        }
    }
}
