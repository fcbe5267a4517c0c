// A one-shot deadline owned by a single object (a flow, a session). Moving a
// deadline is cheap: the queue keeps at most one live entry per timer and
// re-files it lazily when it fires early.
package dev.qbkit.qbnet.loop;

public abstract class Timer {
    static final long NONE = Long.MIN_VALUE;

    long deadline = NONE;
    long filedAt = NONE;

    /** Runs on the loop thread when the deadline has passed. */
    protected abstract void fire(long now);

    /**
     * fire() threw: limit the damage to what this timer's owner holds (a flow
     * resets itself). False when it cannot; the exception then reaches the
     * queue's caller (the loop's failure handler, or a test).
     */
    protected boolean contain(RuntimeException cause) {
        return false;
    }

    public final boolean isArmed() {
        return deadline != NONE;
    }

    public final long deadline() {
        return deadline;
    }
}
