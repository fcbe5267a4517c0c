// One TCP connection from the board, terminated here and carried on over a
// host socket. Toward the board this is a full TCP endpoint (RFC 9293): it
// answers the SYN once the host connect succeeds (MSS, window scaling),
// acknowledges board data only once it reached the host socket, keeps data
// sent to the board until acknowledged and retransmits it (RFC 6298 RTO,
// fast retransmit with NewReno partial acks), probes zero windows, and
// carries FIN in each direction on its own (half-close). An event that throws
// resets this flow only (failed()).
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

public final class TcpFlow implements TcpSocket.Listener, LinkWaiters.Waiter {
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
    static final long MIN_RTO = 200_000_000L;
    static final long INITIAL_RTO = 1_000_000_000L;
    static final long MAX_RTO = 60_000_000_000L;
    static final long MAX_PERSIST = 10_000_000_000L;
    static final int MAX_RETRANSMITS = 12;
    static final int MAX_SYNACK_RETRANSMITS = 5;
    static final int DEFAULT_MSS_IPV4 = 536;
    static final int DEFAULT_MSS_IPV6 = 1220;

    private final NatContext ctx;
    private final FlowKey key;
    private final TcpSocket socket;
    private final InetSocketAddress hostEndpoint;
    private final boolean ipv6;
    private State state = State.CONNECTING;

    // Receive side: board to host.
    private int irs;
    private int rcvNxt; // next in-order sequence from the board; includes an accepted FIN
    private ByteQueue toHost; // accepted from the board, not yet taken by the host socket
    private boolean finReceived;
    private boolean finDelivered;
    private int rcvShift;
    private int rcvWindow; // offered beyond the ack point, constant once negotiated
    private boolean ackOwed;
    private int bytesSinceAck; // in-order board data not yet acknowledged
    private boolean ackNowNeeded; // something the board must hear at once (FIN, window opening)

    // Send side: host to board.
    private final int iss;
    private int sndUna;
    private int sndNxt;
    private int sndMax;
    private long sndWnd;
    private int sndWl1;
    private int sndWl2;
    private int sndShift;
    private boolean windowScaling;
    private boolean sackPermitted;
    private Reassembly reassembly; // out-of-order board data, made on the first gap
    private int mss;
    private final int ourMss;
    private ByteQueue toBoard; // bytes from sndUna on
    private boolean hostEof;
    private boolean finQueued;
    private int finSeq;
    private boolean readPaused;
    private boolean hostClosed;

    // Loss recovery (RFC 6298, RFC 5681/6582).
    private long srtt = -1;
    private long rttvar;
    private long rto = INITIAL_RTO;
    private int backoff;
    private boolean timing;
    private int timedSeq;
    private long timedAt;
    private long synAckSentAt;
    private int dupAcks;
    private boolean inRecovery;
    private int recover;
    private long cwnd;
    private long ssthresh = Long.MAX_VALUE;

    private long lastActivity;
    private boolean waiting;
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

    private final Timer retransmitTimer = new FlowTimer() {
        @Override
        protected void fire(long now) {
            onRetransmitTimer(now);
        }
    };

    private final Timer idleTimer = new FlowTimer() {
        @Override
        protected void fire(long now) {
            onIdleTimer(now);
        }
    };

    /**
     * Creates the flow for a board SYN. {@link #start} begins the host
     * connect; the SYN is answered when it succeeds.
     */
    public TcpFlow(NatContext ctx, FlowKey key, TcpHeader syn, TcpSocket socket, InetSocketAddress hostEndpoint,
            int iss) {
        this(ctx, key, socket, hostEndpoint, iss);
        this.irs = syn.seq();
        this.rcvNxt = irs + 1;
        this.sndWnd = syn.window();
        this.sndWl1 = irs;
        negotiate(syn.mss(), syn.windowScale(), true, syn.sackPermitted());
    }

