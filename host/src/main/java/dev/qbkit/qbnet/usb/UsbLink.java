// The link over USB bulk endpoints: one bundle per transfer each way, several
// reads and writes in flight, completions handed from the USB event thread to
// the board's loop; on close every transfer is cancelled, and freed once the
// close is over and the last completion is handled (NativeHolds decides which comes last).
package dev.qbkit.qbnet.usb;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.link.BundleDrop;
import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.link.Writability;
import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.loop.Timer;

public final class UsbLink implements Link, UsbTransfer.Owner {
    private static final Logger log = LoggerFactory.getLogger(UsbLink.class);

    /** Reads kept posted: the board never waits for one, and one is processed while others fill. */
    public static final int IN_TRANSFERS = 4;
    /** Bundles in flight toward the board; more wait in the queue. */
    public static final int OUT_TRANSFERS = 4;
    /** Stalls survived (each cleared) before the link is given up. */
    private static final int MAX_STALLS = 8;
    /**
     * Transfer errors (bus errors: what an unplug looks like before the
     * kernel has noticed the device is gone) are retried after a pause, this
     * many rounds with no transfer completing before the link is given up.
     */
    private static final int MAX_ERROR_ROUNDS = 5;
    private static final long ERROR_RETRY_NANOS = 200_000_000L;

    private final UsbIo usb;
    private final EventLoop loop;
    private final Executor blockingWork;
    private final Runnable onReleased;
    private final String description;
    private final int maxReceive;
    private final int readSize;
    private final Arena readMemory = Arena.ofShared();
    private final List<UsbTransfer> reads = new ArrayList<>();
    private final List<UsbTransfer> writes = new ArrayList<>();
    private final ArrayDeque<UsbTransfer> idleWrites = new ArrayDeque<>();
    /** Bundles waiting for a free OUT transfer; null entries are zero-length packets. */
    private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
    private final List<UsbTransfer> parkedReads = new ArrayList<>();
    private final long softLimit;
    private final long hardLimit;
    /** The link and its transfers in flight; the native memory lives until the last lets go. */
    private final NativeHolds holds = new NativeHolds();
    private volatile boolean closed;
    private Handler handler;
    private long queuedBytes;
    private final Writability writability;
    private boolean separateZeroPackets;
    private boolean clearingInHalt;
    private boolean clearingOutHalt;
    private int stalls;
    private int errorRounds;
    private final List<UsbTransfer> readsAfterError = new ArrayList<>();
    private final Timer errorRetry = new Timer() {
        @Override
        protected void fire(long now) {
            retryAfterError();
        }
    };

    /**
     * @param blockingWork runs blocking libusb calls (clear halt) and the final release, off the board loop
     * @param onReleased   runs (on blockingWork) once every transfer is freed and the board closed
     */
    public UsbLink(UsbBoard board, EventLoop loop, Executor blockingWork, int maxReceive, int peerMaxBundle,
            Runnable onReleased) {
        this(UsbIo.forBoard(board), loop, blockingWork, maxReceive, peerMaxBundle, onReleased);
    }

    /** Over {@code usb}: libusb on a board, or a test's fake. */
    UsbLink(UsbIo usb, EventLoop loop, Executor blockingWork, int maxReceive, int peerMaxBundle, Runnable onReleased) {
        this.usb = usb;
        this.loop = loop;
        this.blockingWork = blockingWork;
        this.onReleased = onReleased;
        this.description = "usb " + usb.location();
        this.maxReceive = maxReceive;
        int packet = usb.qbnetInterface().inMaxPacket();
        this.readSize = (maxReceive + packet - 1) / packet * packet;
        this.softLimit = (long) (OUT_TRANSFERS + 2) * Math.max(peerMaxBundle, Bundles.INITIAL_MAX);
        this.hardLimit = 64L * Bundles.ABSOLUTE_MAX;
        this.writability = new Writability(loop, () -> queuedBytes > softLimit, () -> closed);
    }

    /** The size of each posted read: MAX_BUNDLE rounded up to the IN endpoint's packet size. */
    public int readSize() {
        return readSize;
    }

    @Override
    public void start(Handler h) {
        this.handler = h;
        writability.start(h);
        QbnetInterface iface = usb.qbnetInterface();
        for (int i = 0; i < IN_TRANSFERS; i++)
            reads.add(UsbTransfer.bulkIn(usb, this, iface.inEndpoint(), readMemory.allocate(readSize, 64)));
        for (int i = 0; i < OUT_TRANSFERS; i++) {
            UsbTransfer t = UsbTransfer.bulkOut(usb, this, iface.outEndpoint());
            writes.add(t);
            idleWrites.add(t);
        }
        for (UsbTransfer t : reads) {
            if (closed)
                break;
            submit(t);
        }
    }

    @Override
    public int maxReceiveBundle() {
        return maxReceive;
    }

    @Override
    public String description() {
        return description;
    }

    // ---- completions: event thread, then the board loop -------------------

