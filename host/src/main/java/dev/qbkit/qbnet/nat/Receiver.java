// The receiving half of a flow (board to host), as gVisor's rcv.go: which board
// segments are acceptable, reassembly of data beyond a hole (SACK), delivery to
// the host socket with what it cannot take held, the ack number (everything
// accepted, held or not), the window we advertise (the room left, never
// moving its right edge left), and when an ack is owed or may wait.
package dev.qbkit.qbnet.nat;

import java.io.IOException;
import java.nio.ByteBuffer;

import dev.qbkit.qbnet.packet.TcpHeader;

final class Receiver {
    private final TcpFlow flow;
    private final NatContext ctx;
    private final TcpSocket socket;

    private int irs;
    private int rcvNxt; // next in-order sequence from the board; includes an accepted FIN
    private int rcvEdge; // right edge of the window offered so far: it never moves left
    private int shift;
    private int capacity; // what the flow holds for the host at most: the largest window
    private int mss; // the board's segments: the unit of window updates (receiver SWS avoidance)
    private ByteQueue toHost; // accepted from the board, not yet taken by the host socket
    private Reassembly reassembly; // out-of-order board data, made on the first gap
    private boolean finReceived;
    private boolean finDelivered;

    private boolean ackOwed;
    private int bytesSinceAck; // in-order board data not yet acknowledged
    private boolean ackNowNeeded; // something the board must hear at once (FIN, window opening)

    Receiver(TcpFlow flow, NatContext ctx, TcpSocket socket) {
        this.flow = flow;
        this.ctx = ctx;
        this.socket = socket;
    }

    /** The board's SYN (or SYN-ACK) arrived with sequence {@code irs}. */
    void init(int initialSequence) {
        irs = initialSequence;
        rcvNxt = irs + 1;
        rcvEdge = rcvNxt + Math.min(capacity, 0xFFFF); // what our SYN offered, if it went first
    }

    /** Our window scale, the most we hold, and the board's MSS, settled with the SYN options. */
    void negotiate(int windowShift, int window, int boardMss) {
        shift = windowShift;
        capacity = window;
        mss = boardMss;
    }

    int irs() {
        return irs;
    }

    /** rcvNxt: the next sequence number expected from the board. */
    int next() {
        return rcvNxt;
    }

    /** The window we offer shows as zero: an old segment now is the board probing it. */
    boolean windowShut() {
        return Seq.diff(rcvEdge, rcvNxt) >>> shift == 0;
    }

    int shift() {
        return shift;
    }

    // ---- acceptance (RFC 9293 3.10.7.4, first check) ------------------------

    boolean acceptable(TcpHeader seg) {
        int length = seg.segmentLength();
        long window = acceptWindow();
        int seq = seg.seq();
        if (length == 0)
            return window == 0 ? seq == rcvNxt : Seq.inWindow(seq, rcvNxt, window);
        if (window == 0)
            return false;
        return Seq.inWindow(seq, rcvNxt, window) || Seq.inWindow(seq + length - 1, rcvNxt, window);
    }

    /** Wholly before rcvNxt: a retransmission or a keepalive, not a segment from beyond the window. */
    boolean isOld(TcpHeader seg) {
        return Seq.atOrBefore(seg.seq() + seg.segmentLength(), rcvNxt);
    }

    /**
     * Bytes the board may send beyond rcvNxt: what we offered, or more if
     * room opened since (RFC 9293 lets a receiver take more than it offered).
     */
    private long acceptWindow() {
        return Math.max(Seq.diff(rcvEdge, rcvNxt), room());
    }

    /**
     * Bytes this flow could hold beyond rcvNxt now: its capacity less what
     * the host has not taken, and no more than the board's buffer cap has
     * left (all of the board's flows share it).
     */
    private long room() {
        BufferPool pool = ctx.buffers();
        long poolLeft = pool.maxBytes() - pool.inUseBytes();
        return Math.max(0, Math.min((long) capacity - pending(), poolLeft));
    }

