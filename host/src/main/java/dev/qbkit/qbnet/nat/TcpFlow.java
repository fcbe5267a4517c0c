// One TCP connection from the board, terminated here and carried on over a
// host socket. This class keeps the state machine (RFC 9293), the host socket
// glue and the segment output; the Receiver (board to host) and the Sender
// (host to board, with its RttEstimator, CongestionControl and the one
// TcpTimer) do the rest. An event that throws resets this flow only (failed()).
package dev.qbkit.qbnet.nat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.qbkit.qbnet.loop.Timer;
import dev.qbkit.qbnet.packet.IpWriter;
import dev.qbkit.qbnet.packet.TcpHeader;

public final class TcpFlow implements TcpSocket.Listener, LinkWaiters.Waiter, TcpTimer.Owner {
    private static final Logger log = LoggerFactory.getLogger(TcpFlow.class);

    public enum State {
        /** The board's SYN arrived; the host connect is under way; nothing sent yet. */
        CONNECTING,
        /** A host connection forwarded into the board: our SYN is out. */
        SYN_SENT,
        SYN_RECEIVED,
        ESTABLISHED,
        /** The board sent FIN; the host side may still send. */
        CLOSE_WAIT,
        LAST_ACK,
        /** The host side ended; our FIN is not yet acknowledged. */
        FIN_WAIT_1,
        FIN_WAIT_2,
        CLOSING,
        TIME_WAIT,
        CLOSED
    }

    static final long DELAYED_ACK = 1_000_000L;
    static final long MIN_RTO = RttEstimator.MIN_RTO;
    static final long INITIAL_RTO = RttEstimator.INITIAL_RTO;
    static final int MAX_SYNACK_RETRANSMITS = 5;
    static final int DEFAULT_MSS_IPV4 = 536;
    static final int DEFAULT_MSS_IPV6 = 1220;
    /** An old segment sooner than this after our last one is a duplicate, not a keepalive (Linux's least TCP_KEEPIDLE). */
    static final long MIN_KEEPALIVE_IDLE = 1_000_000_000L;
    /** Mirrored keepalives: at most Linux's default probe interval, and its probe count. */
    static final int KEEPALIVE_INTERVAL = 75;
    static final int KEEPALIVE_PROBES = 9;
    private static final int MAX_KEEPALIVE_IDLE = 32_767; // Linux's MAX_TCP_KEEPIDLE

    private final NatContext ctx;
    private final FlowKey key;
    private final TcpSocket socket;
    private final InetSocketAddress hostEndpoint;
    private final boolean ipv6;
    private final int ourMss;
    private final TcpTimer timer;
    private final Receiver receiver;
    private final Sender sender;
    private State state = State.CONNECTING;
    private boolean windowScaling;
    private boolean sackPermitted;
    private int[] sackScratch;

    private boolean readPaused;
    private final ReadSize readSize = new ReadSize();
    private boolean hostClosed;
    private long lastActivity;
    private long lastSentAt; // our last segment to the board: the board's keepalive idle counts from it
    private int keepaliveIdle; // seconds mirrored onto the host socket, 0 before any
    /** Inside emit(): a second emit now would be a nested write (doc/DESIGN.md, "No re-entrant writes"). */
    private boolean emitting;

    /** A timer of this flow: what it throws resets the flow, not the board's loop. */
    private abstract class FlowTimer extends Timer {
        @Override
        protected boolean contain(RuntimeException cause) {
            failed(cause);
            return true;
        }
    }

    private final Timer idleTimer = new FlowTimer() {
        @Override
        protected void fire(long now) {
            onIdleTimer(now);
        }
    };

    private final Timer delayedAckTimer = new FlowTimer() {
        @Override
        protected void fire(long now) {
            if (receiver.ackOwed() && state != State.CLOSED)
                ackNow();
        }
    };

    /**
     * Creates the flow for a board SYN. {@link #start} begins the host
     * connect; the SYN is answered when it succeeds.
     */
    public TcpFlow(NatContext ctx, FlowKey key, TcpHeader syn, TcpSocket socket, InetSocketAddress hostEndpoint,
            int iss) {
        this(ctx, key, socket, hostEndpoint, iss);
        receiver.init(syn.seq());
        sender.onPeerSyn(syn.seq(), syn.window());
        negotiate(syn.mss(), syn.windowScale(), true, syn.sackPermitted());
    }

