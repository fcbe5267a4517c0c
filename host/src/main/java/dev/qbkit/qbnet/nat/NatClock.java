// The clock and timers of one board's NAT: the loop's clock less the time the
// board spent held (its link gone, doc/DESIGN.md "Connections survive an
// unplug"). While held the clock stands still and no NAT timer fires, so a
// flow's retransmission, persist, delayed-ack, idle and TIME_WAIT timers all
// carry on from where they were when the board comes back.
package dev.qbkit.qbnet.nat;

import dev.qbkit.qbnet.loop.EventLoop;
import dev.qbkit.qbnet.loop.Timer;
import dev.qbkit.qbnet.loop.TimerQueue;

public final class NatClock {
    /** The loop's clock and timer queue (EventLoop in the product, a manual one in tests). */
    public interface Base {
        long now();

        void schedule(Timer timer, long deadline);

        void cancel(Timer timer);
    }

    private final Base base;
    private final TimerQueue timers = new TimerQueue();
    /** Nanoseconds the board has been held, over all its holds so far. */
    private long heldTotal;
    private long heldSince;
    private boolean held;

    /** Drives the NAT's own queue from the loop's: one loop timer at the NAT's earliest deadline. */
    private final Timer driver = new Timer() {
        @Override
        protected void fire(long loopNow) {
            try {
                timers.runDue(now());
            } finally {
                arm();
            }
        }
    };

    public NatClock(Base base) {
        this.base = base;
    }

    /** A NAT clock on a board's loop. */
    public static NatClock on(EventLoop loop) {
        return new NatClock(new Base() {
            @Override
            public long now() {
                return loop.now();
            }

            @Override
            public void schedule(Timer timer, long deadline) {
                loop.schedule(timer, deadline);
            }

            @Override
            public void cancel(Timer timer) {
                loop.cancel(timer);
            }
        });
    }

    /** NAT time: stands still while the board is held. */
    public long now() {
        return (held ? heldSince : base.now()) - heldTotal;
    }

    /** Schedules {@code timer} at {@code deadline} in NAT time. */
    public void schedule(Timer timer, long deadline) {
        timers.schedule(timer, deadline);
        arm();
    }

    public void cancel(Timer timer) {
        timers.cancel(timer); // the driver may then fire early for nothing, and re-arms
    }

    /** The board's link is gone: time stops for its flows. */
    public void hold() {
        if (held)
            return;
        held = true;
        heldSince = base.now();
        base.cancel(driver);
    }

    /** The board is back: time runs again from where it stopped. */
    public void resume() {
        if (!held)
            return;
        heldTotal += base.now() - heldSince;
        held = false;
        arm();
    }

    public boolean isHeld() {
        return held;
    }

    /** Total time held so far, in nanoseconds (for logs and tests). */
    public long heldNanos() {
        return heldTotal + (held ? base.now() - heldSince : 0);
    }

    /** NAT timers armed (the queue holds only live ones since it became an indexed heap), for tests. */
    int filed() {
        return timers.size();
    }

    private void arm() {
        if (held)
            return;
        long next = timers.nextDeadline();
        if (next == Long.MAX_VALUE)
            return;
        long at = next + heldTotal;
        if (!driver.isArmed() || at - driver.deadline() < 0)
            base.schedule(driver, at);
    }
}
