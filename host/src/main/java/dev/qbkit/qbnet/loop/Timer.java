// A one-shot deadline owned by a single object (a flow, a session). The timer
// is its own entry in the queue's heap and knows its place there, so moving
// or cancelling it is O(log n) and leaves nothing behind.
package dev.qbkit.qbnet.loop;

public abstract class Timer {
    static final long NONE = Long.MIN_VALUE;

    long deadline = NONE;
    /** Position in the queue's heap, -1 when not armed. */
    int index = -1;
    /** Tie-break: timers due at the same instant fire in the order they were scheduled. */
    long order;

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
        return index >= 0;
    }

    public final long deadline() {
        return deadline;
    }
}