    private TcpFlow(NatContext ctx, FlowKey key, TcpSocket socket, InetSocketAddress hostEndpoint, int iss) {
        this.ctx = ctx;
        this.key = key;
        this.socket = socket;
        this.hostEndpoint = hostEndpoint;
        this.ipv6 = key.isIpv6();
        this.ourMss = ctx.config().mtu() - IpWriter.headerLength(ipv6) - TcpHeader.MIN_LENGTH;
        this.timer = new TcpTimer(ctx, this);
        this.receiver = new Receiver(this, ctx, socket);
        this.sender = new Sender(this, ctx, timer, ipv6, iss);
        this.lastActivity = ctx.now();
        this.lastSentAt = lastActivity;
    }

    /**
     * Creates the flow for a host connection forwarded into the board (the
     * host socket is already connected); {@link #startActive} sends the SYN.
     */
    public static TcpFlow toBoard(NatContext ctx, FlowKey key, TcpSocket socket, InetSocketAddress hostPeer, int iss) {
        TcpFlow flow = new TcpFlow(ctx, key, socket, hostPeer, iss);
        flow.state = State.SYN_SENT;
        flow.negotiate(-1, 0, true, true); // what we offer; the SYN-ACK settles it
        return flow;
    }

    /**
     * Settles MSS, window scaling and SACK from the peer's SYN options
     * (RFC 7323 and RFC 2018: each only when both SYNs carry it).
     */
    private void negotiate(int peerMss, int peerScale, boolean scaling, boolean peerSack) {
        sackPermitted = peerSack;
        int offered = peerMss > 0 ? peerMss : (ipv6 ? DEFAULT_MSS_IPV6 : DEFAULT_MSS_IPV4);
        int mss = Math.max(64, Math.min(offered, ourMss));
        int capacity = ctx.config().tcpReceiveWindow();
        windowScaling = scaling && peerScale >= 0;
        if (windowScaling) {
            int shift = 0;
            while ((capacity >> shift) > 0xFFFF)
                shift++;
            shift = Math.min(shift, 14);
            receiver.negotiate(shift, Math.min(capacity, 0xFFFF << shift) & -(1 << shift), mss);
            sender.negotiate(mss, peerScale);
        } else {
            receiver.negotiate(0, Math.min(capacity, 0xFFFF), mss);
            sender.negotiate(mss, 0);
        }
    }

    public void start() {
        ctx.schedule(idleTimer, ctx.now() + ctx.config().tcpConnectTimeout().toNanos());
        try {
            socket.connect(hostEndpoint, this);
        } catch (IOException e) {
            onConnectFailed(e);
        }
    }

    /** Active open: adopts the connected host socket and sends our SYN. */
    public void startActive() {
        ctx.schedule(idleTimer, ctx.now() + ctx.config().tcpConnectTimeout().toNanos());
        socket.adopt(this);
        socket.setInterest(true, false); // the client may speak first; buffer it
        emit(sender.iss(), TcpHeader.SYN, 0, true);
        sender.synSent();
    }

    public FlowKey key() {
        return key;
    }

    public State state() {
        return state;
    }

    /** Board bytes acknowledged but not yet taken by the host socket (a FIN counts one). */
    int heldForHost() {
        return receiver.heldForHost();
    }

    /** Bytes held for this flow in both directions. */
    public int bufferedBytes() {
        return receiver.pending() + sender.queued();
    }

    // ---- host socket events ----------------------------------------------

    @Override
    public void onConnected() {
        if (state != State.CONNECTING)
            return;
        state = State.SYN_RECEIVED;
        touch();
        emit(sender.iss(), TcpHeader.SYN | TcpHeader.ACK, 0, true);
        sender.synSent();
        socket.setInterest(true, false); // servers that speak first (SSH, SMTP) may; keep it
    }