    private TcpFlow(NatContext ctx, FlowKey key, TcpSocket socket, InetSocketAddress hostEndpoint, int iss) {
        this.ctx = ctx;
        this.key = key;
        this.socket = socket;
        this.hostEndpoint = hostEndpoint;
        this.ipv6 = key.isIpv6();
        this.iss = iss;
        this.sndUna = iss;
        this.sndNxt = iss;
        this.sndMax = iss;
        this.sndWl2 = iss;
        this.ourMss = ctx.config().mtu() - IpWriter.headerLength(ipv6) - TcpHeader.MIN_LENGTH;
        this.lastActivity = ctx.now();
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
        mss = Math.max(64, Math.min(offered, ourMss));
        int capacity = ctx.config().tcpReceiveWindow();
        windowScaling = scaling && peerScale >= 0;
        if (windowScaling) {
            sndShift = peerScale;
            int shift = 0;
            while ((capacity >> shift) > 0xFFFF)
                shift++;
            rcvShift = Math.min(shift, 14);
            rcvWindow = Math.min(capacity, 0xFFFF << rcvShift) & -(1 << rcvShift);
        } else {
            sndShift = 0;
            rcvShift = 0;
            rcvWindow = Math.min(capacity, 0xFFFF);
        }
        cwnd = 10L * mss;
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
        sndNxt = iss + 1;
        sndMax = sndNxt;
        synAckSentAt = ctx.now();
        emit(iss, TcpHeader.SYN, 0, true);
        armRetransmit();
    }

    public FlowKey key() {
        return key;
    }

    public State state() {
        return state;
    }

    /** Bytes held for this flow in both directions. */
    public int bufferedBytes() {
        return (toHost == null ? 0 : toHost.size()) + (toBoard == null ? 0 : toBoard.size());
    }

    // ---- host socket events ----------------------------------------------

    @Override
    public void onConnected() {
        if (state != State.CONNECTING)
            return;
        state = State.SYN_RECEIVED;
        touch();
        sndNxt = iss + 1;
        sndMax = sndNxt;
        synAckSentAt = ctx.now();
        emit(iss, TcpHeader.SYN | TcpHeader.ACK, 0, true);
        armRetransmit();
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
        IcmpWriter.unreachable(ctx, key.remoteAddress(), key.boardAddress(), code, IcmpWriter.quoteOfSyn(key, irs));
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
        if (state == State.CLOSED || toHost == null)
            return;
        try {
            if (toHost.writeTo(socket) > 0) {
                touch();
                ackNowNeeded = true; // the window opens and held data is acknowledged
                ackLater();
            }
        } catch (IOException e) {
            hostFailed(e);
            return;
        }
        if (toHost.isEmpty()) {
            updateInterest();
            deliverFinIfDue();
        }
    }

