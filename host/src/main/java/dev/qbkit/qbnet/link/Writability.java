// A link's "room again" event: noted when producers find the link congested,
// delivered to the handler as a loop task once the queue has drained, never
// from inside the send() or write that freed the room (Netty's rule).
package dev.qbkit.qbnet.link;

import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;

public final class Writability {
    private final Executor loop;
    private final BooleanSupplier overSoftLimit;
    private final BooleanSupplier closed;
    private Link.Handler handler;
    private boolean wasCongested;
    private boolean posted;

    /**
     * @param loop          the board's loop: the event runs there as a task of its own
     * @param overSoftLimit whether the link's queue is past its soft limit now
     * @param closed        whether the link has closed (no event then)
     */
    public Writability(Executor loop, BooleanSupplier overSoftLimit, BooleanSupplier closed) {
        this.loop = loop;
        this.overSoftLimit = overSoftLimit;
        this.closed = closed;
    }

    public void start(Link.Handler h) {
        this.handler = h;
    }

    /** Link.congested(): producers asked and were told to hold; they are owed the event. */
    public boolean congested() {
        boolean congested = overSoftLimit.getAsBoolean();
        if (congested)
            wasCongested = true;
        return congested;
    }

    /** The queue shrank: if a producer is owed the event and room is back, post it. */
    public void queueShrank() {
        if (wasCongested && !posted && !overSoftLimit.getAsBoolean()) {
            posted = true;
            loop.execute(this::deliver);
        }
    }

    private void deliver() {
        posted = false;
        if (closed.getAsBoolean() || !wasCongested)
            return;
        if (overSoftLimit.getAsBoolean())
            return; // congested again meanwhile: the next shrink posts it
        wasCongested = false;
        handler.onWritable();
    }
}
