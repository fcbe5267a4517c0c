// One libusb bulk transfer: the native struct from libusb_alloc_transfer, the
// memory it points at (its own read buffer, or the session's bundle kept
// reachable until the callback), the route of its callback to its owner, and
// whether a completion is still waiting to be handled on the board's loop.
package dev.qbkit.qbnet.usb;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// Native access is this class's job; the jar grants it (Enable-Native-Access in the manifest).
@SuppressWarnings("restricted")
final class UsbTransfer {
    private static final Logger log = LoggerFactory.getLogger(UsbTransfer.class);

    /** Receives a finished transfer on the USB event thread; must only record and hand on. */
    interface Owner {
        void onTransferDone(UsbTransfer transfer);
    }

    /** Allocated transfers by native address: how the one static callback finds its Java object. */
    private static final ConcurrentHashMap<Long, UsbTransfer> LIVE = new ConcurrentHashMap<>();

    private final UsbIo io;
    private final MemorySegment struct;
    private final Owner owner;
    private final int endpoint;
    /** IN: a ByteBuffer view of the read buffer (native memory owned by the link). */
    private final ByteBuffer readView;
    /** OUT: the bundle in flight (null for a lone zero-length packet). */
    private ByteBuffer bundle;
    private int status;
    private int actualLength;
    private boolean freed;
    /** Completed on the event thread and not yet handled, nor taken back by the link's close. */
    private final AtomicBoolean completionPending = new AtomicBoolean();

    private UsbTransfer(UsbIo io, Owner owner, int endpoint, MemorySegment readBuffer) {
        MemorySegment raw = io.allocTransfer();
        if (raw.equals(MemorySegment.NULL))
            throw new OutOfMemoryError("libusb_alloc_transfer failed");
        this.io = io;
        this.struct = raw.reinterpret(LibUsbStructs.TRANSFER.byteSize());
        this.owner = owner;
        this.endpoint = endpoint;
        this.readView = readBuffer == null ? null : readBuffer.asByteBuffer();
        struct.set(ADDRESS, LibUsbStructs.TRANSFER_DEV_HANDLE, io.handle());
        struct.set(JAVA_BYTE, LibUsbStructs.TRANSFER_ENDPOINT, (byte) endpoint);
        struct.set(JAVA_BYTE, LibUsbStructs.TRANSFER_TYPE, (byte) LibUsb.TRANSFER_TYPE_BULK);
        struct.set(JAVA_INT, LibUsbStructs.TRANSFER_TIMEOUT, 0); // bulk: no timeout, liveness is the session's
        struct.set(ADDRESS, LibUsbStructs.TRANSFER_CALLBACK, io.transferCallback());
        struct.set(ADDRESS, LibUsbStructs.TRANSFER_USER_DATA, MemorySegment.NULL);
        struct.set(JAVA_INT, LibUsbStructs.TRANSFER_NUM_ISO_PACKETS, 0);
        LIVE.put(struct.address(), this);
    }

    /** A bulk read from {@code endpoint} into {@code buffer} (whole segment). */
    static UsbTransfer bulkIn(UsbIo io, Owner owner, int endpoint, MemorySegment buffer) {
        UsbTransfer t = new UsbTransfer(io, owner, endpoint, buffer);
        t.struct.set(JAVA_BYTE, LibUsbStructs.TRANSFER_FLAGS, (byte) 0);
        t.struct.set(ADDRESS, LibUsbStructs.TRANSFER_BUFFER, buffer);
        t.struct.set(JAVA_INT, LibUsbStructs.TRANSFER_LENGTH, (int) buffer.byteSize());
        return t;
    }

    static UsbTransfer bulkOut(UsbIo io, Owner owner, int endpoint) {
        return new UsbTransfer(io, owner, endpoint, null);
    }

    int endpoint() {
        return endpoint;
    }

    boolean isIn() {
        return (endpoint & LibUsb.ENDPOINT_IN) != 0;
    }

    /** The read buffer as a ByteBuffer (IN transfers). */
    ByteBuffer readView() {
        return readView;
    }

    /** The bundle this OUT transfer carries, null when none or a lone zero-length packet. */
    ByteBuffer bundle() {
        return bundle;
    }

    int status() {
        return status;
    }

    int actualLength() {
        return actualLength;
    }

    int submit() {
        return io.submitTransfer(struct);
    }

    /**
     * Takes the completion the event thread recorded, once: either the loop
     * handles it, or the link's close gives its hold back. False when the
     * other one already did.
     */
    boolean claimCompletion() {
        return completionPending.compareAndSet(true, false);
    }

    /**
     * Points this OUT transfer at {@code data} (a direct buffer, position to
     * limit; null for a zero-length packet) without copying; the buffer stays
     * referenced here until the next {@link #setOut}.
     */
    void setOut(ByteBuffer data, boolean addZeroPacket) {
        this.bundle = data;
        MemorySegment segment = data == null ? MemorySegment.NULL : MemorySegment.ofBuffer(data);
        struct.set(JAVA_BYTE, LibUsbStructs.TRANSFER_FLAGS, (byte) (addZeroPacket ? LibUsb.TRANSFER_ADD_ZERO_PACKET : 0));
        struct.set(ADDRESS, LibUsbStructs.TRANSFER_BUFFER, segment);
        struct.set(JAVA_INT, LibUsbStructs.TRANSFER_LENGTH, data == null ? 0 : data.remaining());
    }

    /** Asks libusb to cancel; the callback still comes (CANCELLED, or whatever finished first). */
    int cancel() {
        return io.cancelTransfer(struct);
    }

    /** Frees the native struct; only when it is not in flight (its callback has run). */
    void free() {
        if (freed)
            return;
        freed = true;
        LIVE.remove(struct.address());
        io.freeTransfer(struct);
        bundle = null;
    }

    /** The upcall libusb makes on the event thread; must not throw. */
    static void callback(MemorySegment transfer) {
        UsbTransfer t = LIVE.get(transfer.address());
        if (t == null) {
            log.error("libusb completed an unknown transfer at 0x{}", Long.toHexString(transfer.address()));
            return;
        }
        try {
            t.status = t.struct.get(JAVA_INT, LibUsbStructs.TRANSFER_STATUS);
            t.actualLength = t.struct.get(JAVA_INT, LibUsbStructs.TRANSFER_ACTUAL_LENGTH);
            t.completionPending.set(true);
            t.owner.onTransferDone(t);
        } catch (Throwable e) {
            log.error("transfer callback failed: {}", e.toString(), e);
        }
    }
}