    private void readFromHost() {
        while (!hostEof && state != State.CLOSED) {
            int room = ctx.config().tcpSendBuffer() - sendQueued();
            if (room <= 0) {
                pauseReading();
                return;
            }
            long n;
            try {
                n = toBoard().readFrom(socket, room);
            } catch (IOException e) {
                hostFailed(e);
                return;
            }
            if (n < 0) {
                hostEof = true;
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
            touch();
            if (n < room)
                return;
        }
    }

    private void pauseReading() {
        if (!readPaused) {
            readPaused = true;
            updateInterest();
        }
    }

    private void resumeReadingIfRoom() {
        if (readPaused && !hostEof && sendQueued() < ctx.config().tcpSendBuffer()) {
            readPaused = false;
            updateInterest();
        }
    }

    private void updateInterest() {
        if (hostClosed)
            return;
        boolean read = !readPaused && !hostEof && state != State.CONNECTING;
        boolean write = toHost != null && !toHost.isEmpty();
        socket.setInterest(read, write);
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
        if (state == State.SYN_SENT) {
            onSegmentInSynSent(seg);
            return;
        }
        if (state == State.CONNECTING) {
            if (seg.has(TcpHeader.RST) && seg.seq() == irs + 1) {
                ctx.stats().inc(Counter.TCP_RESETS_FROM_BOARD);
                socket.abort();
                finish(false);
            }
            // A repeated SYN waits for the connect; anything else is early.
            return;
        }
        if (seg.has(TcpHeader.SYN)) {
            if (state == State.SYN_RECEIVED && seg.seq() == irs) {
                emit(iss, TcpHeader.SYN | TcpHeader.ACK, 0, true); // duplicate SYN: our SYN-ACK was lost
                ctx.stats().inc(Counter.TCP_RETRANSMITS);
            } else {
                ackNow(); // RFC 5961 challenge ACK
            }
            return;
        }
        if (!acceptable(seg)) {
            if (!seg.has(TcpHeader.RST)) {
                // Wholly old (a retransmission, a keepalive) is normal; beyond the window is not.
                boolean old = !Seq.after(seg.seq() + seg.segmentLength(), rcvNxt);
                ctx.stats().inc(old ? Counter.TCP_DUPLICATES : Counter.DROP_TCP_OUT_OF_WINDOW);
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
            if (seg.ack() != iss + 1) {
                emitReset(seg.ack()); // <SEQ=SEG.ACK><CTL=RST>
                return;
            }
            establish(seg);
        }
        if (!processAck(seg))
            return;
        if (seg.payloadLength() > 0)
            onData(buf, seg);
        if (seg.has(TcpHeader.FIN))
            onFin(seg);
        trySend();
    }

    /** RFC 9293 3.10.7.3: our SYN is out, the board answers. */
    private void onSegmentInSynSent(TcpHeader seg) {
        boolean ackOk = seg.has(TcpHeader.ACK) && seg.ack() == iss + 1;
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
        irs = seg.seq();
        rcvNxt = irs + 1;
        negotiate(seg.mss(), seg.windowScale(), true, seg.sackPermitted());
        sndUna = seg.ack();
        sndWnd = seg.window(); // never scaled in a SYN
        sndWl1 = seg.seq();
        sndWl2 = seg.ack();
        if (backoff == 0)
            sampleRtt(ctx.now() - synAckSentAt);
        backoff = 0;
        ctx.cancel(retransmitTimer);
        state = State.ESTABLISHED;
        ackNow();
        updateInterest();
        trySend();
    }

    private boolean acceptable(TcpHeader seg) {
        int length = seg.segmentLength();
        long window = freeWindow();
        int seq = seg.seq();
        if (length == 0)
            return window == 0 ? seq == rcvNxt : inWindow(seq, window);
        if (window == 0)
            return false;
        return inWindow(seq, window) || inWindow(seq + length - 1, window);
    }

    private boolean inWindow(int seq, long window) {
        return !Seq.before(seq, rcvNxt) && Seq.diff(seq, rcvNxt) < window;
    }

    /** Bytes the board may still send beyond rcvNxt. */
    private long freeWindow() {
        return Math.max(0, (long) rcvWindow - pendingToHost());
    }

    private int pendingToHost() {
        return toHost == null ? 0 : toHost.size();
    }

    private void establish(TcpHeader seg) {
        state = State.ESTABLISHED;
        if (backoff == 0)
            sampleRtt(ctx.now() - synAckSentAt);
        backoff = 0;
        sndUna = seg.ack();
        sndWnd = (long) seg.window() << sndShift;
        sndWl1 = seg.seq();
        sndWl2 = seg.ack();
        ctx.cancel(retransmitTimer);
        log.debug("{}: established (mss {}, board window scale {}, ours {})", key, mss, sndShift, rcvShift);
    }

    /** ACK field processing; false when the segment is not to be processed further. */
    private boolean processAck(TcpHeader seg) {
        int ack = seg.ack();
        if (Seq.after(ack, sndMax)) {
            ackNow(); // acknowledges something never sent
            return false;
        }
        if (Seq.after(ack, sndUna)) {
            onNewAck(ack);
        } else if (ack == sndUna && seg.segmentLength() == 0 && sndMax != sndUna
                && ((long) seg.window() << sndShift) == sndWnd) {
            onDuplicateAck();
        }
        if (Seq.before(sndWl1, seg.seq()) || (sndWl1 == seg.seq() && !Seq.before(ack, sndWl2))) {
            sndWnd = (long) seg.window() << sndShift;
            sndWl1 = seg.seq();
            sndWl2 = ack;
        }
        if (finQueued && Seq.after(ack, finSeq))
            onOurFinAcked();
        return state != State.CLOSED;
    }

    private void onNewAck(int ack) {
        int acked = Seq.diff(ack, sndUna);
        int data = Math.min(acked, sendQueued());
        if (data > 0)
            toBoard.discard(data);
        sndUna = ack;
        if (Seq.before(sndNxt, sndUna))
            sndNxt = sndUna;
        if (timing && !Seq.before(ack, timedSeq)) {
            timing = false;
            sampleRtt(ctx.now() - timedAt);
        }
        backoff = 0;
        dupAcks = 0;
        if (inRecovery) {
            if (!Seq.before(ack, recover)) {
                inRecovery = false;
                cwnd = ssthresh;
            } else {
                retransmitOne(); // NewReno partial ack: the next hole
            }
        } else if (cwnd < ssthresh) {
            cwnd += acked;
        } else {
            cwnd += Math.max(1, (long) mss * acked / cwnd);
        }
        if (sndMax == sndUna)
            ctx.cancel(retransmitTimer);
        else
            ctx.schedule(retransmitTimer, ctx.now() + rto);
        resumeReadingIfRoom();
    }

    private void onDuplicateAck() {
        if (++dupAcks != 3 || inRecovery)
            return;
        ctx.stats().inc(Counter.TCP_FAST_RETRANSMITS);
        ssthresh = Math.max(Seq.diff(sndMax, sndUna) / 2, 2L * mss);
        cwnd = ssthresh;
        inRecovery = true;
        recover = sndMax;
        retransmitOne();
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

    private void onData(ByteBuffer buf, TcpHeader seg) {
        if (finReceived)
            return; // data after FIN: RFC 9293 says ignore
        int seq = seg.seq();
        int length = seg.payloadLength();
        if (Seq.after(seq, rcvNxt)) {
            // A gap: hold the data until the hole is filled; the duplicate
            // ack (with SACK blocks) asks for the hole.
            if (reassembly == null)
                reassembly = new Reassembly(ctx.buffers());
            int take = (int) Math.min(length, freeWindow() - Seq.diff(seq, rcvNxt));
            boolean fin = seg.has(TcpHeader.FIN) && take == length;
            if (take > 0 && reassembly.add(seq, buf, seg.payloadOffset(), take, fin))
                ctx.stats().inc(Counter.TCP_OUT_OF_ORDER_QUEUED);
            else
                ctx.stats().inc(Counter.DROP_TCP_OUT_OF_ORDER);
            ackNow();
            return;
        }
        int skip = Seq.diff(rcvNxt, seq);
        if (skip >= length) {
            ackNow(); // a retransmission of what we have
            return;
        }
        int take = (int) Math.min(length - skip, freeWindow());
        if (take <= 0) {
            ackNow();
            return;
        }
        int accepted = deliver(buf, seg.payloadOffset() + skip, take);
        rcvNxt += accepted;
        bytesSinceAck += accepted;
        drainReassembly();
        ackLater();
    }

    /** Delivers held out-of-order data that the new in-order data has reached. */
    private void drainReassembly() {
        if (reassembly == null)
            return;
        Reassembly.Piece p;
        while ((p = reassembly.pollReady(rcvNxt)) != null) {
            int skip = Seq.diff(rcvNxt, p.seq());
            int rest = p.data().length - skip;
            if (rest > 0) {
                int accepted = deliver(ByteBuffer.wrap(p.data()), skip, (int) Math.min(rest, freeWindow()));
                if (state == State.CLOSED)
                    return; // the host socket failed and the flow let go of everything
                rcvNxt += accepted;
                if (accepted < rest) {
                    reassembly.add(rcvNxt, ByteBuffer.wrap(p.data()), skip + accepted, rest - accepted, p.fin());
                    return;
                }
            }
            if (p.fin() && !finReceived && p.end() == rcvNxt) {
                finReceived = true;
                rcvNxt++;
                deliverFinIfDue();
            }
        }
    }

    /** Passes board data to the host socket, queueing what it cannot take now. */
    private int deliver(ByteBuffer buf, int offset, int length) {
        int written = 0;
        if (pendingToHost() == 0) {
            ByteBuffer view = buf.duplicate();
            view.limit(offset + length).position(offset);
            try {
                written = socket.write(view);
            } catch (IOException e) {
                hostFailed(e);
                return 0;
            }
            if (written == length)
                return written;
        }
        if (toHost == null)
            toHost = new ByteQueue(ctx.buffers());
        int queued = toHost.append(buf, offset + written, length - written);
        if (queued < length - written)
            ctx.limitHit(Counter.DROP_TCP_BUFFER_LIMIT, "the board's flows hold " + (ctx.buffers().inUseBytes() >> 20)
                    + " MiB, the buffer limit: board data waits for the host sockets (raise --max-buffer)");
        updateInterest();
        return written + queued;
    }

    private void onFin(TcpHeader seg) {
        if (finReceived || Seq.diff(seg.seq() + seg.payloadLength(), rcvNxt) != 0)
            return; // not in order (yet): the board will retransmit it
        finReceived = true;
        rcvNxt++;
        deliverFinIfDue();
        ackNowNeeded = true;
        ackLater();
    }

    /** Once everything before the board's FIN reached the host, half-close the host socket. */
    private void deliverFinIfDue() {
        if (!finReceived || finDelivered || pendingToHost() != 0 || state == State.CLOSED)
            return;
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            hostFailed(e);
            return;
        }
        finDelivered = true;
        ackNowNeeded = true;
        ackLater();
        switch (state) {
            case ESTABLISHED -> state = State.CLOSE_WAIT;
            case FIN_WAIT_1 -> state = State.CLOSING;
            case FIN_WAIT_2 -> enterTimeWait();
            default -> {
            }
        }
        closeHostIfDone();
    }

    // ---- sending to the board ---------------------------------------------

    private int sendQueued() {
        return toBoard == null ? 0 : toBoard.size();
    }

    private ByteQueue toBoard() {
        if (toBoard == null)
            toBoard = new ByteQueue(ctx.buffers());
        return toBoard;
    }

    /** Sends what the board's window, the congestion window and the link allow. */
    private void trySend() {
        if (state == State.CONNECTING || state == State.SYN_SENT || state == State.SYN_RECEIVED
                || state == State.CLOSED || state == State.TIME_WAIT)
            return;
        while (true) {
            int inFlight = Seq.diff(sndNxt, sndUna);
            int dataEnd = sndUna + sendQueued();
            int unsent = Seq.diff(dataEnd, sndNxt);
            if (unsent > 0) {
                long usable = Math.min(sndWnd, cwnd) - inFlight;
                if (usable <= 0) {
                    if (sndWnd == 0 && sndMax == sndUna && !retransmitTimer.isArmed())
                        armPersist();
                    break;
                }
                if (ctx.output().congested()) {
                    ctx.linkWaiters().add(this);
                    break;
                }
                int length = (int) Math.min(Math.min(payloadRoom(maxSegment()), unsent), usable);
                if (length < payloadRoom(mss) && length < unsent && inFlight > 0)
                    break; // avoid silly small segments while acks are due
                boolean fin = hostEof && length == unsent;
                sendData(length, fin);
            } else if (unsent == 0 && hostEof && (!finQueued || sndNxt == finSeq)) {
                sendData(0, true);
                break;
            } else {
                break;
            }
        }
        resumeReadingIfRoom();
    }

    private void sendData(int length, boolean fin) {
        int seq = sndNxt;
        int flags = TcpHeader.ACK | (fin ? TcpHeader.FIN : 0) | (length > 0 ? TcpHeader.PSH : 0);
        if (Seq.before(seq, sndMax))
            ctx.stats().inc(Counter.TCP_RETRANSMITS);
        emit(seq, flags, length, false);
        sndNxt = seq + length + (fin ? 1 : 0);
        if (fin && !finQueued)
            queueFin(seq + length);
        if (Seq.after(sndNxt, sndMax)) {
            if (!timing && length > 0) {
                timing = true;
                timedSeq = sndNxt;
                timedAt = ctx.now();
            }
            sndMax = sndNxt;
        }
        if (!retransmitTimer.isArmed())
            armRetransmit();
    }

    /**
     * Payload of one segment we send: the board's MSS, or with offload a
     * super-segment up to 64 KiB that the board's kernel cuts at its MSS.
     */
    private int maxSegment() {
        if (!ctx.output().offload())
            return mss;
        int room = 65535 - (ipv6 ? 0 : IpWriter.headerLength(false)) - TcpHeader.MIN_LENGTH - 40;
        return Math.max(mss, room / mss * mss);
    }

    /**
     * Payload that fits a segment of at most {@code segment} data bytes once
     * SACK blocks take header room (RFC 6691): the board drops frames over
     * the MTU, and while board data is held every ack carries up to three.
     */
    private int payloadRoom(int segment) {
        if (!sackPermitted || reassembly == null || reassembly.isEmpty())
            return segment;
        return Math.max(1, segment - (4 + 8 * Reassembly.MAX_SACK_BLOCKS));
    }

    private void queueFin(int seq) {
        finQueued = true;
        finSeq = seq;
        if (state == State.ESTABLISHED)
            state = State.FIN_WAIT_1;
        else if (state == State.CLOSE_WAIT)
            state = State.LAST_ACK;
    }

    /** Resends one segment from sndUna (fast retransmit, partial ack). */
    private void retransmitOne() {
        int unsentData = sendQueued();
        int length = Math.min(payloadRoom(mss), unsentData);
        boolean fin = finQueued && sndUna + length == finSeq;
        if (length == 0 && !fin)
            return;
        int flags = TcpHeader.ACK | (fin ? TcpHeader.FIN : 0) | (length > 0 ? TcpHeader.PSH : 0);
        ctx.stats().inc(Counter.TCP_RETRANSMITS);
        timing = false;
        emit(sndUna, flags, length, false);
        int end = sndUna + length + (fin ? 1 : 0);
        if (Seq.before(sndNxt, end))
            sndNxt = end;
        armRetransmit();
    }

    private void onRetransmitTimer(long now) {
        if (state == State.CLOSED || state == State.TIME_WAIT)
            return;
        if (state == State.SYN_SENT) {
            if (++backoff > MAX_SYNACK_RETRANSMITS) {
                log.debug("{}: the board never answered our SYN", key);
                finish(false);
                return;
            }
            ctx.stats().inc(Counter.TCP_RETRANSMITS);
            rto = Math.min(rto * 2, MAX_RTO);
            emit(iss, TcpHeader.SYN, 0, true);
            armRetransmit();
            return;
        }
        if (state == State.SYN_RECEIVED) {
            if (++backoff > MAX_SYNACK_RETRANSMITS) {
                log.debug("{}: board never completed the handshake", key);
                abortWithReset();
                return;
            }
            ctx.stats().inc(Counter.TCP_RETRANSMITS);
            rto = Math.min(rto * 2, MAX_RTO);
            emit(iss, TcpHeader.SYN | TcpHeader.ACK, 0, true);
            armRetransmit();
            return;
        }
        if (sndMax == sndUna) {
            if (sndWnd == 0 && sendQueued() > 0) {
                emit(sndUna - 1, TcpHeader.ACK, 0, false); // zero-window probe: the board answers with its window
                backoff++;
                armPersist();
            }
            return;
        }
        ctx.stats().inc(Counter.TCP_TIMEOUTS);
        if (++backoff > MAX_RETRANSMITS) {
            log.debug("{}: board stopped acknowledging; resetting", key);
            abortWithReset();
            return;
        }
        ssthresh = Math.max(Seq.diff(sndMax, sndUna) / 2, 2L * mss);
        cwnd = mss;
        inRecovery = false;
        dupAcks = 0;
        timing = false;
        rto = Math.min(rto * 2, MAX_RTO);
        sndNxt = sndUna; // go back N
        int before = sndNxt;
        trySend();
        if (sndNxt == before) {
            // The link is congested or the window shut: resend the first segment anyway.
            retransmitOne();
        }
        armRetransmit();
    }

    private void armRetransmit() {
        ctx.schedule(retransmitTimer, ctx.now() + rto);
    }

    private void armPersist() {
        long interval = Math.min(rto << Math.min(backoff, 6), MAX_PERSIST);
        ctx.schedule(retransmitTimer, ctx.now() + interval);
    }

    private void sampleRtt(long sample) {
        sample = Math.max(sample, 1);
        if (srtt < 0) {
            srtt = sample;
            rttvar = sample / 2;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - sample)) / 4;
            srtt = (7 * srtt + sample) / 8;
        }
        rto = Math.clamp(srtt + Math.max(1_000_000L, 4 * rttvar), MIN_RTO, MAX_RTO);
    }

