// One libusb context for the process and the one daemon thread that handles
// its events: every transfer callback and hotplug callback runs on that
// thread ("usb-events"), which only records results and hands them on.
package dev.qbkit.qbnet.usb;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodType;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.platform.Platform;

public final class UsbContext implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UsbContext.class);
    /** How long one event-handling call may block; close() interrupts it sooner. */
    private static final long EVENT_WAIT_SECONDS = 1;

    /** Made on first use, after open() has loaded libusb (or reported why it cannot). */
    private static final class HotplugStub {
        static final MemorySegment STUB = LibUsb.upcall(UsbContext.class, "hotplugCallback",
                MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, int.class,
                        MemorySegment.class),
                LibUsb.HOTPLUG_CALLBACK);
    }

    /** The one context's hotplug listener (the upcall stub is static, as is libusb's callback). */
    private static volatile Runnable hotplugListener;

    private final MemorySegment context;
    private final Arena arena = Arena.ofShared();
    private final Thread eventThread;
    private final String version;
    private volatile boolean running = true;
    private int hotplugHandle = -1;
    private boolean closed;

    private UsbContext(MemorySegment context, String version) {
        this.context = context;
        this.version = version;
        this.eventThread = Thread.ofPlatform().name("usb-events").daemon(true).unstarted(this::handleEvents);
    }

    /**
     * Loads libusb, creates the context and starts its event thread.
     *
     * @param logLevel libusb's own stderr logging: 0 none … 4 debug
     */
    public static UsbContext open(int logLevel) throws UsbException {
        try {
            Platform.libusb();
        } catch (Platform.LibraryMissing e) {
            throw new UsbException(e.getMessage());
        }
        MemorySegment context;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = LibUsb.init(out);
            if (rc != LibUsb.SUCCESS)
                throw new UsbException("cannot initialise libusb", rc);
            context = out.get(ADDRESS, 0);
        }
        LibUsb.setLogLevel(context, logLevel);
        UsbContext c = new UsbContext(context, LibUsb.version());
        c.eventThread.start();
        log.debug("libusb {} ready (hotplug {})", c.version, c.hasHotplug() ? "supported" : "not supported");
        return c;
    }

    MemorySegment pointer() {
        return context;
    }

    public String libusbVersion() {
        return version;
    }

    public boolean hasHotplug() {
        return LibUsb.hasCapability(LibUsb.CAP_HAS_HOTPLUG);
    }

    /**
     * Calls {@code onChange} (on the event thread: it must only hand work
     * on) whenever a USB device arrives or leaves. False when this platform
     * or libusb build has no hotplug support.
     */
    public synchronized boolean watchHotplug(Runnable onChange) {
        if (!hasHotplug())
            return false;
        hotplugListener = onChange;
        MemorySegment handle = arena.allocate(JAVA_INT);
        int rc = LibUsb.hotplugRegister(context, LibUsb.HOTPLUG_EVENT_DEVICE_ARRIVED | LibUsb.HOTPLUG_EVENT_DEVICE_LEFT,
                HotplugStub.STUB, handle);
        if (rc != LibUsb.SUCCESS) {
            hotplugListener = null;
            log.warn("libusb hotplug unavailable ({}); finding boards by rescanning every second", LibUsb.describe(rc));
            return false;
        }
        hotplugHandle = handle.get(JAVA_INT, 0);
        return true;
    }

    /** Upcall from libusb on the event thread; must not throw. Returns 0 to stay registered. */
    static int hotplugCallback(MemorySegment ctx, MemorySegment device, int event, MemorySegment userData) {
        try {
            Runnable listener = hotplugListener;
            if (listener != null)
                listener.run();
        } catch (Throwable t) {
            log.warn("hotplug callback failed: {}", t.toString());
        }
        return 0;
    }

    private void handleEvents() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment timeval = a.allocate(LibUsbStructs.TIMEVAL);
            long errors = 0;
            while (running) {
                // tv_usec stays 0 (see LibUsbStructs.TIMEVAL); libusb may write the remainder back.
                timeval.fill((byte) 0);
                if (LibUsbStructs.C_LONG.byteSize() == 8)
                    timeval.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, EVENT_WAIT_SECONDS);
                else
                    timeval.set(JAVA_INT, 0, (int) EVENT_WAIT_SECONDS);
                int rc = LibUsb.handleEventsTimeoutCompleted(context, timeval);
                if (rc < 0 && rc != LibUsb.ERROR_INTERRUPTED && running) {
                    if (errors++ == 0)
                        log.warn("libusb event handling failed: {}", LibUsb.describe(rc));
                    Thread.sleep(10);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            log.error("the USB event thread failed: {}", t.toString(), t);
        }
    }

    boolean onEventThread() {
        return Thread.currentThread() == eventThread;
    }

    /**
     * Stops event handling and frees the context. Every device handle must be
     * closed first; when some are not (a transfer that never completed), the
     * context is left to the process exit rather than freed under them.
     */
    public synchronized void close(boolean handlesClosed) {
        if (closed)
            return;
        closed = true;
        if (hotplugHandle >= 0) {
            LibUsb.hotplugDeregister(context, hotplugHandle);
            hotplugHandle = -1;
        }
        hotplugListener = null;
        running = false;
        LibUsb.interruptEventHandler(context);
        try {
            eventThread.join(2 * EVENT_WAIT_SECONDS * 1000 + 500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (handlesClosed && !eventThread.isAlive())
            LibUsb.exit(context);
        else
            log.debug("libusb context left open: handles or the event thread are still busy");
        arena.close();
    }

    @Override
    public void close() {
        close(true);
    }
}
