// NativeHolds: a USB link's native memory is freed exactly once, never while
// close() is still cancelling, and never while a transfer is out.
package dev.qbkit.qbnet.usb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

final class NativeHoldsTest {

    @Test
    void closingWithNothingInFlightReleasesAtOnce() {
        NativeHolds holds = new NativeHolds();
        assertTrue(holds.linkClosed());
        assertEquals(0, holds.count());
    }

    @Test
    void lastCallbackAfterTheCloseReleases() {
        NativeHolds holds = new NativeHolds();
        holds.transferSubmitted();
        holds.transferSubmitted();
        assertFalse(holds.linkClosed());
        assertFalse(holds.transferReturned());
        assertTrue(holds.transferReturned());
    }

    /** The unplug race: every transfer calls back while close() is between its cancel calls. */
    @Test
    void callbacksDuringTheCloseNeverRelease() {
        NativeHolds holds = new NativeHolds();
        for (int i = 0; i < 8; i++)
            holds.transferSubmitted();
        for (int i = 0; i < 8; i++)
            assertFalse(holds.transferReturned(), "callback " + i + " came in while the link was still cancelling");
        assertTrue(holds.linkClosed());
    }

    @Test
    void aFailedSubmitGivesItsHoldBack() {
        NativeHolds holds = new NativeHolds();
        holds.transferSubmitted();
        holds.submitFailed();
        assertEquals(1, holds.count());
        assertTrue(holds.linkClosed());
    }

    @Test
    void misuseIsAnErrorNotASilentDoubleFree() {
        NativeHolds holds = new NativeHolds();
        assertTrue(holds.linkClosed());
        assertThrows(IllegalStateException.class, holds::transferSubmitted);
        NativeHolds other = new NativeHolds();
        assertTrue(other.linkClosed());
        assertThrows(IllegalStateException.class, other::transferReturned);
    }

    /**
     * A loop thread submits and closes while an event thread calls back, in
     * 2 000 bounded rounds: exactly one release per round, always after the
     * close has finished.
     */
    @Test
    void concurrentCallbacksReleaseExactlyOnceAfterTheClose() throws InterruptedException {
        for (int round = 0; round < 2_000; round++) {
            NativeHolds holds = new NativeHolds();
            int transfers = 1 + round % 8;
            for (int i = 0; i < transfers; i++)
                holds.transferSubmitted();
            AtomicInteger releases = new AtomicInteger();
            AtomicInteger closeFinished = new AtomicInteger();
            AtomicInteger releasedBeforeClose = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            Thread events = Thread.ofPlatform().start(() -> {
                await(go);
                for (int i = 0; i < transfers; i++) {
                    if (holds.transferReturned()) {
                        if (closeFinished.get() == 0)
                            releasedBeforeClose.incrementAndGet();
                        releases.incrementAndGet();
                    }
                }
            });
            go.countDown();
            Thread.onSpinWait(); // the close's cancel calls would run here
            closeFinished.set(1);
            if (holds.linkClosed())
                releases.incrementAndGet();
            events.join(TimeUnit.SECONDS.toMillis(5));
            assertFalse(events.isAlive(), "round " + round + ": the event thread hung");
            assertEquals(1, releases.get(), "round " + round + ": releases");
            assertEquals(0, releasedBeforeClose.get(), "round " + round + ": released while close() was cancelling");
            assertEquals(0, holds.count());
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