    @Override
    public void onConnectFailed(IOException cause) {
        if (state != State.CONNECTING)
            return;
        log.debug("{}: connect to {} failed: {}", key, hostEndpoint, cause.toString());
        int unreachable = unreachableCode(cause);
        if (unreachable < 0) {
            ctx.stats().inc(Counter.TCP_CONNECT_REFUSED);
            // RFC 9293 reset for a refused SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
            emit(0, TcpHeader.RST | TcpHeader.ACK, 0, false);
            ctx.stats().inc(Counter.TCP_RESETS_TO_BOARD);
        } else {
            ctx.stats().inc(Counter.TCP_CONNECT_FAILED);
            sendUnreachable(unreachable);
        }
        finish(false);
    }

    /**
     * How a failed host connect is reported to the board: -1 for a reset
     * (refused), else the ICMP unreachable code, so the board's connect fails
     * at once with "no route" rather than waiting for its own timeout.
     */
    private int unreachableCode(IOException cause) {
        String m = String.valueOf(cause.getMessage()).toLowerCase(java.util.Locale.ROOT);
        if (m.contains("refused"))
            return -1;
        if (m.contains("network is unreachable"))
            return ipv6 ? IcmpWriter.NO_ROUTE_V6 : IcmpWriter.NET_UNREACHABLE_V4;
        if (cause instanceof java.net.NoRouteToHostException || m.contains("no route") || m.contains("unreachable")
                || m.contains("timed out"))
            return ipv6 ? IcmpWriter.ADDRESS_UNREACHABLE_V6 : IcmpWriter.HOST_UNREACHABLE_V4;
        return cause instanceof ConnectException ? -1 : (ipv6 ? IcmpWriter.ADDRESS_UNREACHABLE_V6
                : IcmpWriter.HOST_UNREACHABLE_V4);
    }

    private void sendUnreachable(int code) {
        IcmpWriter.unreachable(ctx, key.remoteAddress(), key.boardAddress(), code,
                IcmpWriter.quoteOfSyn(key, receiver.irs()));
        ctx.stats().inc(Counter.ICMP_UNREACHABLE_SENT);
    }

    @Override
    public void onReadable() {
        if (state == State.CLOSED)
            return;
        readFromHost();
        trySend();
    }

    @Override
    public void onWritable() {
        if (state == State.CLOSED)
            return;
        try {
            receiver.onWritable();
        } catch (IOException e) {
            hostFailed(e);
        }
    }

    private void readFromHost() {
        while (!sender.streamEnded() && state != State.CLOSED) {
            int room = ctx.config().tcpSendBuffer() - sender.queued();
            if (room <= 0) {
                pauseReading();
                return;
            }
            int asked = readSize.next(room);
            long n;
            try {
                n = sender.readFrom(socket, asked);
            } catch (IOException e) {
                hostFailed(e);
                return;
            }
            if (n < 0) {
                sender.endStream();
                updateInterest();
                closeHostIfDone();
                return;
            }
            if (n == 0) {
                if (ctx.buffers().inUseBytes() + BufferPool.CHUNK_SIZE > ctx.buffers().maxBytes()) {
                    ctx.limitHit(Counter.DROP_TCP_BUFFER_LIMIT, "the board's flows hold "
                            + (ctx.buffers().inUseBytes() >> 20) + " MiB, the buffer limit: reading from host "
                            + "sockets pauses until the board takes data (raise --max-buffer)");
                    pauseReading();
                    ctx.linkWaiters().add(this);
                }
                return;
            }
            readSize.record(n, asked);
            touch();
            if (n < asked)
                return;
        }
    }

    private void pauseReading() {
        if (!readPaused) {
            readPaused = true;
            updateInterest();
        }
    }

    void resumeReadingIfRoom() {
        if (readPaused && !sender.streamEnded() && sender.queued() < ctx.config().tcpSendBuffer()) {
            readPaused = false;
            updateInterest();
        }
    }

    void updateInterest() {
        if (hostClosed)
            return;
        boolean read = !readPaused && !sender.streamEnded() && state != State.CONNECTING;
        socket.setInterest(read, receiver.wantsWrite());
    }