    // ---- acks -------------------------------------------------------------

    private void ackLater() {
        if (!ackOwed) {
            ackOwed = true;
            ctx.ackLater(this);
        }
    }

    private void ackNow() {
        emit(sndNxt, TcpHeader.ACK, 0, false);
    }

    /**
     * Sends the ack owed at the end of a loop round, unless data carried it.
     * Less than two full segments of new data, and nothing else to tell:
     * the ack waits a millisecond for a reply to carry it (RFC 1122 delayed
     * ack, far shorter than its 500 ms), saving the board a packet per
     * request in request/response traffic.
     */
    public void flushAck() {
        if (!ackOwed || state == State.CLOSED || state == State.CONNECTING) {
            ackOwed = false;
            return;
        }
        if (!ackNowNeeded && bytesSinceAck > 0 && bytesSinceAck < 2 * mss && pendingToHost() == 0
                && (reassembly == null || reassembly.isEmpty())) {
            ctx.schedule(delayedAckTimer, ctx.now() + DELAYED_ACK);
            return; // still owed
        }
        ackNow();
    }

    private final Timer delayedAckTimer = new FlowTimer() {
        @Override
        protected void fire(long now) {
            if (ackOwed && state != State.CLOSED)
                ackNow();
        }
    };

    /** Acknowledges everything delivered, and the FIN once delivered. */
    private int ackNumber() {
        return rcvNxt - pendingToHost() - (finReceived && !finDelivered ? 1 : 0);
    }