    /**
     * Moves the right edge to the room we have, never left (RFC 9293
     * 3.8.6), and while the window is under half its size only by a full
     * segment or more (receiver SWS avoidance, RFC 1122 4.2.3.3).
     */
    private void advanceEdge() {
        long room = room();
        int candidate = rcvNxt + (int) room;
        if (Seq.after(candidate, rcvEdge)
                && (room >= capacity / 2 || Seq.diff(candidate, rcvEdge) >= Math.min(capacity / 2, mss)))
            rcvEdge = candidate;
        else if (Seq.before(rcvEdge, rcvNxt))
            rcvEdge = rcvNxt; // data beyond the offer was taken
    }

    int pending() {
        return toHost == null ? 0 : toHost.size();
    }

    boolean holdsOutOfOrder() {
        return reassembly != null && !reassembly.isEmpty();
    }

    // ---- data -----------------------------------------------------------------

    /** In-window payload of an acceptable segment. */
    void onData(ByteBuffer buf, TcpHeader seg) throws IOException {
        if (finReceived)
            return; // data after FIN: RFC 9293 says ignore
        int seq = seg.seq();
        int length = seg.payloadLength();
        if (Seq.after(seq, rcvNxt)) {
            // A gap: hold the data until the hole is filled; the duplicate
            // ack (with SACK blocks) asks for the hole.
            if (reassembly == null)
                reassembly = new Reassembly(ctx.buffers());
            int take = (int) Math.min(length, acceptWindow() - Seq.diff(seq, rcvNxt));
            boolean fin = seg.has(TcpHeader.FIN) && take == length;
            if (take > 0 && reassembly.add(seq, buf, seg.payloadOffset(), take, fin))
                ctx.stats().inc(Counter.TCP_OUT_OF_ORDER_QUEUED);
            else
                ctx.stats().inc(Counter.DROP_TCP_OUT_OF_ORDER);
            flow.ackNow();
            return;
        }
        int skip = Seq.diff(rcvNxt, seq);
        if (skip >= length) {
            flow.ackNow(); // a retransmission of what we have
            return;
        }
        int take = (int) Math.min(length - skip, acceptWindow());
        if (take <= 0) {
            flow.ackNow();
            return;
        }
        int accepted = deliver(buf, seg.payloadOffset() + skip, take);
        rcvNxt += accepted;
        bytesSinceAck += accepted;
        drainReassembly();
        ackLater();
    }

    /**
     * Delivers held out-of-order data that the new in-order data has reached.
     * A host socket that fails ends the drain at once (the flow resets).
     */
    private void drainReassembly() throws IOException {
        if (reassembly == null)
            return;
        Reassembly.Piece p;
        while ((p = reassembly.pollReady(rcvNxt)) != null) {
            int skip = Seq.diff(rcvNxt, p.seq());
            int rest = p.data().length - skip;
            if (rest > 0) {
                int accepted = deliver(ByteBuffer.wrap(p.data()), skip, (int) Math.min(rest, acceptWindow()));
                rcvNxt += accepted;
                if (accepted < rest) {
                    reassembly.add(rcvNxt, ByteBuffer.wrap(p.data()), skip + accepted, rest - accepted, p.fin());
                    return;
                }
            }
            if (p.fin() && !finReceived && p.end() == rcvNxt)
                finArrived();
        }
    }

    /** Passes board data to the host socket, queueing what it cannot take now. */
    private int deliver(ByteBuffer buf, int offset, int length) throws IOException {
        int written = 0;
        if (pending() == 0) {
            ByteBuffer view = buf.duplicate();
            view.limit(offset + length).position(offset);
            written = socket.write(view);
            if (written == length)
                return written;
        }
        if (toHost == null)
            toHost = new ByteQueue(ctx.buffers());
        int queued = toHost.append(buf, offset + written, length - written);
        if (queued < length - written)
            ctx.limitHit(Counter.DROP_TCP_BUFFER_LIMIT, "the board's flows hold " + (ctx.buffers().inUseBytes() >> 20)
                    + " MiB, the buffer limit: board data waits for the host sockets (raise --max-buffer)");
        flow.updateInterest();
        return written + queued;
    }

