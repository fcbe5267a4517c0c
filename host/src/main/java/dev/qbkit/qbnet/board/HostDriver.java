// The running host driver: accepts boards from the transports (Unix socket,
// USB) and gives each its own event loop thread, session and NAT; keeps a
// board whose link went for --hold and gives it its next link (by serial);
// stops them all on shutdown.
package dev.qbkit.qbnet.board;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.control.BoardStatus;
import dev.qbkit.qbnet.control.ControlRequest;
import dev.qbkit.qbnet.control.ControlServer;
import dev.qbkit.qbnet.control.StatusReport;
import dev.qbkit.qbnet.forward.ForwardSpec;
import dev.qbkit.qbnet.link.StreamLink;
import dev.qbkit.qbnet.link.UnixLinkServer;
import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.metrics.Metrics;
import dev.qbkit.qbnet.metrics.MetricsServer;
import dev.qbkit.qbnet.nat.Counter;
import dev.qbkit.qbnet.nat.DnsUpstreams;
import dev.qbkit.qbnet.nat.NatConfig;
import dev.qbkit.qbnet.platform.HostResolvers;
import dev.qbkit.qbnet.platform.Platform;
import dev.qbkit.qbnet.usb.UsbBoards;
import dev.qbkit.qbnet.usb.UsbContext;
import dev.qbkit.qbnet.usb.UsbException;
import dev.qbkit.qbnet.usb.UsbId;