    private int windowField(boolean syn) {
        if (syn)
            return Math.min(rcvWindow, 0xFFFF);
        return Math.min(rcvWindow >>> rcvShift, 0xFFFF);
    }

    // ---- packet output ----------------------------------------------------

    private void emit(int seq, int flags, int length, boolean syn) {
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
        int[] blocks = null;
        if (!syn && withAck && sackPermitted && reassembly != null && !reassembly.isEmpty()) {
            blocks = new int[2 * Reassembly.MAX_SACK_BLOCKS];
            sackBlocks = reassembly.sackBlocks(blocks);
        }
        int options = syn ? 4 + (sackPermitted ? 4 : 0) + (windowScaling ? 4 : 0)
                : sackBlocks > 0 ? 4 + 8 * sackBlocks : 0;
        int window = (flags & TcpHeader.RST) != 0 ? 0 : windowField(syn);
        boolean offload = ctx.output().offload();
        int t = TcpWriter.begin(ctx, key, seq, withAck ? ackNumber() : 0, flags, window, options, length, offload);
        ByteBuffer b = ctx.output().buffer();
        int o = t + TcpHeader.MIN_LENGTH;
        if (syn) {
            b.put(o, (byte) 2).put(o + 1, (byte) 4).putShort(o + 2, (short) ourMss);
            o += 4;
            if (sackPermitted) {
                b.put(o, (byte) 1).put(o + 1, (byte) 1).put(o + 2, (byte) 4).put(o + 3, (byte) 2);
                o += 4;
            }
            if (windowScaling)
                b.put(o, (byte) 1).put(o + 1, (byte) 3).put(o + 2, (byte) 3).put(o + 3, (byte) rcvShift);
        } else if (sackBlocks > 0) {
            b.put(o, (byte) 1).put(o + 1, (byte) 1).put(o + 2, (byte) 5).put(o + 3, (byte) (2 + 8 * sackBlocks));
            for (int k = 0; k < sackBlocks; k++)
                b.putInt(o + 4 + 8 * k, blocks[2 * k]).putInt(o + 8 + 8 * k, blocks[2 * k + 1]);
        }
        if (length > 0)
            toBoard.copyTo(Seq.diff(seq, sndUna), length, b, t + TcpHeader.MIN_LENGTH + options);
        if (offload)
            TcpWriter.finishOffload(ctx, key, t, options, length, mss - options); // options come out of each segment (RFC 6691)
        else
            TcpWriter.finish(ctx, key, t, options, length);
        if (withAck) {
            ackOwed = false;
            bytesSinceAck = 0;
            ackNowNeeded = false;
            if (delayedAckTimer.isArmed())
                ctx.cancel(delayedAckTimer);
        }
    }

