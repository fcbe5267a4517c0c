// UsbLink driven through a fake libusb (FakeUsbIo): a read's buffer stays
// valid for as long as the session parses it, even when the session closes
// the link from inside onBundle (issue 14, defect 4).
package dev.qbkit.qbnet.usb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.link.BundleDrop;
import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.loop.EventLoop;

class UsbLinkTest {
    /** Link events, none of which may come after onClosed. */
    static class Events implements Link.Handler {
        final List<String> log = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onBundle(ByteBuffer buf, int offset, int length) {
            log.add("bundle " + length);
        }

        @Override
        public void onSent(ByteBuffer bundle) {
            log.add("sent");
        }

        @Override
        public void onWritable() {
            log.add("writable");
        }

        @Override
        public void onClosed(String reason) {
            log.add("closed: " + reason);
        }

        @Override
        public void onBadBundle(BundleDrop reason) {
            log.add("bad " + reason);
        }
    }

    /** Runs {@code work} on the loop and waits for it; what it throws is thrown here. */
    static void onLoop(EventLoop loop, Runnable work) throws Exception {
        CompletableFuture.runAsync(work, loop).get(5, TimeUnit.SECONDS);
    }

    static byte[] pattern(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++)
            b[i] = (byte) (i * 7 + 3);
        return b;
    }

    @Test
    void aCloseInsideOnBundleFreesTheReadBufferOnlyAfterTheParse() throws Exception {
        EventLoop loop = new EventLoop("usb-link-test");
        loop.start();
        try {
            FakeUsbIo usb = new FakeUsbIo();
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch released = new CountDownLatch(1);
            // The release runs wherever the last hold goes (usb-scan in qbnet): here at once, on that thread.
            UsbLink link = new UsbLink(usb, loop, Runnable::run, 65536, 65536, () -> {
                order.add("released");
                released.countDown();
            });
            // Cancelled reads call back at once, as libusb's event thread may while close() still runs.
            usb.onCancel = t -> usb.complete(t, LibUsb.TRANSFER_CANCELLED, null);
            byte[] sent = pattern(4096);
            AtomicReference<Throwable> parseFailure = new AtomicReference<>();
            CountDownLatch handled = new CountDownLatch(1);
            Events session = new Events() {
                @Override
                public void onBundle(ByteBuffer buf, int offset, int length) {
                    order.add("bundle");
                    link.close("the board said goodbye"); // what a session does on a fatal control message
                    try {
                        for (int i = 0; i < length; i++)
                            if (buf.get(offset + i) != sent[i])
                                throw new AssertionError("byte " + i + " changed under the parser");
                        order.add("parsed " + length);
                    } catch (Throwable e) {
                        parseFailure.set(e);
                    } finally {
                        handled.countDown();
                    }
                }
            };
            onLoop(loop, () -> link.start(session));
            assertEquals(UsbLink.IN_TRANSFERS, usb.inFlight(FakeUsbIo.IN_ENDPOINT).size(), "reads posted");

            usb.complete(usb.inFlight(FakeUsbIo.IN_ENDPOINT).get(0), LibUsb.TRANSFER_COMPLETED, sent);

            assertTrue(handled.await(5, TimeUnit.SECONDS), "the bundle never reached the session");
            assertTrue(released.await(5, TimeUnit.SECONDS), "the link never released its memory: " + order);
            assertNull(parseFailure.get(), () -> "the read buffer was freed while onBundle still parsed it: "
                    + parseFailure.get() + "; order " + order);
            assertEquals(List.of("bundle", "parsed 4096", "released"), order);
            assertEquals(List.of(), usb.violations, "libusb calls on freed transfers");
            assertEquals(usb.allocated(), usb.frees.get(), "every transfer freed once");
            assertEquals(1, usb.deviceCloses.get());
        } finally {
            loop.shutdown();
            loop.join();
        }
    }

    /** A board that reads nothing: data stops at the hard limit, a control bundle still goes into the reserve. */
    @Test
    void aControlBundleGetsPastTheHardLimitDataCannotUse() throws Exception {
        EventLoop loop = new EventLoop("usb-link-test");
        loop.start();
        try {
            FakeUsbIo usb = new FakeUsbIo();
            UsbLink link = new UsbLink(usb, loop, Runnable::run, 65536, 65536, () -> {
            });
            ByteBuffer data = ByteBuffer.allocateDirect(dev.qbkit.qbnet.link.Bundles.ABSOLUTE_MAX);
            int[] result = new int[3];
            onLoop(loop, () -> {
                link.start(new Events());
                while (result[0] < 200 && link.send(data.duplicate()))
                    result[0]++;
                result[1] = link.sendPriority(ByteBuffer.allocateDirect(40)) ? 1 : 0;
                result[2] = link.send(ByteBuffer.allocateDirect(40)) ? 1 : 0;
                link.close("test over");
            });
            assertTrue(result[0] > 0 && result[0] < 200, "data bundles taken before the hard limit: " + result[0]);
            assertEquals(1, result[1], "a control bundle was refused with data");
            assertEquals(0, result[2], "data used the reserve");
        } finally {
            loop.shutdown();
            loop.join();
        }
    }
}