    /**
     * On the USB event thread: hand the result to the board loop, which gives
     * the transfer's hold back once it has handled it. A closed link handles
     * nothing: the hold goes back here (or in close(), whichever claims it).
     */
    @Override
    public void onTransferDone(UsbTransfer t) {
        if (!closed)
            loop.execute(() -> completed(t));
        else if (t.claimCompletion())
            returnHold();
    }

    /**
     * On the loop. The transfer's hold is given back only after the handler
     * returned: a close inside onBundle must not free the buffer being parsed.
     */
    private void completed(UsbTransfer t) {
        if (!t.claimCompletion())
            return; // close() gave its hold back already: the memory may be gone, touch nothing
        try {
            if (closed)
                return;
            if (t.isIn())
                readDone(t);
            else
                writeDone(t);
        } finally {
            returnHold();
        }
    }

    /** A completion is over; the last hold out frees the native side. */
    private void returnHold() {
        if (holds.transferReturned())
            blockingWork.execute(this::release);
    }

    private void readDone(UsbTransfer t) {
        int status = t.status();
        switch (status) {
            case LibUsb.TRANSFER_COMPLETED -> {
                errorRounds = 0;
                int length = t.actualLength();
                try {
                    // An empty read is the zero-length packet after a bundle that filled a read exactly.
                    if (length > 0)
                        handler.onBundle(t.readView(), 0, length);
                } finally {
                    if (!closed)
                        submit(t);
                }
            }
            case LibUsb.TRANSFER_OVERFLOW -> {
                // The board sent more than a whole read: a bundle over our MAX_BUNDLE.
                handler.onBadBundle(BundleDrop.BAD_LENGTH);
                submit(t);
            }
            case LibUsb.TRANSFER_STALL -> onStall(t);
            case LibUsb.TRANSFER_NO_DEVICE -> close("unplugged");
            default -> {
                readsAfterError.add(t);
                onTransferError("reading from", status);
            }
        }
    }

    private void writeDone(UsbTransfer t) {
        int status = t.status();
        ByteBuffer bundle = t.bundle();
        if (status == LibUsb.TRANSFER_NO_DEVICE) {
            close("unplugged");
            return;
        }
        // Sent, or lost to a stall or bus error (the protocol above copes with loss): the buffer is free.
        t.setOut(null, false);
        idleWrites.add(t);
        if (bundle != null) {
            queuedBytes -= bundle.remaining();
            handler.onSent(bundle);
        }
        switch (status) {
            case LibUsb.TRANSFER_COMPLETED -> {
                errorRounds = 0;
                if (!errorRetry.isArmed())
                    pump();
            }
            case LibUsb.TRANSFER_STALL -> onStall(t);
            default -> onTransferError("writing to", status);
        }
        if (!closed)
            writability.queueShrank();
    }

    /**
     * A bus error: pause, then resubmit the failed reads and resume writing.
     * An unplug shows up meanwhile as NO_DEVICE; errors that persist for
     * {@link #MAX_ERROR_ROUNDS} rounds close the link.
     */
    private void onTransferError(String direction, int status) {
        if (errorRetry.isArmed())
            return; // this round is already waiting
        if (++errorRounds > MAX_ERROR_ROUNDS) {
            close(direction + " the board failed: " + LibUsb.transferStatusName(status));
            return;
        }
        log.debug("{}: {} the board: {}; retrying", description, direction, LibUsb.transferStatusName(status));
        loop.schedule(errorRetry, loop.now() + ERROR_RETRY_NANOS);
    }

    private void retryAfterError() {
        if (closed)
            return;
        List<UsbTransfer> again = new ArrayList<>(readsAfterError);
        readsAfterError.clear();
        for (UsbTransfer t : again)
            if (!closed)
                submit(t);
        pump();
        if (!closed)
            writability.queueShrank();
    }

    /**
     * A halted endpoint: clear the halt off the loop, then carry on. A board
     * that keeps stalling is given up with a reason that says so.
     */
    private void onStall(UsbTransfer t) {
        if (++stalls > MAX_STALLS) {
            close("the board keeps stalling endpoint 0x" + Integer.toHexString(t.endpoint()));
            return;
        }
        boolean in = t.isIn();
        if (in)
            parkedReads.add(t);
        if (in ? clearingInHalt : clearingOutHalt)
            return;
        if (in)
            clearingInHalt = true;
        else
            clearingOutHalt = true;
        log.warn("{}: endpoint 0x{} stalled; clearing the halt", description, Integer.toHexString(t.endpoint()));
        int endpoint = t.endpoint();
        blockingWork.execute(() -> {
            int rc = closed ? LibUsb.SUCCESS : usb.clearHalt(endpoint);
            loop.execute(() -> haltCleared(in, rc));
        });
    }

