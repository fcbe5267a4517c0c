// The sending half of a flow (host to board), as gVisor's snd.go: the send
// buffer read from the host socket and kept until the board acknowledges it,
// what the board's window and the congestion window let out, ack processing,
// retransmission (RTO, fast retransmit, NewReno partial acks) and zero-window
// probing, each on the flow's one transmission timer.
package dev.qbkit.qbnet.nat;

import java.io.IOException;
import java.nio.ByteBuffer;

import dev.qbkit.qbnet.packet.IpWriter;
import dev.qbkit.qbnet.packet.TcpHeader;

final class Sender {
    static final long MAX_PERSIST = 10_000_000_000L;
    static final int MAX_RETRANSMITS = 12;
    /** Zero-window probes the board may leave unanswered before the flow is reset. */
    static final int MAX_PROBES = 12;

    private final TcpFlow flow;
    private final NatContext ctx;
    private final TcpTimer timer;
    private final RttEstimator rtt = new RttEstimator();
    private final boolean ipv6;
    private final int iss;
    private int sndUna;
    private int sndNxt;
    private int sndMax;
    private long sndWnd;
    private int sndWl1;
    private int sndWl2;
    private int shift;
    private int mss;
    private CongestionControl cc;
    private ByteQueue buffer; // bytes from sndUna on
    private boolean streamEnded; // the host sent EOF: FIN after the last byte
    private boolean finQueued;
    private int finSeq;
    private int retransmits; // timeouts since the board last acknowledged new data
    private int dupAcks;
    private boolean inRecovery;
    private int recover;

    Sender(TcpFlow flow, NatContext ctx, TcpTimer timer, boolean ipv6, int iss) {
        this.flow = flow;
        this.ctx = ctx;
        this.timer = timer;
        this.ipv6 = ipv6;
        this.iss = iss;
        this.sndUna = iss;
        this.sndNxt = iss;
        this.sndMax = iss;
        this.sndWl2 = iss;
    }

    /** The board's MSS and window scale, settled with the SYN options. */
    void negotiate(int segmentSize, int windowShift) {
        mss = segmentSize;
        shift = windowShift;
        cc = new NewReno(mss);
    }

    int mss() {
        return mss;
    }

    int shift() {
        return shift;
    }

    /** The board's SYN carried its first window (never scaled in a SYN). */
    void onPeerSyn(int seq, int window) {
        sndWnd = window;
        sndWl1 = seq;
    }

    // ---- handshake ------------------------------------------------------------

    /** Our SYN (or SYN-ACK) goes out now. */
    void synSent() {
        sndNxt = iss + 1;
        sndMax = sndNxt;
        rtt.startTiming(sndNxt, ctx.now());
        timer.retransmitAfter(rtt.rto());
    }

    /**
     * The SYN retransmission timer expired.
     *
     * @return false when the board is given up on
     */
    boolean synTimedOut(int maxRetransmits) {
        if (++retransmits > maxRetransmits)
            return false;
        ctx.stats().inc(Counter.TCP_RETRANSMITS);
        rtt.cancelTiming();
        rtt.backOff();
        timer.retransmitAfter(rtt.rto());
        return true;
    }

    /** The board acknowledged our SYN; {@code scaled}: its window field is scaled (not a SYN-ACK). */
    void onSynAcked(TcpHeader seg, boolean scaled) {
        rtt.onAck(seg.ack(), ctx.now());
        retransmits = 0;
        sndUna = seg.ack();
        sndWnd = scaled ? (long) seg.window() << shift : seg.window();
        sndWl1 = seg.seq();
        sndWl2 = seg.ack();
        timer.stop();
    }

    int iss() {
        return iss;
    }

    int next() {
        return sndNxt;
    }

    // ---- the send buffer ----------------------------------------------------------

    int queued() {
        return buffer == null ? 0 : buffer.size();
    }

    /** Reads at most {@code max} bytes from the host socket (see ByteQueue.readFrom). */
    long readFrom(TcpSocket socket, int max) throws IOException {
        if (buffer == null)
            buffer = new ByteQueue(ctx.buffers());
        return buffer.readFrom(socket, max);
    }

