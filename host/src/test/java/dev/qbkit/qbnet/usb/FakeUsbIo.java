// A fake libusb for driving UsbLink without a device: transfer structs live in
// arenas of their own, and freeing one closes its arena, so any later touch of
// a freed transfer (a cancel, a submit) throws IllegalStateException and is
// recorded. Tests complete transfers as libusb's event thread would.
package dev.qbkit.qbnet.usb;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

// Reinterpreting a read's buffer pointer is how libusb itself would fill it.
@SuppressWarnings("restricted")
final class FakeUsbIo implements UsbIo {
    static final int IN_ENDPOINT = 0x81;
    static final int OUT_ENDPOINT = 0x01;
    static final QbnetInterface INTERFACE = new QbnetInterface(0, 0, IN_ENDPOINT, 512, OUT_ENDPOINT, 512);

    /** Every transfer allocated, in order, by its struct's address. */
    private final Map<Long, Arena> arenas = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<Long, MemorySegment> structs = new ConcurrentHashMap<>();
    /** Transfers submitted and not yet completed, by address. */
    final Map<Long, MemorySegment> inFlight = new ConcurrentHashMap<>();
    /** libusb calls on transfers that were already freed: each one a use-after-free in real libusb. */
    final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    /** Every call, in order ("submit 0x81", "cancel 0x01", "free", "close"). */
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger frees = new AtomicInteger();
    final AtomicInteger deviceCloses = new AtomicInteger();
    /** Runs inside each cancel of an in-flight transfer: what the event thread may do at that moment. */
    volatile Consumer<MemorySegment> onCancel = t -> {
    };

    @Override
    public String location() {
        return "9-9";
    }

    @Override
    public QbnetInterface qbnetInterface() {
        return INTERFACE;
    }

    @Override
    public MemorySegment handle() {
        return MemorySegment.NULL;
    }

    @Override
    public MemorySegment allocTransfer() {
        Arena arena = Arena.ofShared();
        MemorySegment s = arena.allocate(LibUsbStructs.TRANSFER);
        arenas.put(s.address(), arena);
        structs.put(s.address(), s);
        return s;
    }

    @Override
    public MemorySegment transferCallback() {
        return MemorySegment.NULL;
    }

    @Override
    public int submitTransfer(MemorySegment transfer) {
        MemorySegment s = live(transfer, "submit");
        if (s == null)
            return LibUsb.ERROR_NOT_FOUND;
        calls.add("submit 0x" + Integer.toHexString(endpoint(s)));
        inFlight.put(s.address(), s);
        return LibUsb.SUCCESS;
    }

    @Override
    public int cancelTransfer(MemorySegment transfer) {
        MemorySegment s = live(transfer, "cancel");
        if (s == null)
            return LibUsb.ERROR_NOT_FOUND;
        calls.add("cancel 0x" + Integer.toHexString(endpoint(s)));
        if (!inFlight.containsKey(s.address()))
            return LibUsb.ERROR_NOT_FOUND;
        onCancel.accept(s);
        return LibUsb.SUCCESS;
    }

    @Override
    public void freeTransfer(MemorySegment transfer) {
        if (live(transfer, "free") == null)
            return;
        if (inFlight.containsKey(transfer.address()))
            violations.add("free of a transfer in flight");
        calls.add("free");
        frees.incrementAndGet();
        arenas.get(transfer.address()).close();
    }

    @Override
    public int clearHalt(int endpoint) {
        calls.add("clear-halt 0x" + Integer.toHexString(endpoint));
        return LibUsb.SUCCESS;
    }

    @Override
    public void close() {
        calls.add("close");
        deviceCloses.incrementAndGet();
    }

    /** The struct, or null (recorded) when it was freed: touching it throws, as reading freed memory would fault. */
    private MemorySegment live(MemorySegment transfer, String call) {
        MemorySegment s = structs.get(transfer.address());
        try {
            s.get(JAVA_INT, LibUsbStructs.TRANSFER_STATUS);
            return s;
        } catch (IllegalStateException freed) {
            violations.add(call + " of a freed transfer");
            return null;
        }
    }

    private static int endpoint(MemorySegment s) {
        return Byte.toUnsignedInt(s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, LibUsbStructs.TRANSFER_ENDPOINT));
    }

    // ---- the event thread's side ---------------------------------------------------

    /** The transfers in flight toward {@code endpoint}, oldest submit first. */
    List<MemorySegment> inFlight(int endpoint) {
        List<MemorySegment> out = new ArrayList<>();
        synchronized (arenas) {
            for (Long address : arenas.keySet()) {
                MemorySegment s = inFlight.get(address);
                if (s != null && endpoint(s) == endpoint)
                    out.add(s);
            }
        }
        return out;
    }

    /** libusb finishes {@code transfer}: an IN read receives {@code data}; the callback runs on this thread. */
    void complete(MemorySegment transfer, int status, byte[] data) {
        if (inFlight.remove(transfer.address()) == null)
            throw new IllegalStateException("completing a transfer that is not in flight");
        int length = 0;
        if (data != null) {
            MemorySegment buffer = transfer.get(ADDRESS, LibUsbStructs.TRANSFER_BUFFER).reinterpret(data.length);
            MemorySegment.copy(MemorySegment.ofArray(data), 0, buffer, 0, data.length);
            length = data.length;
        } else if (status == LibUsb.TRANSFER_COMPLETED) {
            length = transfer.get(JAVA_INT, LibUsbStructs.TRANSFER_LENGTH);
        }
        transfer.set(JAVA_INT, LibUsbStructs.TRANSFER_STATUS, status);
        transfer.set(JAVA_INT, LibUsbStructs.TRANSFER_ACTUAL_LENGTH, length);
        UsbTransfer.callback(transfer);
    }

    /** Every transfer freed, none used after it. */
    int allocated() {
        return arenas.size();
    }
}
