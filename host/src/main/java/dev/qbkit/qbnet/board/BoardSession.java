// One attached board, from link up to link down: the control protocol of
// doc/PROTOCOL.md section 4 (HELLO, version negotiation, CONFIG, KEEPALIVE,
// ERROR), liveness, and the board's NAT. Runs on the board's own loop thread.
package dev.qbkit.qbnet.board;

import java.nio.ByteBuffer;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

import dev.qbkit.qbnet.Version;
import dev.qbkit.qbnet.control.BoardStatus;
import dev.qbkit.qbnet.forward.BoardForwards;
import dev.qbkit.qbnet.forward.ForwardSpec;
import dev.qbkit.qbnet.link.BundleDrop;
import dev.qbkit.qbnet.link.Bundles;
import dev.qbkit.qbnet.link.ControlCodec;
import dev.qbkit.qbnet.link.ControlMessage;
import dev.qbkit.qbnet.link.ControlMessage.Config;
import dev.qbkit.qbnet.link.ControlMessage.Hello;
import dev.qbkit.qbnet.link.ControlMessage.Ipv4Prefix;
import dev.qbkit.qbnet.link.ControlMessage.Keepalive;
import dev.qbkit.qbnet.link.Link;
import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.loop.Timer;
import dev.qbkit.qbnet.nat.Counter;
import dev.qbkit.qbnet.nat.DnsUpstreams;
import dev.qbkit.qbnet.nat.LogLimiter;
import dev.qbkit.qbnet.nat.Nat;
import dev.qbkit.qbnet.nat.NatConfig;
import dev.qbkit.qbnet.nat.Stats;
import dev.qbkit.qbnet.platform.EchoSenders;

public final class BoardSession implements Link.Handler {
    private static final Logger log = LoggerFactory.getLogger(BoardSession.class);

    public static final int PROTOCOL_MIN = 1;
    public static final int PROTOCOL_MAX = 1;
    static final long KEEPALIVE_INTERVAL = 1_000_000_000L;
    static final long PEER_TIMEOUT = 5_000_000_000L;

    public enum State {
        WAITING_FOR_HELLO, ACTIVE, INCOMPATIBLE, CLOSED
    }

    private final String name;
    private final Link link;
    private final EventLoop loop;
    private final NatConfig natConfig;
    private final DnsUpstreams dnsUpstreams;
    private final Runnable onEnd;
    private final java.util.function.Consumer<BoardSession> onActive;
    private final int id;
    private final Stats stats = new Stats();
    private final LinkOutput output;
    private final long startedAt = System.nanoTime();
    private State state = State.WAITING_FOR_HELLO;
    private Hello boardHello;
    private int version;
    private int mtu;
    private Nat nat;
    private long lastReceivedAt = System.nanoTime();
    private long keepaliveSeq;
    private long lastRttNanos = -1;
    private long keepaliveSentAt;
    private FaultInjection faults = FaultInjection.NONE;
    private final LogLimiter logLimiter = new LogLimiter();
    private BoardForwards forwards;
    private long sampledAt = System.nanoTime();
    private long sampledRx;
    private long sampledTx;
    private double rxRate;
    private double txRate;

    private final Timer keepaliveTimer = new Timer() {
        @Override
        protected void fire(long now) {
            onKeepaliveTimer(now);
        }
    };

    public BoardSession(int id, Link link, EventLoop loop, NatConfig natConfig, DnsUpstreams dnsUpstreams,
            java.util.function.Consumer<BoardSession> onActive, Runnable onEnd) {
        this.id = id;
        this.name = "board " + id;
        this.onActive = onActive;
        this.link = link;
        this.loop = loop;
        this.natConfig = natConfig;
        this.dnsUpstreams = dnsUpstreams;
        this.onEnd = onEnd;
        this.output = new LinkOutput(link, stats);
    }

    /** Test-only loss on this board's link, both directions. */
    public void setFaultInjection(FaultInjection faults) {
        this.faults = faults;
        output.setFaultInjection(faults);
    }

    /** Starts the link and greets the board; call on the loop thread. */
    public void start() throws java.io.IOException {
        loop.setFailureHandler(this::onLoopFailure);
        loop.addFlushHook(this::flush);
        link.start(this);
        log.info("{}: link up ({})", name, link.description());
        sendControl(new Hello(PROTOCOL_MIN, PROTOCOL_MAX, ControlMessage.ROLE_HOST, link.maxReceiveBundle(),
                natConfig.mtu(), null, "qbnet " + Version.get(), natConfig.offload() ? ControlMessage.CAP_OFFLOAD : 0));
        loop.schedule(keepaliveTimer, loop.now() + KEEPALIVE_INTERVAL);
        flush();
    }

