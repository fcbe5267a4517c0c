// The one transmission timer of a flow and what it waits for, as smoltcp's
// Timer: a retransmission, a zero-window probe (persist, with its own interval
// and count of unanswered probes), or the end of TIME_WAIT. Switching mode
// replaces the deadline, so no mode ever runs on another's stale deadline.
package dev.qbkit.qbnet.nat;

import dev.qbkit.qbnet.loop.Timer;

final class TcpTimer extends Timer {
    enum Mode {
        IDLE,
        RETRANSMIT,
        PERSIST,
        TIME_WAIT
    }

    /** The flow: what runs when the timer fires, and what a failure resets. */
    interface Owner {
        void onRetransmitTimeout();

        void onPersistTimeout();

        void onTimeWaitEnd();

        void failed(RuntimeException cause);
    }

    private final NatContext ctx;
    private final Owner owner;
    private Mode mode = Mode.IDLE;
    private long persistInterval;
    private int probes;

    TcpTimer(NatContext ctx, Owner owner) {
        this.ctx = ctx;
        this.owner = owner;
    }

    Mode mode() {
        return mode;
    }

    void retransmitAfter(long delay) {
        arm(Mode.RETRANSMIT, delay);
    }

    /** Enters persist: the first probe goes after {@code interval}. */
    void persist(long interval) {
        persistInterval = interval;
        probes = 0;
        arm(Mode.PERSIST, interval);
    }

    /** A probe went out: the next waits twice as long, up to {@code max}. */
    void probeSent(long max) {
        probes++;
        persistInterval = Math.min(persistInterval * 2, max);
        arm(Mode.PERSIST, persistInterval);
    }

    /** The board answered: it is alive, however long its window stays shut. */
    void probeAnswered() {
        probes = 0;
    }

    /** Probes sent since the board last answered. */
    int unansweredProbes() {
        return probes;
    }

    void timeWait(long delay) {
        arm(Mode.TIME_WAIT, delay);
    }

    void stop() {
        mode = Mode.IDLE;
        ctx.cancel(this);
    }

    private void arm(Mode m, long delay) {
        mode = m;
        ctx.schedule(this, ctx.now() + delay);
    }

    @Override
    protected void fire(long now) {
        Mode fired = mode;
        mode = Mode.IDLE;
        switch (fired) {
            case RETRANSMIT -> owner.onRetransmitTimeout();
            case PERSIST -> owner.onPersistTimeout();
            case TIME_WAIT -> owner.onTimeWaitEnd();
            case IDLE -> {
            }
        }
    }

    /** What fire() throws resets the flow, not the board's loop. */
    @Override
    protected boolean contain(RuntimeException cause) {
        owner.failed(cause);
        return true;
    }
}