    private void hostFailed(IOException e) {
        log.debug("{}: host connection failed: {}", key, e.toString());
        abortWithReset();
    }

    // ---- board segments --------------------------------------------------

    /** Handles one segment from the board for this flow (RFC 9293 3.10.7.4). */
    public void onSegment(ByteBuffer buf, TcpHeader seg) {
        if (state == State.CLOSED)
            return;
        touch();
        try {
            segmentArrived(buf, seg);
        } catch (IOException e) {
            hostFailed(e);
        }
    }

    private void segmentArrived(ByteBuffer buf, TcpHeader seg) throws IOException {
        if (state == State.SYN_SENT) {
            onSegmentInSynSent(seg);
            return;
        }
        if (state == State.CONNECTING) {
            if (seg.has(TcpHeader.RST) && seg.seq() == receiver.irs() + 1) {
                ctx.stats().inc(Counter.TCP_RESETS_FROM_BOARD);
                socket.abort();
                finish(false);
            }
            // A repeated SYN waits for the connect; anything else is early.
            return;
        }
        if (seg.has(TcpHeader.SYN)) {
            if (state == State.SYN_RECEIVED && seg.seq() == receiver.irs()) {
                emit(sender.iss(), TcpHeader.SYN | TcpHeader.ACK, 0, true); // duplicate SYN: our SYN-ACK was lost
                ctx.stats().inc(Counter.TCP_RETRANSMITS);
            } else {
                ackNow(); // RFC 5961 challenge ACK
            }
            return;
        }
        if (!receiver.acceptable(seg)) {
            if (!seg.has(TcpHeader.RST)) {
                // Wholly old (a retransmission, a keepalive) is normal; beyond the window is not.
                boolean old = receiver.isOld(seg);
                ctx.stats().inc(old ? Counter.TCP_DUPLICATES : Counter.DROP_TCP_OUT_OF_WINDOW);
                if (old)
                    mirrorKeepalive(seg);
                ackNow();
            }
            return;
        }
        if (seg.has(TcpHeader.RST)) {
            ctx.stats().inc(Counter.TCP_RESETS_FROM_BOARD);
            socket.abort();
            hostClosed = true;
            finish(false);
            return;
        }
        if (!seg.has(TcpHeader.ACK))
            return;
        if (state == State.SYN_RECEIVED) {
            if (seg.ack() != sender.iss() + 1) {
                emitReset(seg.ack()); // <SEQ=SEG.ACK><CTL=RST>
                return;
            }
            establish(seg);
        }
        if (!sender.onAck(seg)) {
            ackNow(); // acknowledges something never sent
            return;
        }
        if (sender.finAcked())
            onOurFinAcked();
        if (state == State.CLOSED)
            return;
        if (seg.payloadLength() > 0)
            receiver.onData(buf, seg);
        if (seg.has(TcpHeader.FIN))
            receiver.onFin(seg);
        trySend();
    }

    /**
     * A keepalive probe from the board (RFC 9293 3.8.4: the sequence number
     * before rcvNxt, at most one byte, after the connection went idle) is
     * answered here, so the board would never learn that the host's peer
     * died. The host socket gets the same keepalive instead: the board's
     * idle time, observed as the time since our last segment (the board's
     * timer runs from what it last received), and Linux's interval and
     * count, which answered probes never show. When the host kernel gives
     * up on the peer, the read fails and the board gets a reset.
     */
    private void mirrorKeepalive(TcpHeader seg) {
        if (seg.seq() != receiver.next() - 1 || seg.payloadLength() > 1 || seg.has(TcpHeader.FIN)
                || receiver.windowShut())
            return;
        long idle = ctx.now() - lastSentAt;
        if (idle < MIN_KEEPALIVE_IDLE)
            return;
        int seconds = (int) Math.min((idle + 500_000_000L) / 1_000_000_000L, MAX_KEEPALIVE_IDLE);
        if (seconds == keepaliveIdle)
            return;
        keepaliveIdle = seconds;
        socket.keepAlive(seconds, Math.min(seconds, KEEPALIVE_INTERVAL), KEEPALIVE_PROBES);
        ctx.stats().inc(Counter.TCP_KEEPALIVES_MIRRORED);
        log.debug("{}: the board probes after {} s idle; so does the host socket", key, seconds);
    }

