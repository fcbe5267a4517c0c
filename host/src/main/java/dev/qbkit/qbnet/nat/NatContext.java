// What a flow needs from the board it belongs to: the clock and timers, the
// packet output, buffers, counters and settings, and the flow registry.
package dev.qbkit.qbnet.nat;

import dev.qbkit.qbnet.loop.Timer;

public interface NatContext {
    long now();

    void schedule(Timer timer, long deadline);

    void cancel(Timer timer);

    PacketOutput output();

    LinkWaiters linkWaiters();

    BufferPool buffers();

    Stats stats();

    NatConfig config();

    /** Identification field for the next IPv4 packet to the board. */
    int nextIpId();

    /**
     * Counts a per-board limit being hit and logs it, at most once every ten
     * seconds per limit, with what to change.
     */
    void limitHit(Counter counter, String message);

    /** Asks for {@code flow.flushAck()} at the end of this loop round. */
    void ackLater(TcpFlow flow);

    /** A flow has ended and released everything it held. */
    void flowClosed(TcpFlow flow);

    /** A flow has entered TIME_WAIT: it holds nothing but its table slot until its timer ends it. */
    void flowInTimeWait(TcpFlow flow);

    /**
     * A flow's event threw and the flow is being reset: counted as
     * {@link Counter#DROP_TCP_FLOW_FAILED}, logged with the stack at most once
     * every 10 s.
     */
    void flowFailed(FlowKey key, RuntimeException cause);
}