    /** The host socket is writable: held data goes on, and the board hears when its window reopens. */
    void onWritable() throws IOException {
        if (toHost == null)
            return;
        if (toHost.writeTo(socket) > 0) {
            flow.touch();
            if (windowUpdateDue()) {
                ackNowNeeded = true;
                ackLater();
            }
        }
        if (toHost.isEmpty()) {
            flow.updateInterest();
            deliverFinIfDue();
        }
    }

    boolean wantsWrite() {
        return toHost != null && !toHost.isEmpty();
    }

    // ---- FIN --------------------------------------------------------------------

    void onFin(TcpHeader seg) throws IOException {
        if (finReceived || seg.seq() + seg.payloadLength() != rcvNxt)
            return; // not in order (yet): the board will retransmit it
        finArrived();
    }

    /** The board's FIN is next in order: acked at once, passed on once the data before it is. */
    private void finArrived() throws IOException {
        finReceived = true;
        rcvNxt++;
        ackNowNeeded = true;
        ackLater();
        deliverFinIfDue();
    }

    /** Once everything before the board's FIN reached the host, half-close the host socket. */
    void deliverFinIfDue() throws IOException {
        if (!finReceived || finDelivered || pending() != 0 || flow.state() == TcpFlow.State.CLOSED)
            return;
        socket.shutdownOutput();
        finDelivered = true;
        flow.onFinDelivered();
    }

    boolean finDelivered() {
        return finDelivered;
    }

    // ---- acks and window ----------------------------------------------------------

    /**
     * Acknowledges everything accepted, whether the host socket took it yet
     * or not, and the FIN: held data shows in the window instead, so a slow
     * host is a shrinking window to the board, never a loss it would repair
     * by retransmitting.
     */
    int ackNumber() {
        return rcvNxt;
    }

    /**
     * The window field of our next segment (unscaled in a SYN, RFC 7323).
     * Rounding to the scale may show the edge up to 2^shift - 1 bytes short
     * of what we offered (RFC 7323 appendix F); data up to the offer is
     * still taken.
     */
    int windowField(boolean syn) {
        if (syn) {
            int window = Math.min(capacity, 0xFFFF);
            rcvEdge = Seq.max(rcvEdge, rcvNxt + window); // before the board's SYN, rcvNxt means nothing yet
            return window;
        }
        advanceEdge();
        return Math.min(Seq.diff(rcvEdge, rcvNxt) >>> shift, 0xFFFF);
    }

    /**
     * After the host took held data: is the window worth telling the board
     * about now? When the offer is under half the capacity and the room at
     * least doubles it (as Linux's tcp_cleanup_rbuf), so a zero window
     * reopens without the board having to probe.
     */
    private boolean windowUpdateDue() {
        if (finReceived)
            return false; // the board sends nothing more
        long offered = Seq.diff(rcvEdge, rcvNxt);
        if (2 * offered > capacity)
            return false;
        long room = room();
        boolean sws = room >= capacity / 2 || room - offered >= Math.min(capacity / 2, mss);
        return sws && room >= 2 * offered && room > 0;
    }

    /** Accepted board bytes the host has not taken yet, and a FIN not yet passed on. */
    int heldForHost() {
        return pending() + (finReceived && !finDelivered ? 1 : 0);
    }

    private void ackLater() {
        if (!ackOwed) {
            ackOwed = true;
            ctx.ackLater(flow);
        }
    }

    boolean ackOwed() {
        return ackOwed;
    }

    /**
     * Less than two full segments of new data and nothing else to tell: the
     * ack may wait for a reply to carry it.
     */
    boolean ackMayWait(int mss) {
        return !ackNowNeeded && bytesSinceAck > 0 && bytesSinceAck < 2 * mss && pending() == 0
                && !holdsOutOfOrder();
    }

    /** A segment carrying our ack went out. */
    void ackSent() {
        ackOwed = false;
        bytesSinceAck = 0;
        ackNowNeeded = false;
    }

    void forgetAck() {
        ackOwed = false;
    }

    /** Up to three SACK blocks into {@code out}; 0 when nothing is held. */
    int sackBlocks(int[] out) {
        return holdsOutOfOrder() ? reassembly.sackBlocks(out) : 0;
    }

    void release() {
        if (reassembly != null)
            reassembly.clear();
        if (toHost != null)
            toHost.release();
        toHost = null;
    }
}
