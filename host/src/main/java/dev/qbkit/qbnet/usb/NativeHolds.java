// Who still needs a USB link's native memory (transfer structs, read buffers,
// the device handle): the open link itself, and every transfer in flight or
// whose completion is still being handled. The one that lets go last, on
// whichever thread, is the one that frees it.
package dev.qbkit.qbnet.usb;

import java.util.concurrent.atomic.AtomicInteger;

final class NativeHolds {
    /** The link's own hold (given up when close() has cancelled everything) plus one per transfer out. */
    private final AtomicInteger holds = new AtomicInteger(1);

    /** Before a transfer is submitted; only while the link still holds its own. */
    void transferSubmitted() {
        int now;
        do {
            now = holds.get();
            if (now <= 0)
                throw new IllegalStateException("a transfer was submitted after the link's memory was released");
        } while (!holds.compareAndSet(now, now + 1));
    }

    /** A submit that failed: the transfer never went out (the link still holds, so this is never the last). */
    void submitFailed() {
        drop();
    }

    /**
     * A transfer's completion is over: handled on the loop, or dropped because
     * the link had closed. @return true when this was the last hold: free everything now
     */
    boolean transferReturned() {
        return drop();
    }

    /**
     * The link has closed and cancelled every transfer: it gives up its own
     * hold. Called once. Not before the cancelling is over: a transfer
     * freed while libusb_cancel_transfer still walks it is a use-after-free.
     *
     * @return true when no transfer is in flight: free everything now
     */
    boolean linkClosed() {
        return drop();
    }

    /** Holds still taken: the link's own (until it closed) plus the transfers in flight; 0 once released. */
    int count() {
        return holds.get();
    }

    private boolean drop() {
        int left = holds.decrementAndGet();
        if (left < 0)
            throw new IllegalStateException("more holds given up than taken");
        return left == 0;
    }
}