    public String name() {
        return name;
    }

    public int id() {
        return id;
    }

    /** The board's serial from its HELLO, or null before it. */
    public String serial() {
        return boardHello == null ? null : boardHello.serial();
    }

    public State state() {
        return state;
    }

    public Stats stats() {
        return stats;
    }

    public Hello boardHello() {
        return boardHello;
    }

    public Nat nat() {
        return nat;
    }

    public long startedAt() {
        return startedAt;
    }

    public int version() {
        return version;
    }

    public int mtu() {
        return mtu;
    }

    public long lastRttNanos() {
        return lastRttNanos;
    }

    public Link link() {
        return link;
    }

    // ---- link events ------------------------------------------------------

    @Override
    public void onBundle(ByteBuffer buf, int offset, int length) {
        assert !output.isSending() : "the link delivered a bundle from inside send()";
        lastReceivedAt = loop.now();
        stats.inc(Counter.BUNDLES_RX);
        stats.add(Counter.BYTES_RX, length);
        BundleDrop drop = Bundles.validate(buf, offset, length, link.maxReceiveBundle());
        if (drop != null) {
            onBadBundle(drop);
            return;
        }
        Bundles.forEachFrame(buf, offset, length, this::onFrame);
    }

    @Override
    public void onBadBundle(BundleDrop reason) {
        stats.inc(switch (reason) {
            case BAD_MAGIC -> Counter.DROP_BUNDLE_BAD_MAGIC;
            case BAD_FORMAT -> Counter.DROP_BUNDLE_BAD_FORMAT;
            case BAD_LENGTH -> Counter.DROP_BUNDLE_BAD_LENGTH;
            case TRUNCATED_FRAME -> Counter.DROP_BUNDLE_TRUNCATED_FRAME;
        });
        log.debug("{}: dropped a bundle: {}", name, reason.wireName());
    }

    private void onFrame(int channel, ByteBuffer buf, int offset, int length) {
        stats.inc(Counter.FRAMES_RX);
        switch (channel) {
            case Bundles.CHANNEL_IP -> {
                if (nat == null)
                    stats.inc(Counter.DROP_IP_BEFORE_HELLO);
                else if (faults.drop())
                    stats.inc(Counter.DROP_INJECTED);
                else
                    nat.onPacket(buf, offset, length);
            }
            case Bundles.CHANNEL_CONTROL -> onControl(buf, offset, length);
            default -> stats.inc(Counter.DROP_UNKNOWN_CHANNEL);
        }
    }

    @Override
    public void onSent(ByteBuffer bundle) {
        output.recycle(bundle);
    }

    @Override
    public void onWritable() {
        assert !output.isSending() : "the link reported writability from inside send()";
        if (nat != null)
            nat.onLinkWritable();
    }

    /**
     * Something on this board's loop threw that nothing closer could contain
     * (a flow or a packet would have): the session's state is suspect, so the
     * link closes now and the board relinks at once instead of after 5 s of
     * silence. Other boards have loops of their own and are not touched.
     */
    private void onLoopFailure(Throwable cause) {
        stats.inc(Counter.HANDLER_FAILURES);
        output.abortPacket();
        limited(Level.ERROR, "internal", "{}: internal error: {}; closing the link so the board relinks at once", name,
                cause.toString(), cause);
        link.close("internal error: " + cause);
    }

    @Override
    public void onClosed(String reason) {
        if (state == State.CLOSED)
            return;
        state = State.CLOSED;
        loop.cancel(keepaliveTimer);
        // A link can close inside a send (a USB submit finds the device gone) while the NAT is
        // in the middle of a packet: the NAT is torn down after that work returns, not under it.
        loop.execute(() -> tearDown(reason));
    }

    private void tearDown(String reason) {
        int flows = nat == null ? 0 : nat.tcp().size() + nat.udp().size();
        if (forwards != null)
            forwards.close();
        if (nat != null)
            nat.close();
        output.close();
        log.info("{}: link down: {} (received {} bundles / {} bytes, sent {} / {}, {} drops; freed {} flows)",
                name, reason, stats.get(Counter.BUNDLES_RX), stats.get(Counter.BYTES_RX),
                stats.get(Counter.BUNDLES_TX), stats.get(Counter.BYTES_TX), stats.totalDrops(), flows);
        onEnd.run();
    }

    private void flush() {
        if (state == State.CLOSED)
            return;
        if (nat != null)
            nat.flush();
        output.flush();
    }

    // ---- control protocol -------------------------------------------------