    /** RFC 9293 3.10.7.3: our SYN is out, the board answers. */
    private void onSegmentInSynSent(TcpHeader seg) {
        boolean ackOk = seg.has(TcpHeader.ACK) && seg.ack() == sender.iss() + 1;
        if (seg.has(TcpHeader.ACK) && !ackOk) {
            if (!seg.has(TcpHeader.RST))
                emitReset(seg.ack());
            return;
        }
        if (seg.has(TcpHeader.RST)) {
            if (ackOk) {
                // Nothing listens on that board port: the host client sees a reset too.
                ctx.stats().inc(Counter.TCP_RESETS_FROM_BOARD);
                log.debug("{}: the board refused the forwarded connection", key);
                finish(false);
            }
            return;
        }
        if (!seg.has(TcpHeader.SYN) || !ackOk)
            return; // a bare SYN (simultaneous open) is not supported; our SYN is retransmitted
        receiver.init(seg.seq());
        negotiate(seg.mss(), seg.windowScale(), true, seg.sackPermitted());
        sender.onSynAcked(seg, false); // never scaled in a SYN
        state = State.ESTABLISHED;
        ackNow();
        updateInterest();
        trySend();
    }

    private void establish(TcpHeader seg) {
        state = State.ESTABLISHED;
        sender.onSynAcked(seg, true);
        log.debug("{}: established (mss {}, board window scale {}, ours {})", key, sender.mss(), sender.shift(),
                receiver.shift());
    }

    private void onOurFinAcked() {
        switch (state) {
            case FIN_WAIT_1 -> state = State.FIN_WAIT_2;
            case CLOSING -> enterTimeWait();
            case LAST_ACK -> finish(true);
            default -> {
            }
        }
    }

    /** Everything before the board's FIN reached the host, and the host socket is half-closed. */
    void onFinDelivered() {
        switch (state) {
            case ESTABLISHED -> state = State.CLOSE_WAIT;
            case FIN_WAIT_1 -> state = State.CLOSING;
            case FIN_WAIT_2 -> enterTimeWait();
            default -> {
            }
        }
        closeHostIfDone();
    }

    /** Our FIN is queued behind the last byte from the host. */
    void onFinQueued() {
        if (state == State.ESTABLISHED)
            state = State.FIN_WAIT_1;
        else if (state == State.CLOSE_WAIT)
            state = State.LAST_ACK;
    }

    // ---- sending to the board ---------------------------------------------

    private void trySend() {
        if (state == State.CONNECTING || state == State.SYN_SENT || state == State.SYN_RECEIVED
                || state == State.CLOSED || state == State.TIME_WAIT)
            return;
        sender.trySend();
    }

    /**
     * Payload that fits a segment of at most {@code segment} data bytes once
     * SACK blocks take header room (RFC 6691): the board drops frames over
     * the MTU, and while board data is held every ack carries up to three.
     */
    int payloadRoom(int segment) {
        if (!sackPermitted || !receiver.holdsOutOfOrder())
            return segment;
        return Math.max(1, segment - TcpWriter.sackOptionLength(Reassembly.MAX_SACK_BLOCKS));
    }

    @Override
    public void onRetransmitTimeout() {
        if (state == State.CLOSED || state == State.TIME_WAIT)
            return;
        if (state == State.SYN_SENT || state == State.SYN_RECEIVED) {
            if (!sender.synTimedOut(MAX_SYNACK_RETRANSMITS)) {
                if (state == State.SYN_SENT) {
                    log.debug("{}: the board never answered our SYN", key);
                    finish(false);
                } else {
                    log.debug("{}: board never completed the handshake", key);
                    abortWithReset();
                }
                return;
            }
            emit(sender.iss(), TcpHeader.SYN | (state == State.SYN_RECEIVED ? TcpHeader.ACK : 0), 0, true);
            return;
        }
        if (!sender.onRetransmitTimeout()) {
            log.debug("{}: board stopped acknowledging or answering probes; resetting", key);
            abortWithReset();
        }
    }