    private void haltCleared(boolean in, int rc) {
        if (closed)
            return;
        if (rc != LibUsb.SUCCESS) {
            close(rc == LibUsb.ERROR_NO_DEVICE ? "unplugged" : "cannot clear a stalled endpoint: " + LibUsb.describe(rc));
            return;
        }
        if (in) {
            clearingInHalt = false;
            List<UsbTransfer> again = new ArrayList<>(parkedReads);
            parkedReads.clear();
            for (UsbTransfer t : again)
                if (!closed)
                    submit(t);
        } else {
            clearingOutHalt = false;
            pump();
        }
    }

    private void submit(UsbTransfer t) {
        holds.transferSubmitted();
        int rc = t.submit();
        if (rc == LibUsb.SUCCESS)
            return;
        holds.submitFailed();
        if (rc == LibUsb.ERROR_NO_DEVICE)
            close("unplugged");
        else if (rc == LibUsb.ERROR_NO_MEM)
            close("cannot post a " + (t.isIn() ? readSize : "bundle") + "-byte transfer: out of USB memory"
                    + " (Linux: raise /sys/module/usbcore/parameters/usbfs_memory_mb)");
        else
            close("cannot submit a transfer: " + LibUsb.describe(rc));
    }

    // ---- sending (board loop) -------------------------------------------------

    @Override
    public boolean send(ByteBuffer bundle) {
        return enqueue(bundle, hardLimit);
    }

    @Override
    public boolean sendPriority(ByteBuffer bundle) {
        return enqueue(bundle, hardLimit + CONTROL_RESERVE);
    }

    private boolean enqueue(ByteBuffer bundle, long limit) {
        if (closed || queuedBytes + bundle.remaining() > limit)
            return false;
        if (!bundle.isDirect())
            throw new IllegalArgumentException("UsbLink sends direct buffers only");
        queue.add(bundle);
        queuedBytes += bundle.remaining();
        pump();
        return true; // taken; a close during pump() drops it with the rest of the queue
    }

    /** Moves queued bundles into free OUT transfers. */
    private void pump() {
        int packet = usb.qbnetInterface().outMaxPacket();
        while (!closed && !clearingOutHalt && !errorRetry.isArmed() && !queue.isEmpty() && !idleWrites.isEmpty()) {
            ByteBuffer bundle = queue.poll();
            UsbTransfer t = idleWrites.poll();
            boolean needsZeroPacket = bundle != null && bundle.remaining() % packet == 0;
            t.setOut(bundle, needsZeroPacket && !separateZeroPackets);
            holds.transferSubmitted();
            int rc = t.submit();
            if (rc == LibUsb.SUCCESS) {
                if (needsZeroPacket && separateZeroPackets)
                    queue.addFirst(null);
                continue;
            }
            holds.submitFailed();
            if (rc == LibUsb.ERROR_NOT_SUPPORTED && needsZeroPacket && !separateZeroPackets) {
                // This libusb backend lacks LIBUSB_TRANSFER_ADD_ZERO_PACKET: send the ZLP as its own transfer.
                log.debug("{}: libusb cannot add zero-length packets here; sending them separately", description);
                separateZeroPackets = true;
                queue.addFirst(bundle);
                t.setOut(null, false);
                idleWrites.addFirst(t);
                continue;
            }
            t.setOut(null, false);
            idleWrites.add(t);
            close(rc == LibUsb.ERROR_NO_DEVICE ? "unplugged" : "cannot submit a bundle: " + LibUsb.describe(rc));
        }
    }

    @Override
    public boolean congested() {
        return writability.congested();
    }

    // ---- closing --------------------------------------------------------------

    /**
     * Cancels every transfer and reports onClosed at once; the native side is
     * released (transfers freed, interface released, handle closed) once the
     * cancelling is over and the last callback has come in. Safe to call from
     * any thread.
     */
    @Override
    public void close(String reason) {
        if (!loop.inLoop()) {
            loop.execute(() -> close(reason));
            return;
        }
        if (closed)
            return;
        closed = true;
        loop.cancel(errorRetry);
        for (UsbTransfer t : reads)
            t.cancel();
        for (UsbTransfer t : writes)
            t.cancel();
        queue.clear();
        queuedBytes = 0;
        if (handler != null)
            handler.onClosed(reason);
        // Completions queued for the loop but not handled yet will find the link closed: their holds
        // go back now, so the release never waits on loop tasks that may not run (the loop may end).
        for (UsbTransfer t : reads)
            if (t.claimCompletion())
                holds.transferReturned(); // never the last: the link still holds its own
        for (UsbTransfer t : writes)
            if (t.claimCompletion())
                holds.transferReturned();
        // Only now, with every cancel call over, may a late callback be the one that frees the transfers.
        if (holds.linkClosed())
            blockingWork.execute(this::release);
    }

    /** Whether close() has run; the native side may still be draining. */
    public boolean isClosed() {
        return closed;
    }

    private void release() {
        try {
            for (UsbTransfer t : reads)
                t.free();
            for (UsbTransfer t : writes)
                t.free();
            usb.close();
            readMemory.close();
        } catch (RuntimeException e) {
            log.warn("{}: releasing the device: {}", description, e.toString());
        } finally {
            onReleased.run();
        }
    }
}