    private void onControl(ByteBuffer buf, int offset, int length) {
        ControlCodec.Decoded decoded = ControlCodec.decode(buf, offset, length);
        if (decoded.malformed() != null) {
            stats.inc(Counter.DROP_CONTROL_MALFORMED);
            limited(Level.WARN, "malformed", "{}: malformed control message from the board: {}", name, decoded.malformed());
            return;
        }
        if (!decoded.isOk()) {
            stats.inc(Counter.DROP_CONTROL_UNKNOWN_TYPE);
            log.debug("{}: ignoring control message of unknown type {}", name, decoded.unknownType());
            return;
        }
        switch (decoded.message()) {
            case Hello hello -> onHello(hello);
            case Keepalive k -> onKeepalive(k);
            case ControlMessage.Error e -> limited(Level.WARN, "error", "{}: board reports error {}: {}", name, e.code(),
                    e.text() == null ? "(no text)" : e.text());
            case Config c -> {
                limited(Level.WARN, "config", "{}: the board sent CONFIG, which only hosts send; ignoring", name);
                sendControl(new ControlMessage.Error(ControlMessage.ERROR_PROTOCOL, "CONFIG is sent by the host only"));
            }
        }
    }

    private void onHello(Hello hello) {
        if (hello.role() != ControlMessage.ROLE_BOARD) {
            limited(Level.WARN, "role", "{}: the peer says it is a host, not a board: two qbnet drivers connected to each other?",
                    name);
            sendControl(new ControlMessage.Error(ControlMessage.ERROR_PROTOCOL, "both ends are hosts"));
            return;
        }
        int common = Math.min(PROTOCOL_MAX, hello.versionMax());
        if (common < Math.max(PROTOCOL_MIN, hello.versionMin())) {
            state = State.INCOMPATIBLE;
            String text = "host speaks " + PROTOCOL_MIN + "-" + PROTOCOL_MAX + ", board " + hello.versionMin() + "-"
                    + hello.versionMax();
            limited(Level.ERROR, "version", "{}: no common protocol version ({}); update {}", name, text,
                    hello.versionMin() > PROTOCOL_MAX ? "qbnet on this host" : "qbnetd on the board");
            sendControl(new ControlMessage.Error(ControlMessage.ERROR_VERSION, text));
            return;
        }
        int boardMtu = hello.mtu() == 0 ? 1500 : hello.mtu();
        int limit = (int) Math.min(hello.maxBundle(), link.maxReceiveBundle()) - 2 * Bundles.FRAME_HEADER_SIZE;
        int newMtu = Math.min(Math.min(natConfig.mtu(), boardMtu), Math.min(limit, 65535));
        boolean first = boardHello == null;
        boolean repeated = hello.equals(boardHello);
        boardHello = hello;
        version = common;
        output.setMaxBundle((int) hello.maxBundle());
        boolean offload = natConfig.offload() && (hello.caps() & ControlMessage.CAP_OFFLOAD) != 0;
        if (offload != output.offload())
            limited(Level.INFO, "offload", "{}: offload {} (TSO and checksums in the board's kernel)", name,
                    offload ? "on" : "off");
        output.setOffload(offload);
        List<ForwardSpec> held = List.of();
        if (nat == null || newMtu != mtu) {
            if (nat != null) {
                limited(Level.INFO, "mtu", "{}: MTU changes {} -> {}; resetting flows", name, mtu, newMtu);
                held = forwards.active();
                forwards.close();
                nat.close();
            }
            mtu = newMtu;
            nat = new Nat(natConfig.withMtu(mtu), loop, output, stats, dnsUpstreams, EchoSenders::forBoard);
            forwards = new BoardForwards(name, loop, nat);
            for (ForwardSpec spec : held)
                addForwardQuietly(spec);
        }
        state = State.ACTIVE;
        boolean ipv6 = natConfig.ipv6() && (hello.caps() & ControlMessage.CAP_IPV6) != 0 && mtu >= ControlCodec.MIN_MTU_IPV6;
        Config config = new Config(mtu, new Ipv4Prefix(natConfig.boardAddress4(), natConfig.prefixLength4()),
                natConfig.gateway4(), List.of(natConfig.dns4()),
                ipv6 ? new ControlMessage.Ipv6Prefix(natConfig.boardAddress6(), natConfig.prefixLength6()) : null,
                ipv6 ? natConfig.gateway6() : null, ipv6 ? List.of(natConfig.dns6()) : List.of());
        sendControl(config);
        String line = "{}: board {} ({}) {}, protocol {}, MTU {}, address {} via {}, DNS {}{}";
        Object[] args = { name, hello.serial() == null ? "(no serial)" : hello.serial(),
                hello.software() == null ? "unknown software" : hello.software(), first ? "attached" : "said HELLO again",
                version, mtu, config.ipv4(), natConfig.gateway4().getHostAddress(), natConfig.dns4().getHostAddress(),
                ipv6 ? ", IPv6 " + config.ipv6() : ", no IPv6" };
        if (repeated)
            log.debug(line, args); // the board greets on link up and answers our HELLO: expected twice
        else if (first)
            log.info(line, args);
        else
            limited(Level.INFO, "hello", line, args);
        if (first)
            onActive.accept(this);
    }

