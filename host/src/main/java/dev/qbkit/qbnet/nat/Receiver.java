// The receiving half of a flow (board to host), as gVisor's rcv.go: which board
// segments are acceptable, reassembly of data beyond a hole (SACK), delivery to
// the host socket with what it cannot take held, the ack number, the window we
// advertise, and when an ack is owed or may wait (delayed ack).
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
    private int shift;
    private int capacity; // offered beyond the ack point, constant once negotiated
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
    }

    /** Our window scale and the capacity offered, settled with the SYN options. */
    void negotiate(int windowShift, int window) {
        shift = windowShift;
        capacity = window;
    }

    int irs() {
        return irs;
    }

    int shift() {
        return shift;
    }

    // ---- acceptance (RFC 9293 3.10.7.4, first check) ------------------------

    boolean acceptable(TcpHeader seg) {
        int length = seg.segmentLength();
        long window = freeWindow();
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

    /** Bytes the board may still send beyond rcvNxt. */
    private long freeWindow() {
        return Math.max(0, (long) capacity - pending());
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
            int take = (int) Math.min(length, freeWindow() - Seq.diff(seq, rcvNxt));
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
        int take = (int) Math.min(length - skip, freeWindow());
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
                int accepted = deliver(ByteBuffer.wrap(p.data()), skip, (int) Math.min(rest, freeWindow()));
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

    /** The host socket is writable: held data goes on. */
    void onWritable() throws IOException {
        if (toHost == null)
            return;
        if (toHost.writeTo(socket) > 0) {
            flow.touch();
            ackNowNeeded = true; // the window opens and held data is acknowledged
            ackLater();
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
        if (finReceived || Seq.diff(seg.seq() + seg.payloadLength(), rcvNxt) != 0)
            return; // not in order (yet): the board will retransmit it
        finReceived = true;
        rcvNxt++;
        deliverFinIfDue();
        ackNowNeeded = true;
        ackLater();
    }

    /** Once everything before the board's FIN reached the host, half-close the host socket. */
    void deliverFinIfDue() throws IOException {
        if (!finReceived || finDelivered || pending() != 0 || flow.state() == TcpFlow.State.CLOSED)
            return;
        socket.shutdownOutput();
        finDelivered = true;
        ackNowNeeded = true;
        ackLater();
        flow.onFinDelivered();
    }

    boolean finDelivered() {
        return finDelivered;
    }

    // ---- acks and window ----------------------------------------------------------

    /** Acknowledges everything delivered, and the FIN once delivered. */
    int ackNumber() {
        return rcvNxt - pending() - (finReceived && !finDelivered ? 1 : 0);
    }

    /** The window field of our next segment (unscaled in a SYN, RFC 7323). */
    int windowField(boolean syn) {
        if (syn)
            return Math.min(capacity, 0xFFFF);
        return Math.min(capacity >>> shift, 0xFFFF);
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
