// Finds qbnet boards on USB and keeps them attached: libusb hotplug events and
// a rescan every second lead to the same idempotent scan on one "usb-scan"
// thread, which opens, resets and hands each new board over, and notices unplugs.
package dev.qbkit.qbnet.usb;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.platform.Platform;

public final class UsbBoards implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UsbBoards.class);
    static final long RESCAN_MILLIS = 1000;
    private static final long MAX_RETRY_MILLIS = 5000;
    private static final long RELEASE_WAIT_MILLIS = 3000;

    /** Gives an opened board its loop and session; the factory runs on the loop thread it is given. */
    public interface BoardStarter {
        /**
         * @param serial the board's serial as its HELLO will say it (GET_INFO, else the string descriptor), or
         *               null: a board held with this serial takes the link on its own loop
         * @return false when the board could not be started (the factory was not called)
         */
        boolean start(String name, String serial, Function<EventLoop, Link> linkFactory);
    }

    /** A board handed to the starter, until its link has released the device. */
    private static final class Attached {
        final String key;
        final UsbBoard board;
        volatile UsbLink link;

        Attached(String key, UsbBoard board) {
            this.key = key;
            this.board = board;
        }
    }

    /** A device that failed to attach: retried with backoff, reported once per distinct reason. */
    private record Failure(String message, long retryAt, long delay) {
    }

    private final UsbContext context;
    private final Set<UsbId> ids;
    private final BoardStarter starter;
    private final int maxReceiveBundle;
    private final ScheduledExecutorService scanThread;
    private final Map<String, Attached> attached = new ConcurrentHashMap<>();
    /** Scan-thread state: devices that failed, and devices that are not qbnet boards (reported once). */
    private final Map<String, Failure> failures = new HashMap<>();
    private final Set<String> ignored = new HashSet<>();
    private final AtomicBoolean scanQueued = new AtomicBoolean();
    private volatile boolean stopped;
    private ScheduledFuture<?> periodic;

    public UsbBoards(UsbContext context, List<UsbId> ids, int maxReceiveBundle, BoardStarter starter) {
        this.context = context;
        this.ids = Set.copyOf(ids);
        this.starter = starter;
        this.maxReceiveBundle = maxReceiveBundle;
        this.scanThread = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("usb-scan")
                .daemon(true).unstarted(r));
    }

    /** Watches hotplug where libusb has it and starts the periodic rescan (which scans at once). */
    public void start() {
        boolean hotplug = context.watchHotplug(this::requestScan);
        log.info("looking for qbnet boards on USB ({}; libusb {}, {})", ids.stream().map(UsbId::toString).sorted().toList(),
                context.libusbVersion(), hotplug ? "hotplug events + rescan every second" : "rescan every second");
        periodic = scanThread.scheduleWithFixedDelay(this::scan, 0, RESCAN_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** From the hotplug callback (event thread): scan soon, once however many events came. */
    private void requestScan() {
        if (!stopped && scanQueued.compareAndSet(false, true)) {
            try {
                scanThread.execute(this::scan);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // stopping
            }
        }
    }

    // ---- the scan (usb-scan thread) ------------------------------------------

    private void scan() {
        scanQueued.set(false);
        if (stopped)
            return;
        List<UsbDevice> devices;
        try {
            devices = UsbDevice.scan(context, ids);
        } catch (UsbException | RuntimeException e) {
            log.warn("USB scan failed: {}", e.getMessage());
            return;
        }
        Set<String> present = new HashSet<>();
        for (UsbDevice d : devices)
            present.add(d.key());
        // Vanished devices first: a board replugged at once is held by its old session only once
        // that link's close has run, and the close is queued on its loop before the new attach.
        for (Attached a : attached.values()) {
            UsbLink link = a.link;
            if (!present.contains(a.key) && link != null && !link.isClosed())
                link.close("unplugged");
        }
        try {
            for (UsbDevice d : devices)
                if (!attached.containsKey(d.key()))
                    consider(d);
        } finally {
            for (UsbDevice d : devices)
                d.close();
        }
        failures.keySet().retainAll(present);
        ignored.retainAll(present);
    }

    private void consider(UsbDevice device) {
        String key = device.key();
        if (device.qbnet() == null) {
            if (ignored.add(key))
                log.info("ignoring {}: {}", device.describe(), device.noInterfaceReason());
            return;
        }
        long now = System.nanoTime();
        Failure previous = failures.get(key);
        if (previous != null && now - previous.retryAt() < 0)
            return;
        try {
            attach(device);
            failures.remove(key);
        } catch (UsbException e) {
            if (e.isNoDevice())
                return; // unplugged while we looked at it
            String message = e.isAccessDenied() ? Platform.accessDeniedHint(Platform.os(), device.describe())
                    : e.isBusy() ? Platform.busyHint(device.describe()) : e.getMessage();
            long delay = previous == null ? RESCAN_MILLIS : Math.min(previous.delay() * 2, MAX_RETRY_MILLIS);
            if (previous == null || !previous.message().equals(message))
                log.warn("{}", message);
            else
                log.debug("still failing: {}", message);
            failures.put(key, new Failure(message, now + delay * 1_000_000, delay));
        }
    }

    private void attach(UsbDevice device) throws UsbException {
        UsbBoard board = UsbBoard.open(context, device, true);
        try {
            board.resetLink();
        } catch (UsbException e) {
            if (e.isNoDevice()) {
                board.close();
                throw e;
            }
            log.warn("usb {}: {}; starting the session anyway", board.location(), e.getMessage());
        }
        if (board.info() == null)
            log.debug("usb {}: no GET_INFO: {}", board.location(), board.infoProblem());
        Attached a = new Attached(device.key(), board);
        attached.put(a.key, a);
        log.info("usb {}: qbnet board attached: {}; {}", board.location(), board.summary(), board.qbnetInterface());
        String serial = board.info() != null && board.info().serial() != null ? board.info().serial() : board.serial();
        boolean started = starter.start("usb " + board.location(), serial, loop -> {
            UsbLink link = new UsbLink(board, loop, scanThread, maxReceiveBundle, maxReceiveBundle, () -> released(a));
            a.link = link;
            return link;
        });
        if (!started) {
            attached.remove(a.key);
            board.close();
        }
    }

    /** The link let go of the device (on the usb-scan thread): a replug, or a rescan, may attach it again. */
    private void released(Attached a) {
        attached.remove(a.key);
        log.info("usb {}: board detached (serial {})", a.board.location(),
                a.board.serial() == null ? "none" : a.board.serial());
    }

    /** Boards currently attached (for tests and status). */
    public int attachedCount() {
        return attached.size();
    }

    // ---- stopping -------------------------------------------------------------

    /** Stops finding boards and waits for a scan in progress; attached boards stay up. */
    public void stopScanning() {
        stopped = true;
        if (periodic != null)
            periodic.cancel(false);
        try {
            scanThread.submit(() -> {
            }).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | java.util.concurrent.RejectedExecutionException e) {
            log.debug("waiting for the USB scan: {}", e.toString());
        }
    }

    /**
     * Closes every link still attached, waits for their devices to be
     * released, and frees the libusb context.
     */
    @Override
    public void close() {
        stopScanning();
        for (Attached a : attached.values()) {
            UsbLink link = a.link;
            if (link != null)
                link.close("qbnet is stopping");
        }
        long deadline = System.nanoTime() + RELEASE_WAIT_MILLIS * 1_000_000;
        while (!attached.isEmpty() && System.nanoTime() - deadline < 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        boolean allReleased = attached.isEmpty();
        if (!allReleased)
            log.warn("{} USB board(s) did not release in time; leaving them to the process exit", attached.size());
        scanThread.shutdown();
        try {
            scanThread.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        context.close(allReleased);
    }
}