    @Override
    public void onPersistTimeout() {
        if (state == State.CLOSED || state == State.TIME_WAIT)
            return;
        if (!sender.onPersistTimeout()) {
            log.debug("{}: board stopped answering zero-window probes; resetting", key);
            abortWithReset();
        }
    }

    @Override
    public void onTimeWaitEnd() {
        if (state == State.TIME_WAIT)
            finish(true);
    }

    // ---- acks -------------------------------------------------------------

    void ackNow() {
        emit(sender.next(), TcpHeader.ACK, 0, false);
    }

    /**
     * Sends the ack owed at the end of a loop round, unless data carried it.
     * Less than two full segments of new data, and nothing else to tell:
     * the ack waits a millisecond for a reply to carry it (RFC 1122 delayed
     * ack, far shorter than its 500 ms), saving the board a packet per
     * request in request/response traffic.
     */
    public void flushAck() {
        if (!receiver.ackOwed() || state == State.CLOSED || state == State.CONNECTING) {
            receiver.forgetAck();
            return;
        }
        if (receiver.ackMayWait(sender.mss())) {
            ctx.schedule(delayedAckTimer, ctx.now() + DELAYED_ACK);
            return; // still owed
        }
        ackNow();
    }

    // ---- packet output ----------------------------------------------------

    void emit(int seq, int flags, int length, boolean syn) {
        assert !emitting : key + ": emit inside an emit";
        emitting = true;
        try {
            write(seq, flags, length, syn);
        } finally {
            emitting = false;
        }
    }

    private void write(int seq, int flags, int length, boolean syn) {
        boolean withAck = (flags & TcpHeader.ACK) != 0;
        int sackBlocks = 0;
        if (!syn && withAck && sackPermitted && receiver.holdsOutOfOrder()) {
            if (sackScratch == null)
                sackScratch = new int[2 * Reassembly.MAX_SACK_BLOCKS];
            sackBlocks = receiver.sackBlocks(sackScratch);
        }
        int options = syn ? TcpWriter.synOptionsLength(sackPermitted, windowScaling)
                : TcpWriter.sackOptionLength(sackBlocks);
        int window = (flags & TcpHeader.RST) != 0 ? 0 : receiver.windowField(syn);
        boolean offload = ctx.output().offload();
        int t = TcpWriter.begin(ctx, key, seq, withAck ? receiver.ackNumber() : 0, flags, window, options, length,
                offload);
        ByteBuffer b = ctx.output().buffer();
        if (syn)
            TcpWriter.writeSynOptions(b, t, ourMss, sackPermitted, windowScaling ? receiver.shift() : -1);
        else if (sackBlocks > 0)
            TcpWriter.writeSackOption(b, t, sackScratch, sackBlocks);
        if (length > 0)
            sender.copyPayload(seq, length, b, t + TcpHeader.MIN_LENGTH + options);
        if (offload)
            TcpWriter.finishOffload(ctx, key, t, options, length, sender.mss() - options); // options come out of each segment (RFC 6691)
        else
            TcpWriter.finish(ctx, key, t, options, length);
        lastSentAt = ctx.now();
        if (withAck) {
            receiver.ackSent();
            if (delayedAckTimer.isArmed())
                ctx.cancel(delayedAckTimer);
        }
    }

    private void emitReset(int seq) {
        emit(seq, TcpHeader.RST, 0, false);
    }

    // ---- endings ----------------------------------------------------------

    private void closeHostIfDone() {
        if (receiver.finDelivered() && sender.streamEnded() && !hostClosed) {
            hostClosed = true;
            socket.close();
        }
    }

    private void enterTimeWait() {
        state = State.TIME_WAIT;
        ctx.cancel(idleTimer);
        releaseBuffers();
        closeHostIfDone();
        timer.timeWait(ctx.config().tcpTimeWait().toNanos());
        ctx.flowInTimeWait(this);
    }

