// One attached board, from link up to link down: the control protocol of
// doc/PROTOCOL.md section 4 (HELLO, version negotiation, CONFIG, KEEPALIVE,
// ERROR), liveness, and the board's NAT. When the link goes, the session and
// its NAT are held for the board's return (--hold) and resume on its next
// link (doc/DESIGN.md, "Connections survive an unplug"). Runs on the board's
// own loop thread.
package dev.qbkit.qbnet.board;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

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

    /** Checks again this often while a claim on a held board is in flight (a safety net: the claimer resumes it). */
    static final long CLAIM_RECHECK = 1_000_000_000L;

    public enum State {
        WAITING_FOR_HELLO, ACTIVE, INCOMPATIBLE,
        /** The link is gone; the NAT is kept for the board's return (its flows see a congested link, time stands still). */
        HELD,
        CLOSED
    }

    /**
     * Where held boards are kept for a new link to find (HostDriver). Every
     * method may be called on any board's loop; implementations are thread-safe.
     */
    public interface Keeper {
        /** How long a board is held after its link goes; 0: not at all. */
        long holdNanos();

        /** {@code session} is held from now on: a new link with its serial may claim it. */
        void held(BoardSession session);

        /** {@code session} is no longer held (it resumed, expired, or qbnet stops). */
        void unheld(BoardSession session);

        /** A board without a serial lost its link and cannot be held. */
        void cannotHold(BoardSession session);

        /**
         * The held board with this serial, now claimed by the caller (who must
         * then hand it a link with {@link #resume} on its loop), or null.
         */
        BoardSession claim(String serial, BoardSession requester);
    }

    /** A keeper that holds nothing: sessions end with their link, as before holds existed. */
    public static final Keeper NO_HOLD = new Keeper() {
        @Override
        public long holdNanos() {
            return 0;
        }

        @Override
        public void held(BoardSession session) {
        }

        @Override
        public void unheld(BoardSession session) {
        }

        @Override
        public void cannotHold(BoardSession session) {
        }

        @Override
        public BoardSession claim(String serial, BoardSession requester) {
            return null;
        }
    };

    private final String name;
    private Link link;
    private final EventLoop loop;
    private final NatConfig natConfig;
    private final DnsUpstreams dnsUpstreams;
    private final Runnable onEnd;
    private final java.util.function.Consumer<BoardSession> onActive;
    private final int id;
    private final Stats stats = new Stats();
    private final LinkOutput output;
    private final long startedAt = System.nanoTime();
    private volatile State state = State.WAITING_FOR_HELLO;
    private Hello boardHello;
    private volatile String serial;
    private boolean ipv6;
    private Keeper keeper = NO_HOLD;
    /** Set while held and no new link has claimed the board yet; a claim or the expiry takes it. */
    private final AtomicBoolean claimable = new AtomicBoolean();
    /** qbnet is stopping, or the loop failed: a lost link ends the session, it is not held. */
    private boolean noHold;
    private long holdUntil;
    private String holdReason;
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

    private final Timer holdTimer = new Timer() {
        @Override
        protected void fire(long now) {
            onHoldExpired();
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

    /** Where this session is held when its link goes (set before start). */
    public void setKeeper(Keeper keeper) {
        this.keeper = keeper;
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
        sendHello();
        loop.schedule(keepaliveTimer, loop.now() + KEEPALIVE_INTERVAL);
        flush();
    }

    private void sendHello() {
        sendControl(new Hello(PROTOCOL_MIN, PROTOCOL_MAX, ControlMessage.ROLE_HOST, link.maxReceiveBundle(),
                natConfig.mtu(), null, "qbnet " + Version.get(), natConfig.offload() ? ControlMessage.CAP_OFFLOAD : 0,
                HostInstance.id()));
    }

    public EventLoop loop() {
        return loop;
    }

    public String name() {
        return name;
    }

    public int id() {
        return id;
    }

    /** The board's serial from its HELLO, or null before it (or when it has none); any thread. */
    public String serial() {
        return serial;
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
        noHold = true; // its state is suspect: not kept for a resume
        if (state == State.HELD)
            endHold("internal error: " + cause);
        else
            link.close("internal error: " + cause);
    }

    @Override
    public void onClosed(String reason) {
        if (state == State.CLOSED || state == State.HELD)
            return;
        boolean resuming = nat != null && nat.isHeld(); // a new link went before the board said HELLO on it
        if (!noHold && (state == State.ACTIVE || resuming) && keeper.holdNanos() > 0) {
            if (serial != null) {
                enterHold(reason);
                return;
            }
            keeper.cannotHold(this);
        }
        state = State.CLOSED;
        loop.cancel(keepaliveTimer);
        loop.cancel(holdTimer);
        // A link can close inside a send (a USB submit finds the device gone) while the NAT is
        // in the middle of a packet: the NAT is torn down after that work returns, not under it.
        loop.execute(() -> tearDown("link down: " + reason));
    }

    private void tearDown(String why) {
        int flows = nat == null ? 0 : nat.tcp().size() + nat.udp().size();
        if (forwards != null)
            forwards.close();
        if (nat != null)
            nat.close();
        output.close();
        log.info("{}: {} (received {} bundles / {} bytes, sent {} / {}, {} drops; freed {} flows)",
                name, why, stats.get(Counter.BUNDLES_RX), stats.get(Counter.BYTES_RX),
                stats.get(Counter.BUNDLES_TX), stats.get(Counter.BYTES_TX), stats.totalDrops(), flows);
        onEnd.run();
    }

    // ---- holding the board while its link is gone ---------------------------

    /**
     * The link went with the board active: keep everything (flows, host
     * sockets, forwards, counters) for its return. Nothing is written here:
     * this may run inside a send that found the link gone.
     */
    private void enterHold(String reason) {
        boolean again = nat.isHeld(); // a resumed link lost before its HELLO: the first hold's deadline stands
        state = State.HELD;
        loop.cancel(keepaliveTimer);
        output.detachLink();
        output.holdIp();
        nat.hold();
        if (!again) {
            holdUntil = loop.now() + keeper.holdNanos();
            holdReason = reason;
        }
        loop.schedule(holdTimer, holdUntil);
        claimable.set(true);
        keeper.held(this);
        log.info("{}: link down: {}; holding the board ({}) with {} TCP and {} UDP flows for {}", name, reason,
                serial, nat.tcp().size(), nat.udp().size(), seconds(holdUntil - loop.now()));
    }

    /**
     * A claimer gives up a board it took from the keeper (its link could not
     * move): the board is held again, and the expiry check finds it so.
     */
    void giveBack() {
        claimable.set(true);
        keeper.held(this);
    }

    /** Takes the board for a new link; true once, for the one caller that then resumes it. Any thread. */
    boolean claim() {
        return claimable.compareAndSet(true, false);
    }

    private void onHoldExpired() {
        if (nat == null || !nat.isHeld())
            return;
        if (state != State.HELD) {
            // A new link is up but the board has not said a compatible HELLO on it in time.
            limited(Level.INFO, "hold", "{}: the board did not say HELLO within the hold: resetting its held flows", name);
            resetHeldNat();
            return;
        }
        if (!claim()) {
            loop.schedule(holdTimer, loop.now() + CLAIM_RECHECK); // claimed: the new link is on its way here
            return;
        }
        endHold("not back within " + seconds(keeper.holdNanos()) + " of its link going (" + holdReason
                + "): reset its flows");
    }

    /** Ends a held session whose claim the caller holds (or that nobody can claim now). */
    private void endHold(String why) {
        keeper.unheld(this);
        state = State.CLOSED;
        loop.cancel(holdTimer);
        // "RST toward nobody": the board is gone, so flows are freed without a packet to it and
        // their host sockets are aborted (the remote peers see a reset).
        tearDown(why);
    }

    /**
     * The board is back on {@code newLink} (on this loop, after a successful
     * claim). The NAT stays held until the board's HELLO shows it is the same
     * board with the same configuration. {@code hello}: the board's HELLO when
     * another session already read it (the link moved here), else null, and
     * our HELLO goes out now.
     */
    public void resume(Link newLink, Hello hello) {
        claimable.set(false);
        keeper.unheld(this);
        link = newLink;
        output.attachLink(newLink);
        state = State.WAITING_FOR_HELLO;
        lastReceivedAt = loop.now();
        try {
            newLink.start(this);
        } catch (java.io.IOException e) {
            log.warn("{}: cannot start the new link: {}", name, e.toString());
            newLink.close("start failed");
            return;
        }
        log.info("{}: link up again ({}) after {} held", name, newLink.description(), seconds(nat.heldNanos()));
        if (noHold) {
            newLink.close("qbnet is stopping");
            return;
        }
        loop.schedule(keepaliveTimer, loop.now() + KEEPALIVE_INTERVAL);
        if (hello == null)
            sendHello();
        else
            onHello(hello);
        flush();
    }

    /** "30 s", "2.5 s", for logs. */
    static String seconds(long nanos) {
        return nanos >= 10_000_000_000L || nanos % 1_000_000_000L == 0 ? nanos / 1_000_000_000L + " s"
                : String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
    }

    /** Seconds until a held board's flows are reset, or -1 when it is not held. */
    public long heldSecondsLeft() {
        if (state != State.HELD)
            return -1;
        return Math.max(0, (holdUntil - loop.now() + 999_999_999L) / 1_000_000_000L);
    }

    /** The board came back different, or too late: its held flows go, the session goes on. */
    private void resetHeldNat() {
        loop.cancel(holdTimer);
        replaceNat();
        output.releaseIp(false);
    }

    /**
     * A new NAT at the current MTU in place of the old one, if any: the old
     * one's flows are freed, its forwards bound again on the new one. The one
     * way a NAT is made, for a first HELLO, an MTU change and a held board
     * that came back different or too late.
     */
    private void replaceNat() {
        List<ForwardSpec> active = List.of();
        if (nat != null) {
            active = forwards.active();
            forwards.close();
            nat.close();
        }
        nat = new Nat(natConfig.withMtu(mtu), loop, output, stats, dnsUpstreams, EchoSenders::forBoard);
        forwards = new BoardForwards(name, loop, nat);
        for (ForwardSpec spec : active)
            addForwardQuietly(spec);
    }

    /**
     * Why a board coming back cannot take up its held flows, or null when it
     * can: the same board (serial) with the same MTU and addresses.
     */
    private String incompatibility(Hello hello, int newMtu, boolean newIpv6) {
        if (!Objects.equals(hello.serial(), serial))
            return "serial " + hello.serial() + " instead of " + serial;
        if (newMtu != mtu)
            return "MTU " + newMtu + " instead of " + mtu;
        if (newIpv6 != ipv6)
            return newIpv6 ? "IPv6 now" : "no IPv6 now";
        return null;
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
        if (state == State.CLOSED)
            return; // its link has moved to a held session (handOver)
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
        if (boardHello == null && hello.serial() != null) {
            BoardSession held = keeper.claim(hello.serial(), this);
            if (held != null && handOverTo(held, hello))
                return;
        }
        int boardMtu = hello.mtu() == 0 ? 1500 : hello.mtu();
        int limit = (int) Math.min(hello.maxBundle(), link.maxReceiveBundle()) - 2 * Bundles.FRAME_HEADER_SIZE;
        int newMtu = Math.min(Math.min(natConfig.mtu(), boardMtu), Math.min(limit, 65535));
        boolean newIpv6 = natConfig.ipv6() && (hello.caps() & ControlMessage.CAP_IPV6) != 0
                && newMtu >= ControlCodec.MIN_MTU_IPV6;
        boolean resuming = nat != null && nat.isHeld();
        String change = resuming ? incompatibility(hello, newMtu, newIpv6) : null;
        boolean first = boardHello == null;
        boolean repeated = hello.equals(boardHello);
        boardHello = hello;
        serial = hello.serial();
        version = common;
        output.setMaxBundle((int) hello.maxBundle());
        boolean offload = natConfig.offload() && (hello.caps() & ControlMessage.CAP_OFFLOAD) != 0;
        if (offload != output.offload())
            limited(Level.INFO, "offload", "{}: offload {} (TSO and checksums in the board's kernel)", name,
                    offload ? "on" : "off");
        output.setOffload(offload);
        if (nat == null || newMtu != mtu || change != null) {
            if (change != null)
                limited(Level.INFO, "held-change", "{}: the board came back with {}: its held flows are reset", name, change);
            else if (nat != null)
                limited(Level.INFO, "mtu", "{}: MTU changes {} -> {}; resetting flows", name, mtu, newMtu);
            mtu = newMtu;
            replaceNat();
        }
        state = State.ACTIVE;
        ipv6 = newIpv6;
        Config config = new Config(mtu, new Ipv4Prefix(natConfig.boardAddress4(), natConfig.prefixLength4()),
                natConfig.gateway4(), List.of(natConfig.dns4()),
                ipv6 ? new ControlMessage.Ipv6Prefix(natConfig.boardAddress6(), natConfig.prefixLength6()) : null,
                ipv6 ? natConfig.gateway6() : null, ipv6 ? List.of(natConfig.dns6()) : List.of());
        sendControl(config);
        String resumed = "";
        if (output.ipHeld()) {
            // The board is configured again (CONFIG above goes first): its IP flows resume.
            boolean kept = resuming && change == null;
            if (kept) {
                nat.resume();
                stats.inc(Counter.LINK_RESUMES);
                resumed = String.format(java.util.Locale.ROOT, "; resumed its %d TCP and %d UDP flows held for %s",
                        nat.tcp().size(), nat.udp().size(), seconds(nat.heldNanos()));
            }
            output.releaseIp(kept);
            loop.cancel(holdTimer);
        }
        String line = "{}: board {} ({}) {}, protocol {}, MTU {}, address {} via {}, DNS {}{}{}";
        Object[] args = { name, hello.serial() == null ? "(no serial)" : hello.serial(),
                hello.software() == null ? "unknown software" : hello.software(),
                first || !resumed.isEmpty() ? "attached" : "said HELLO again",
                version, mtu, config.ipv4(), natConfig.gateway4().getHostAddress(), natConfig.dns4().getHostAddress(),
                ipv6 ? ", IPv6 " + config.ipv6() : ", no IPv6", resumed };
        if (!resumed.isEmpty())
            log.info(line, args);
        else if (repeated)
            log.debug(line, args); // the board greets on link up and answers our HELLO: expected twice
        else if (first)
            log.info(line, args);
        else
            limited(Level.INFO, "hello", line, args);
        if (first)
            onActive.accept(this);
    }

    /**
     * This session's new link belongs to a board that {@code target} holds
     * (claimed for us by the keeper): the link moves to the target's loop and
     * this session ends without a word to the board. False when the link
     * cannot move; the board is given back and this session goes on.
     */
    private boolean handOverTo(BoardSession target, Hello hello) {
        Link moved = link.moveTo(target.loop);
        if (moved == null) {
            target.giveBack();
            return false;
        }
        state = State.CLOSED;
        loop.cancel(keepaliveTimer);
        log.info("{}: board {} is held as {}: its link moves there", name, hello.serial(), target.name());
        // After this round: the rest of what the link read stays in its buffer for the target.
        loop.execute(() -> {
            target.loop.execute(() -> target.resume(moved, hello));
            output.close();
            onEnd.run();
        });
        return true;
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
        long left = heldSecondsLeft();
        return new BoardStatus(id, serial(), boardHello == null ? null : boardHello.software(), link.description(),
                state.name().toLowerCase(java.util.Locale.ROOT), version, mtu,
                (System.nanoTime() - startedAt) / 1_000_000_000L,
                lastRttNanos < 0 ? null : lastRttNanos / 1e6,
                new BoardStatus.Flows(tcp, byState, udp, dns, buffered, limit),
                new BoardStatus.Traffic(stats.get(Counter.BYTES_RX), stats.get(Counter.BYTES_TX),
                        stats.get(Counter.BUNDLES_RX), stats.get(Counter.BUNDLES_TX), rxRate, txRate),
                drops, forwards == null ? List.of() : forwards.active().stream().map(ForwardSpec::toString).toList(),
                left < 0 ? null : left);
    }

    private void sendControl(ControlMessage message) {
        output.sendControl(ControlCodec.encode(message));
    }

    /** Ends the session (qbnet stops): a held board is let go, a linked one is not held. */
    public void close(String reason) {
        noHold = true;
        if (state == State.HELD) {
            if (claim())
                endHold(reason);
            // else a new link has claimed it: resume() sees noHold and closes that link
            return;
        }
        link.close(reason);
    }
}