    private void emitReset(int seq) {
        emit(seq, TcpHeader.RST, 0, false);
    }

    // ---- endings ----------------------------------------------------------

    private void closeHostIfDone() {
        if (finDelivered && hostEof && !hostClosed) {
            hostClosed = true;
            socket.close();
        }
    }

    private void enterTimeWait() {
        state = State.TIME_WAIT;
        ctx.cancel(retransmitTimer);
        releaseBuffers();
        closeHostIfDone();
        ctx.schedule(idleTimer, ctx.now() + ctx.config().tcpTimeWait().toNanos());
    }

    /** Resets both sides: the host socket with RST, the board with RST|ACK. */
    public void abortWithReset() {
        if (state == State.CLOSED)
            return;
        if (state == State.SYN_SENT) {
            emitReset(sndNxt);
            ctx.stats().inc(Counter.TCP_RESETS_TO_BOARD);
        } else if (state != State.CONNECTING) {
            emit(sndNxt, TcpHeader.RST | TcpHeader.ACK, 0, false);
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
        ctx.cancel(retransmitTimer);
        ctx.cancel(idleTimer);
        ctx.cancel(delayedAckTimer);
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
        ctx.cancel(retransmitTimer);
        ctx.cancel(idleTimer);
        ctx.cancel(delayedAckTimer);
        releaseBuffers();
        ctx.flowClosed(this);
    }

    private void releaseBuffers() {
        if (reassembly != null)
            reassembly.clear();
        if (toHost != null)
            toHost.release();
        if (toBoard != null)
            toBoard.release();
        toHost = null;
        toBoard = null;
    }

    private void touch() {
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
        if (state == State.CLOSED)
            return;
        if (state == State.TIME_WAIT) {
            finish(true);
            return;
        }
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
        return waiting;
    }

    @Override
    public boolean isWaiting() {
        return waiting;
    }

    @Override
    public void setWaiting(boolean waiting) {
        this.waiting = waiting;
    }

    @Override
    public String toString() {
        return key + " " + state;
    }
}