    /** The host ended its stream: a FIN follows the last byte. */
    void endStream() {
        streamEnded = true;
    }

    boolean streamEnded() {
        return streamEnded;
    }

    /** Copies the payload of a segment at {@code seq} into the packet being written. */
    void copyPayload(int seq, int length, ByteBuffer dst, int at) {
        buffer.copyTo(Seq.diff(seq, sndUna), length, dst, at);
    }

    void release() {
        if (buffer != null)
            buffer.release();
        buffer = null;
    }

    // ---- acks from the board ------------------------------------------------------

    /**
     * ACK field processing (RFC 9293 3.10.7.4, fifth check).
     *
     * @return false when the ack acknowledges something never sent
     */
    boolean onAck(TcpHeader seg) {
        int ack = seg.ack();
        if (Seq.after(ack, sndMax))
            return false;
        timer.probeAnswered(); // the board is alive, whatever its window
        if (Seq.after(ack, sndUna)) {
            onNewAck(ack);
        } else if (ack == sndUna && seg.segmentLength() == 0 && sndMax != sndUna && sndWnd > 0
                && ((long) seg.window() << shift) == sndWnd) {
            onDuplicateAck(); // RFC 5681 2; a shut window's answers to probes ask for no repair
        }
        if (Seq.before(sndWl1, seg.seq()) || (sndWl1 == seg.seq() && Seq.atOrAfter(ack, sndWl2))) {
            sndWnd = (long) seg.window() << shift;
            sndWl1 = seg.seq();
            sndWl2 = ack;
            if (sndWnd > 0 && timer.mode() == TcpTimer.Mode.PERSIST)
                timer.stop(); // the window opened: what goes out now is timed afresh
        }
        return true;
    }

    /** Our FIN is out and the board acknowledged it. */
    boolean finAcked() {
        return finQueued && Seq.after(sndUna, finSeq);
    }

    private void onNewAck(int ack) {
        int acked = Seq.diff(ack, sndUna);
        int data = Math.min(acked, queued());
        if (data > 0)
            buffer.discard(data);
        sndUna = ack;
        if (Seq.before(sndNxt, sndUna))
            sndNxt = sndUna;
        rtt.onAck(ack, ctx.now());
        retransmits = 0;
        dupAcks = 0;
        if (inRecovery) {
            if (Seq.atOrAfter(ack, recover)) {
                inRecovery = false;
                cc.onRecoveryEnd();
            } else {
                retransmitOne(); // NewReno partial ack: the next hole
            }
        } else {
            cc.onAck(acked);
        }
        if (sndMax == sndUna)
            timer.stop();
        else
            timer.retransmitAfter(rtt.rto());
        flow.resumeReadingIfRoom();
    }

    private void onDuplicateAck() {
        if (++dupAcks != 3 || inRecovery)
            return;
        ctx.stats().inc(Counter.TCP_FAST_RETRANSMITS);
        cc.onLossDetected(Seq.diff(sndMax, sndUna));
        inRecovery = true;
        recover = sndMax;
        retransmitOne();
    }

    // ---- sending ------------------------------------------------------------------

    /** Sends what the board's window, the congestion window and the link allow. */
    void trySend() {
        while (true) {
            int inFlight = Seq.diff(sndNxt, sndUna);
            int dataEnd = sndUna + queued();
            int unsent = Seq.diff(dataEnd, sndNxt);
            if (unsent > 0) {
                long usable = Math.min(sndWnd, cc.window()) - inFlight;
                if (usable <= 0) {
                    if (sndWnd == 0 && inFlight == 0 && timer.mode() == TcpTimer.Mode.IDLE)
                        timer.persist(rtt.rto());
                    break;
                }
                if (ctx.output().congested()) {
                    ctx.linkWaiters().add(flow);
                    break;
                }
                int length = (int) Math.min(Math.min(flow.payloadRoom(maxSegment()), unsent), usable);
                if (length < flow.payloadRoom(mss) && length < unsent && inFlight > 0)
                    break; // avoid silly small segments while acks are due
                boolean fin = streamEnded && length == unsent;
                sendData(length, fin);
            } else if (unsent == 0 && streamEnded && (!finQueued || sndNxt == finSeq)) {
                sendData(0, true);
                break;
            } else {
                break;
            }
        }
        flow.resumeReadingIfRoom();
    }

