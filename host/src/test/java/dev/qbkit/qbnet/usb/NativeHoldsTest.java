// A USB link's native memory is freed exactly once, never while close() is
// still cancelling and never while a transfer is out: UsbLink itself driven
// through a fake libusb (FakeUsbIo), whose freed transfers fault when touched;
// plus NativeHolds' own bookkeeping.
package dev.qbkit.qbnet.usb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.loop.EventLoop;

final class NativeHoldsTest {
    // ---- UsbLink.close's order, on the unplug path -----------------------------------

    /** A started link with every read posted and two bundles in flight toward the board. */
    private static UsbLink busyLink(FakeUsbIo usb, EventLoop loop, java.util.concurrent.Executor release,
            Runnable onReleased) throws Exception {
        UsbLink link = new UsbLink(usb, loop, release, 65536, 65536, onReleased);
        UsbLinkTest.onLoop(loop, () -> {
            link.start(new UsbLinkTest.Events());
            link.send(ByteBuffer.allocateDirect(1000));
            link.send(ByteBuffer.allocateDirect(2000));
        });
        assertEquals(UsbLink.IN_TRANSFERS, usb.inFlight(FakeUsbIo.IN_ENDPOINT).size());
        assertEquals(2, usb.inFlight(FakeUsbIo.OUT_ENDPOINT).size());
        return link;
    }

    /**
     * The unplug storm (the replug test's CI crash): libusb calls back every
     * transfer with NO_DEVICE in one go. The first completion closes the
     * link; the others arrive while close() is between its cancel calls. The
     * transfers must not be freed until the last cancel call has returned.
     */
    @Test
    void callbacksDuringTheCloseNeverFreeATransferCloseStillCancels() throws Exception {
        EventLoop loop = new EventLoop("usb-holds-test");
        loop.start();
        try {
            FakeUsbIo usb = new FakeUsbIo();
            AtomicInteger releases = new AtomicInteger();
            // The release runs wherever the last hold goes, at once: a premature one frees under close().
            UsbLink link = busyLink(usb, loop, Runnable::run, releases::incrementAndGet);
            // At close()'s first cancel, every other transfer calls back NO_DEVICE, as the event thread would.
            usb.onCancel = first -> {
                usb.onCancel = t -> {
                };
                for (int endpoint : new int[] { FakeUsbIo.IN_ENDPOINT, FakeUsbIo.OUT_ENDPOINT })
                    for (MemorySegment t : usb.inFlight(endpoint))
                        usb.complete(t, LibUsb.TRANSFER_NO_DEVICE, null);
            };

            usb.complete(usb.inFlight(FakeUsbIo.IN_ENDPOINT).get(0), LibUsb.TRANSFER_NO_DEVICE, null);
            UsbLinkTest.onLoop(loop, () -> {
            }); // the completion's task has run: the link is closed
            assertTrue(link.isClosed());

            assertEquals(List.of(), usb.violations, "libusb calls on freed transfers; calls: " + usb.calls);
            assertEquals(1, releases.get(), "releases");
            List<String> calls = usb.calls;
            int lastCancel = -1;
            int firstFree = -1;
            for (int i = 0; i < calls.size(); i++) {
                if (calls.get(i).startsWith("cancel"))
                    lastCancel = i;
                if (calls.get(i).equals("free") && firstFree < 0)
                    firstFree = i;
            }
            assertTrue(lastCancel >= 0 && firstFree > lastCancel, "a transfer was freed before close() made its last cancel: " + calls);
            assertEquals(usb.allocated(), usb.frees.get(), "every transfer freed once");
            assertEquals("close", calls.getLast(), "the device is closed after its transfers are freed");
        } finally {
            loop.shutdown();
            loop.join();
        }
    }

    /**
     * The same storm with real threads: an event thread calls back every
     * transfer while the loop closes the link, in 200 bounded rounds. Each
     * round releases exactly once, on the release thread, after the close,
     * with no libusb call on a freed transfer.
     */
    @Test
    void concurrentCallbacksReleaseExactlyOnceAndNeverEarly() throws Exception {
        EventLoop loop = new EventLoop("usb-holds-test");
        loop.start();
        ExecutorService usbScan = Executors.newSingleThreadExecutor();
        try {
            for (int round = 0; round < 200; round++) {
                FakeUsbIo usb = new FakeUsbIo();
                AtomicInteger releases = new AtomicInteger();
                CountDownLatch released = new CountDownLatch(1);
                UsbLink link = busyLink(usb, loop, usbScan, () -> {
                    releases.incrementAndGet();
                    released.countDown();
                });
                List<MemorySegment> all = new java.util.ArrayList<>(usb.inFlight(FakeUsbIo.IN_ENDPOINT));
                all.addAll(usb.inFlight(FakeUsbIo.OUT_ENDPOINT));
                int closeAt = round % all.size();
                Thread events = Thread.ofPlatform().name("fake-usb-events").start(() -> {
                    for (int i = 0; i < all.size(); i++) {
                        if (i == closeAt)
                            loop.execute(() -> link.close("unplugged"));
                        usb.complete(all.get(i), LibUsb.TRANSFER_NO_DEVICE, null);
                    }
                });
                events.join(TimeUnit.SECONDS.toMillis(5));
                assertFalse(events.isAlive(), "round " + round + ": the event thread hung");
                assertTrue(released.await(5, TimeUnit.SECONDS), "round " + round + ": never released; calls " + usb.calls);
                UsbLinkTest.onLoop(loop, () -> {
                }); // completions still queued on the loop have run
                assertEquals(List.of(), usb.violations, "round " + round + ": calls " + usb.calls);
                assertEquals(1, releases.get(), "round " + round + ": releases");
                assertEquals(usb.allocated(), usb.frees.get(), "round " + round + ": transfers freed");
            }
        } finally {
            usbScan.shutdown();
            loop.shutdown();
            loop.join();
        }
    }

    // ---- NativeHolds' own bookkeeping ----------------------------------------------------

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
}