    /** Resets both sides: the host socket with RST, the board with RST|ACK. */
    public void abortWithReset() {
        if (state == State.CLOSED)
            return;
        if (state == State.SYN_SENT) {
            emitReset(sender.next());
            ctx.stats().inc(Counter.TCP_RESETS_TO_BOARD);
        } else if (state != State.CONNECTING) {
            emit(sender.next(), TcpHeader.RST | TcpHeader.ACK, 0, false);
            ctx.stats().inc(Counter.TCP_RESETS_TO_BOARD);
        }
        if (!hostClosed) {
            hostClosed = true;
            socket.abort();
        }
        finish(false);
    }

    /**
     * An event of this flow threw: the packet it was writing is forgotten,
     * the flow is reset both ways (RST to the board, host socket aborted),
     * counted and logged by the NAT, and the board's loop goes on. If even
     * the reset throws, the flow is dropped without a word.
     */
    @Override
    public void failed(RuntimeException cause) {
        ctx.output().abortPacket();
        if (state == State.CLOSED)
            return;
        ctx.flowFailed(key, cause);
        try {
            abortWithReset();
        } catch (RuntimeException again) {
            cause.addSuppressed(again);
            ctx.output().abortPacket();
            forget();
        }
    }

    @Override
    public void onFailure(RuntimeException cause) {
        failed(cause);
    }

    /** The last resort of failed(): out of the table, timers and socket gone, nothing sent. */
    private void forget() {
        state = State.CLOSED;
        hostClosed = true;
        socket.abort();
        stopTimers();
        try {
            releaseBuffers();
        } finally {
            ctx.flowClosed(this);
        }
    }

    /** Frees the flow without a word to the board (the board is gone). */
    public void discard() {
        if (state == State.CLOSED)
            return;
        if (!hostClosed) {
            hostClosed = true;
            socket.abort();
        }
        finish(false);
    }

    private void finish(boolean graceful) {
        if (!hostClosed) {
            hostClosed = true;
            if (graceful)
                socket.close();
            else
                socket.abort();
        }
        state = State.CLOSED;
        stopTimers();
        releaseBuffers();
        ctx.flowClosed(this);
    }

    private void stopTimers() {
        timer.stop();
        ctx.cancel(idleTimer);
        ctx.cancel(delayedAckTimer);
    }

    private void releaseBuffers() {
        receiver.release();
        sender.release();
    }

    void touch() {
        lastActivity = ctx.now();
    }

    private long idleTimeout() {
        NatConfig c = ctx.config();
        return switch (state) {
            case CONNECTING, SYN_SENT -> c.tcpConnectTimeout().toNanos();
            case SYN_RECEIVED, ESTABLISHED -> c.tcpEstablishedIdle().toNanos();
            case TIME_WAIT -> c.tcpTimeWait().toNanos();
            default -> c.tcpClosingIdle().toNanos();
        };
    }

    private void onIdleTimer(long now) {
        if (state == State.CLOSED || state == State.TIME_WAIT)
            return;
        long timeout = idleTimeout();
        long due = state == State.CONNECTING ? timeout : lastActivity + timeout - now;
        if (state != State.CONNECTING && state != State.SYN_SENT && due > 0) {
            ctx.schedule(idleTimer, now + due);
            return;
        }
        if (state == State.SYN_SENT) {
            finish(false);
            return;
        }
        if (state == State.CONNECTING) {
            ctx.stats().inc(Counter.TCP_CONNECT_FAILED);
            log.debug("{}: connect to {} timed out", key, hostEndpoint);
            sendUnreachable(ipv6 ? IcmpWriter.ADDRESS_UNREACHABLE_V6 : IcmpWriter.HOST_UNREACHABLE_V4);
            finish(false);
            return;
        }
        ctx.stats().inc(Counter.TCP_IDLE_CLOSED);
        log.debug("{}: idle for {} s in {}; closing", key, timeout / 1_000_000_000L, state);
        abortWithReset();
    }

    // ---- link waiting -----------------------------------------------------

    @Override
    public boolean resume() {
        if (state == State.CLOSED)
            return false;
        if (readPaused)
            resumeReadingIfRoom();
        readFromHost();
        trySend();
        return ctx.linkWaiters().contains(this);
    }

    @Override
    public String toString() {
        return key + " " + state;
    }
}