    private void sendData(int length, boolean fin) {
        int seq = sndNxt;
        int flags = TcpHeader.ACK | (fin ? TcpHeader.FIN : 0) | (length > 0 ? TcpHeader.PSH : 0);
        if (Seq.before(seq, sndMax))
            ctx.stats().inc(Counter.TCP_RETRANSMITS);
        flow.emit(seq, flags, length, false);
        sndNxt = seq + length + (fin ? 1 : 0);
        if (fin && !finQueued)
            queueFin(seq + length);
        if (Seq.after(sndNxt, sndMax)) {
            if (length > 0)
                rtt.startTiming(sndNxt, ctx.now());
            sndMax = sndNxt;
        }
        if (timer.mode() != TcpTimer.Mode.RETRANSMIT)
            timer.retransmitAfter(rtt.rto()); // a probe's deadline is not the data's
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

    private void queueFin(int seq) {
        finQueued = true;
        finSeq = seq;
        flow.onFinQueued();
    }

    /** Resends one segment from sndUna (fast retransmit, partial ack). */
    private void retransmitOne() {
        int length = Math.min(flow.payloadRoom(mss), queued());
        boolean fin = finQueued && sndUna + length == finSeq;
        if (length == 0 && !fin)
            return;
        int flags = TcpHeader.ACK | (fin ? TcpHeader.FIN : 0) | (length > 0 ? TcpHeader.PSH : 0);
        ctx.stats().inc(Counter.TCP_RETRANSMITS);
        rtt.cancelTiming();
        flow.emit(sndUna, flags, length, false);
        int end = sndUna + length + (fin ? 1 : 0);
        if (Seq.before(sndNxt, end))
            sndNxt = end;
        timer.retransmitAfter(rtt.rto());
    }

    // ---- timers ---------------------------------------------------------------------

    /**
     * The retransmission timer expired in a synchronized state.
     *
     * @return false when the board is given up on
     */
    boolean onRetransmitTimeout() {
        if (sndMax == sndUna)
            return true;
        if (sndWnd == 0) {
            // The board shut its window on data in flight: that data waits
            // for the window to open; meanwhile probe (persist), and count
            // nothing against the data's retransmissions.
            sndNxt = sndUna;
            rtt.cancelTiming();
            timer.persist(rtt.rto());
            return onPersistTimeout();
        }
        ctx.stats().inc(Counter.TCP_TIMEOUTS);
        if (++retransmits > MAX_RETRANSMITS)
            return false;
        cc.onTimeout(Seq.diff(sndMax, sndUna));
        inRecovery = false;
        dupAcks = 0;
        rtt.cancelTiming();
        rtt.backOff();
        sndNxt = sndUna; // go back N
        int before = sndNxt;
        trySend();
        if (sndNxt == before) {
            // The link is congested: resend the first segment anyway.
            retransmitOne();
        }
        timer.retransmitAfter(rtt.rto());
        return true;
    }

    /**
     * The persist timer expired: probe the board's zero window with an old
     * sequence number, which it answers with its window (RFC 9293 3.8.6.1).
     * Probing goes on for as long as the board answers (as Linux does).
     *
     * @return false when the board left {@link #MAX_PROBES} probes unanswered
     */
    boolean onPersistTimeout() {
        if (sndWnd > 0) {
            trySend();
            return true;
        }
        if (timer.unansweredProbes() >= MAX_PROBES)
            return false;
        flow.emit(sndUna - 1, TcpHeader.ACK, 0, false);
        ctx.stats().inc(Counter.TCP_WINDOW_PROBES);
        timer.probeSent(MAX_PERSIST);
        return true;
    }
}