public final class HostDriver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostDriver.class);
    public static final int MAX_RECEIVE_BUNDLE = 262144;
    public static final java.time.Duration DEFAULT_HOLD = java.time.Duration.ofSeconds(30);

    /** One attached board and the loop thread it runs on. */
    public record Board(int id, EventLoop loop, BoardSession session) {
    }

    private final NatConfig natConfig;
    private final DnsUpstreams dnsUpstreams;
    private final ResolverWatcher resolverWatcher;
    private final Map<Integer, Board> boards = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private EventLoop acceptLoop;
    private UnixLinkServer unixServer;
    private UsbBoards usbBoards;
    private final List<ForwardSpec> forwards = new CopyOnWriteArrayList<>();
    private final Map<ForwardSpec, Integer> holders = new ConcurrentHashMap<>();
    private final long startedAt = System.nanoTime();
    private volatile String linkDescription = "";
    private ControlServer control;
    private MetricsServer metricsServer;
    private FaultInjection faults = FaultInjection.NONE;
    private volatile long holdNanos = DEFAULT_HOLD.toNanos();
    /** Held boards by serial (doc/DESIGN.md, "Connections survive an unplug"). */
    private final Map<String, BoardSession> held = new ConcurrentHashMap<>();
    private final AtomicBoolean toldNoSerial = new AtomicBoolean();
    private final BoardSession.Keeper keeper = new BoardSession.Keeper() {
        @Override
        public long holdNanos() {
            return holdNanos;
        }

        @Override
        public void held(BoardSession session) {
            held.put(session.serial(), session);
        }

        @Override
        public void unheld(BoardSession session) {
            String serial = session.serial();
            if (serial != null)
                held.remove(serial, session);
        }

        @Override
        public void cannotHold(BoardSession session) {
            if (toldNoSerial.compareAndSet(false, true))
                log.warn("{}: the board has no serial, so its connections cannot be kept for its return "
                        + "(--hold): give it one (qbnetd --serial) [said once]", session.name());
        }

        @Override
        public BoardSession claim(String serial, BoardSession requester) {
            BoardSession s = held.get(serial);
            if (s == null || s == requester || !s.claim())
                return null;
            held.remove(serial, s);
            return s;
        }
    };

    public HostDriver(NatConfig natConfig, List<InetSocketAddress> configuredUpstreams) {
        this.natConfig = natConfig;
        this.dnsUpstreams = DnsUpstreams.of(configuredUpstreams);
        if (!configuredUpstreams.isEmpty()) {
            resolverWatcher = null;
            log.info("DNS for boards goes to {} (--dns-upstream)", ResolverWatcher.describe(configuredUpstreams));
            return;
        }
        // The host's own servers, followed as its network changes (Wi-Fi, VPN, a network that comes later).
        Platform.Os os = Platform.os();
        resolverWatcher = new ResolverWatcher(HostResolvers.forOs(os), dnsUpstreams, System::nanoTime);
        resolverWatcher.check();
        resolverWatcher.start(HostResolvers.pollInterval(os));
    }

    /** The DNS servers boards' queries go to now. */
    public DnsUpstreams dnsUpstreams() {
        return dnsUpstreams;
    }

    public void listenUnix(Path path) throws IOException {
        acceptLoop = new EventLoop("link-accept");
        acceptLoop.start();
        unixServer = new UnixLinkServer(path, acceptLoop, ch -> attachStream(ch, "unix:" + path));
        unixServer.start();
        linkDescription = "unix:" + path;
        log.info("waiting for boards on unix:{}", path);
    }

    /**
     * Serves qbnet boards on USB whose VID:PID is in {@code ids}: attached now
     * or later, several at once, each again after a replug.
     *
     * @param libusbLogLevel libusb's own stderr logging, 0 (none) to 4 (debug)
     */
    public void listenUsb(List<UsbId> ids, int libusbLogLevel) throws UsbException {
        UsbContext context = UsbContext.open(libusbLogLevel);
        usbBoards = new UsbBoards(context, ids, MAX_RECEIVE_BUNDLE, this::attach);
        usbBoards.start();
        linkDescription = "usb " + ids;
    }

    private void attachStream(SocketChannel channel, String description) {
        // The serial comes with the board's HELLO: a held board takes the link over then (BoardSession.handOverTo).
        if (!attach(description, null, loop -> new StreamLink(channel, loop, description, MAX_RECEIVE_BUNDLE,
                MAX_RECEIVE_BUNDLE)))
            closeQuietly(channel);
    }

    /** How long a board is held after its link goes (--hold); 0 ends its connections with the link. */
    public void setHold(java.time.Duration hold) {
        this.holdNanos = hold.toNanos();
    }

    /**
     * Starts a board whose serial is {@code serial} (USB: from the device,
     * before any link exists; null when not known yet). A held board with that
     * serial gets the link on its own loop: the link is made there and the
     * held session resumes on it. Otherwise a new loop and session. False when
     * no loop could be made (the factory is then never called).
     */
    private boolean attach(String description, String serial, Function<EventLoop, Link> linkFactory) {
        if (serial != null) {
            BoardSession waiting = keeper.claim(serial, null);
            if (waiting != null) {
                waiting.loop().execute(() -> resumeWith(waiting, linkFactory));
                return true;
            }
            Board going = activeWith(serial);
            if (going != null) {
                // Its old link is being closed (USB: the scan closes a vanished device's link before it
                // attaches new ones): that close is queued on the same loop, so decide after it.
                going.loop().execute(() -> {
                    BoardSession now = keeper.claim(serial, null);
                    if (now != null)
                        now.loop().execute(() -> resumeWith(now, linkFactory));
                    else if (!startNew(description, linkFactory))
                        linkFactory.apply(going.loop()).close("no loop for a new board");
                });
                return true;
            }
        }
        return startNew(description, linkFactory);
    }

    private static void resumeWith(BoardSession session, Function<EventLoop, Link> linkFactory) {
        session.resume(linkFactory.apply(session.loop()), null);
    }

    private Board activeWith(String serial) {
        for (Board b : boards.values())
            if (serial.equals(b.session().serial()) && b.session().state() != BoardSession.State.CLOSED
                    && b.session().state() != BoardSession.State.HELD)
                return b;
        return null;
    }

    private boolean startNew(String description, Function<EventLoop, Link> linkFactory) {
        int id = nextId.getAndIncrement();
        EventLoop loop;
        try {
            loop = new EventLoop("board-" + id);
        } catch (IOException e) {
            log.error("cannot start a loop for a new board ({}): {}", description, e.toString());
            return false;
        }
        loop.start();
        loop.execute(() -> {
            Link link = linkFactory.apply(loop);
            BoardSession session = new BoardSession(id, link, loop, natConfig, dnsUpstreams,
                    this::onBoardActive, () -> {
                        boards.remove(id);
                        loop.shutdown();
                        releaseForwards(id);
                    });
            session.setFaultInjection(faults);
            session.setKeeper(keeper);
            boards.put(id, new Board(id, loop, session));
            try {
                session.start();
            } catch (IOException e) {
                log.error("board {}: cannot start the link: {}", id, e.toString());
                session.close("start failed");
            }
        });
        return true;
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to report to
        }
    }

    public Map<Integer, Board> boards() {
        return boards;
    }

    /** Test-only loss on every board's link (set before boards attach). */
    public void setFaultInjection(FaultInjection faults) {
        this.faults = faults;
        if (faults.isActive())
            log.warn("TEST MODE: dropping {}% of IP frames each way on every board's link", faults.rate() * 100);
    }

    // ---- forwards ------------------------------------------------------------

    /** Forwards from the command line: checked now (the ports must be free), bound when a board attaches. */
    public void addForwards(List<ForwardSpec> specs) throws IOException {
        for (ForwardSpec spec : specs) {
            checkBindable(spec);
            if (conflicting(spec) != null)
                throw new IOException("--forward " + spec + " uses the same host port as " + conflicting(spec));
            forwards.add(spec);
        }
    }

    private ForwardSpec conflicting(ForwardSpec spec) {
        for (ForwardSpec f : forwards)
            if (f.udp() == spec.udp() && f.hostPort() == spec.hostPort() && f.bind().equals(spec.bind()))
                return f;
        return null;
    }

    private static void checkBindable(ForwardSpec spec) throws IOException {
        try (java.nio.channels.NetworkChannel probe = spec.udp() ? java.nio.channels.DatagramChannel.open()
                : java.nio.channels.ServerSocketChannel.open()) {
            probe.bind(spec.hostEndpoint());
        } catch (IOException e) {
            throw new IOException("cannot use " + spec.bind().getHostAddress() + ":" + spec.hostPort() + " for --forward "
                    + spec + ": " + e.getMessage()
                    + (spec.hostPort() < 1024 ? " (ports below 1024 need root)" : ""));
        }
    }

    /** A board said HELLO for the first time (its loop thread): it takes the forwards meant for it that are free. */
    private void onBoardActive(BoardSession session) {
        for (ForwardSpec spec : forwards)
            if (spec.isFor(session.serial()))
                hold(session, spec);
    }

    /** Binds {@code spec} on {@code session}'s board unless another board holds it; on its loop thread. */
    private String hold(BoardSession session, ForwardSpec spec) {
        if (holders.putIfAbsent(spec, session.id()) != null)
            return null;
        try {
            session.addForward(spec);
            return null;
        } catch (IOException e) {
            holders.remove(spec, session.id());
            log.warn("{}: {}", session.name(), e.getMessage());
            return e.getMessage();
        }
    }

    /** A board left: the forwards it held go to another board they fit, if any. */
    private void releaseForwards(int boardId) {
        List<ForwardSpec> released = new ArrayList<>();
        holders.forEach((spec, holder) -> {
            if (holder == boardId && holders.remove(spec, holder))
                released.add(spec);
        });
        for (ForwardSpec spec : released)
            for (Board b : boards.values())
                if (b.session().state() == BoardSession.State.ACTIVE && spec.isFor(b.session().serial())) {
                    b.loop().execute(() -> hold(b.session(), spec));
                    break;
                }
    }

    // ---- control socket ---------------------------------------------------------

    /** False when this system has no Unix domain sockets: qbnet then runs without control, said in one line. */
    public boolean startControl(Path path) throws IOException {
        return startControl(path, ControlServer.UNIX);
    }

    public boolean startControl(Path path, ControlServer.Opener opener) throws IOException {
        var server = new ControlServer(path, this::handle, opener);
        try {
            server.start();
        } catch (ControlServer.Unavailable e) {
            log.warn("no control socket: {}; boards are served as usual, but qbnet status and qbnet forward "
                    + "cannot reach this qbnet", e.getMessage());
            return false;
        }
        control = server;
        return true;
    }

    private ControlRequest.Reply handle(ControlRequest request) {
        try {
            return switch (request.command()) {
                case ControlRequest.STATUS -> ControlRequest.Reply.of(status(request.gc()));
                case ControlRequest.METRICS -> ControlRequest.Reply.of(metrics());
                case ControlRequest.FORWARD_LIST -> ControlRequest.Reply.of(
                        forwards.stream().map(ForwardSpec::toString).toList());
                case ControlRequest.FORWARD_ADD -> addForward(ForwardSpec.parse(String.valueOf(request.spec())));
                case ControlRequest.FORWARD_REMOVE -> removeForward(ForwardSpec.parse(String.valueOf(request.spec())));
                default -> ControlRequest.Reply.failed("unknown command '" + request.command() + "'");
            };
        } catch (IllegalArgumentException e) {
            return ControlRequest.Reply.failed(e.getMessage());
        }
    }

    private synchronized ControlRequest.Reply addForward(ForwardSpec spec) {
        if (forwards.contains(spec))
            return ControlRequest.Reply.failed(spec + " is already forwarded");
        ForwardSpec clash = conflicting(spec);
        if (clash != null)
            return ControlRequest.Reply.failed(spec + " uses the same host port as " + clash);
        forwards.add(spec);
        for (Board b : boards.values()) {
            if (b.session().state() != BoardSession.State.ACTIVE || !spec.isFor(b.session().serial()))
                continue;
            String error = onLoop(b, () -> hold(b.session(), spec));
            if (error != null) {
                forwards.remove(spec);
                return ControlRequest.Reply.failed(error);
            }
            break;
        }
        return ControlRequest.Reply.of(forwards.stream().map(ForwardSpec::toString).toList());
    }

    private synchronized ControlRequest.Reply removeForward(ForwardSpec spec) {
        if (!forwards.remove(spec))
            return ControlRequest.Reply.failed(spec + " is not forwarded");
        Integer holder = holders.remove(spec);
        Board b = holder == null ? null : boards.get(holder);
        if (b != null)
            onLoop(b, () -> b.session().removeForward(spec));
        return ControlRequest.Reply.of(forwards.stream().map(ForwardSpec::toString).toList());
    }

    private StatusReport status(boolean gc) {
        List<BoardStatus> list = new ArrayList<>();
        for (Board b : boards.values()) {
            BoardStatus s = onLoop(b, b.session()::snapshot);
            if (s != null)
                list.add(s);
        }
        list.sort(java.util.Comparator.comparingInt(BoardStatus::id));
        if (gc)
            System.gc();
        Runtime rt = Runtime.getRuntime();
        List<StatusReport.ForwardState> fs = forwards.stream()
                .map(f -> new StatusReport.ForwardState(f.toString(), holders.get(f))).toList();
        return new StatusReport(dev.qbkit.qbnet.Version.get(), linkDescription,
                (System.nanoTime() - startedAt) / 1_000_000_000L, list, fs,
                new StatusReport.Jvm(rt.totalMemory() - rt.freeMemory(), rt.totalMemory(), Thread.activeCount(), gc));
    }

    /** qbnet's metrics in Prometheus text format: the status and every board's counters. */
    public String metrics() {
        StatusReport report = status(false);
        Map<Integer, Map<Counter, Long>> counters = new java.util.HashMap<>();
        for (Board b : boards.values())
            counters.put(b.id(), b.session().stats().snapshot());
        return Metrics.render(report, counters, dnsUpstreams.servers().size());
    }

    /** Serves {@link #metrics()} over HTTP on {@code address} until close. */
    public void startMetrics(InetSocketAddress address) throws IOException {
        metricsServer = MetricsServer.start(address, this::metrics);
    }

    /** Runs {@code work} on the board's loop and waits for it (null when the board does not answer). */
    private static <T> T onLoop(Board b, java.util.function.Supplier<T> work) {
        try {
            return java.util.concurrent.CompletableFuture.supplyAsync(work, b.loop()).get(3, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            log.debug("board {} did not answer: {}", b.id(), e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public void close() {
        if (resolverWatcher != null)
            resolverWatcher.close();
        if (control != null)
            control.close();
        if (metricsServer != null)
            metricsServer.close();
        if (unixServer != null)
            unixServer.close();
        if (usbBoards != null)
            usbBoards.stopScanning();
        for (Board b : boards.values()) {
            b.loop().execute(() -> b.session().close("qbnet is stopping"));
            try {
                b.loop().join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (usbBoards != null)
            usbBoards.close();
        if (acceptLoop != null)
            acceptLoop.shutdown();
    }
}