    /** Logs a line the board's input caused, at most one of each kind every 10 s. */
    private void limited(Level level, String kind, String format, Object... args) {
        long skipped = logLimiter.allow(kind, loop.now());
        if (skipped >= 0)
            log.atLevel(level).log(format + LogLimiter.note(skipped), args);
    }

    private void onKeepalive(Keepalive k) {
        stats.inc(Counter.KEEPALIVES_RX);
        if (k.isReply()) {
            if (k.echo() == keepaliveSeq - 1 && keepaliveSentAt != 0)
                lastRttNanos = loop.now() - keepaliveSentAt;
            return;
        }
        sendControl(new Keepalive(keepaliveSeq++, k.seq()));
    }

    private void onKeepaliveTimer(long now) {
        if (state == State.CLOSED)
            return;
        sampleRates(now);
        if (now - lastReceivedAt > PEER_TIMEOUT) {
            log.warn("{}: nothing from the board for {} s; closing the link", name, PEER_TIMEOUT / 1_000_000_000L);
            link.close("board silent");
            return;
        }
        if (now - output.lastFlushAt() >= KEEPALIVE_INTERVAL) {
            keepaliveSentAt = now;
            sendControl(new Keepalive(keepaliveSeq++ & 0xFFFFFFFFL, -1));
        }
        loop.schedule(keepaliveTimer, now + KEEPALIVE_INTERVAL);
    }

    private void sampleRates(long now) {
        double seconds = (now - sampledAt) / 1e9;
        if (seconds <= 0)
            return;
        long rx = stats.get(Counter.BYTES_RX);
        long tx = stats.get(Counter.BYTES_TX);
        rxRate = (rx - sampledRx) / seconds;
        txRate = (tx - sampledTx) / seconds;
        sampledAt = now;
        sampledRx = rx;
        sampledTx = tx;
    }

    // ---- forwards (on the loop thread) --------------------------------------

    /** Binds a forward's host side for this board; the IOException says why it cannot. */
    public void addForward(ForwardSpec spec) throws java.io.IOException {
        if (forwards == null)
            throw new java.io.IOException(name + " is not active yet");
        forwards.add(spec);
    }

    private void addForwardQuietly(ForwardSpec spec) {
        try {
            forwards.add(spec);
        } catch (java.io.IOException e) {
            log.warn("{}: {}", name, e.getMessage());
        }
    }

    public boolean removeForward(ForwardSpec spec) {
        return forwards != null && forwards.remove(spec);
    }

    // ---- status (on the loop thread) ----------------------------------------

    public BoardStatus snapshot() {
        java.util.Map<String, Integer> byState = new java.util.TreeMap<>();
        int tcp = 0;
        int udp = 0;
        int dns = 0;
        if (nat != null) {
            nat.tcp().countByState().forEach((s, n) -> byState.put(s.name(), n));
            tcp = nat.tcp().size();
            udp = nat.udp().size();
            dns = nat.dns().inFlight();
        }
        java.util.Map<String, Long> drops = new java.util.TreeMap<>();
        stats.snapshot().forEach((c, v) -> {
            if (c.isDrop() && v > 0)
                drops.put(c.description(), v);
        });
        long buffered = nat == null ? 0 : nat.buffers().inUseBytes();
        long limit = nat == null ? natConfig.maxBufferedBytes() : nat.buffers().maxBytes();
        return new BoardStatus(id, serial(), boardHello == null ? null : boardHello.software(), link.description(),
                state.name().toLowerCase(java.util.Locale.ROOT), version, mtu,
                (System.nanoTime() - startedAt) / 1_000_000_000L,
                lastRttNanos < 0 ? null : lastRttNanos / 1e6,
                new BoardStatus.Flows(tcp, byState, udp, dns, buffered, limit),
                new BoardStatus.Traffic(stats.get(Counter.BYTES_RX), stats.get(Counter.BYTES_TX),
                        stats.get(Counter.BUNDLES_RX), stats.get(Counter.BUNDLES_TX), rxRate, txRate),
                drops, forwards == null ? List.of() : forwards.active().stream().map(ForwardSpec::toString).toList());
    }

    private void sendControl(ControlMessage message) {
        output.sendControl(ControlCodec.encode(message));
    }

    public void close(String reason) {
        link.close(reason);
    }
}
