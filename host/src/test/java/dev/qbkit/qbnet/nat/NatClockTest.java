// The NAT's clock while a board is held: it stands still, no NAT timer fires
// however long the hold, and after it timers keep the time they had left.
package dev.qbkit.qbnet.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.qbkit.qbnet.loop.Timer;
import dev.qbkit.qbnet.loop.TimerQueue;

class NatClockTest {
    static final long MS = 1_000_000L;

    /** The loop's side: a manual clock and a timer queue, as EventLoop has. */
    static final class ManualLoop implements NatClock.Base {
        long now = 5_000 * MS;
        final TimerQueue queue = new TimerQueue();

        @Override
        public long now() {
            return now;
        }

        @Override
        public void schedule(Timer timer, long deadline) {
            queue.schedule(timer, deadline);
        }

        @Override
        public void cancel(Timer timer) {
            queue.cancel(timer);
        }

        void advance(long nanos) {
            long end = now + nanos;
            while (now < end) { // in 1 ms steps, as loop rounds would
                now = Math.min(end, now + MS);
                queue.runDue(now);
            }
        }
    }

    static final class Recorder extends Timer {
        final List<Long> firedAt = new ArrayList<>();
        final NatClock clock;

        Recorder(NatClock clock) {
            this.clock = clock;
        }

        @Override
        protected void fire(long now) {
            firedAt.add(clock.now());
        }
    }

    @Test
    void timersFireOnTimeWhenNothingIsHeld() {
        ManualLoop loop = new ManualLoop();
        NatClock clock = new NatClock(loop);
        Recorder rto = new Recorder(clock);
        long start = clock.now();
        clock.schedule(rto, start + 200 * MS);
        loop.advance(199 * MS);
        assertEquals(List.of(), rto.firedAt);
        loop.advance(1 * MS);
        assertEquals(List.of(start + 200 * MS), rto.firedAt);
    }

    @Test
    void aHoldStopsTheClockAndNoTimerFiresHoweverLongItLasts() {
        ManualLoop loop = new ManualLoop();
        NatClock clock = new NatClock(loop);
        Recorder rto = new Recorder(clock);
        Recorder idle = new Recorder(clock);
        long start = clock.now();
        clock.schedule(rto, start + 200 * MS);
        clock.schedule(idle, start + 7_440_000 * MS); // the 2 h 4 min established idle timeout
        loop.advance(50 * MS);
        clock.hold();
        long frozen = clock.now();
        loop.advance(3 * 3_600_000 * MS); // three hours held: longer than every timer
        assertEquals(frozen, clock.now(), "the NAT's clock stood still");
        assertEquals(List.of(), rto.firedAt);
        assertEquals(List.of(), idle.firedAt);
        // A flow touched while held (a host socket readable) reschedules in NAT time: still nothing fires.
        clock.schedule(rto, clock.now() + 200 * MS);
        loop.advance(1_000 * MS);
        assertEquals(List.of(), rto.firedAt);

        clock.resume();
        assertEquals(frozen, clock.now(), "time goes on from where it stopped");
        loop.advance(199 * MS);
        assertEquals(List.of(), rto.firedAt, "the retransmission keeps the 200 ms it had left, no more, no less");
        loop.advance(1 * MS);
        assertEquals(List.of(frozen + 200 * MS), rto.firedAt);
        assertEquals(3 * 3_600_000 * MS + 1_000 * MS, clock.heldNanos());
        assertTrue(idle.isArmed(), "the idle timeout is still ahead");
        assertEquals(start + 7_440_000 * MS, idle.deadline(), "at the NAT time it had");
    }

    @Test
    void holdsAddUpAndTimersSetWhileHeldCountFromTheFrozenTime() {
        ManualLoop loop = new ManualLoop();
        NatClock clock = new NatClock(loop);
        Recorder t = new Recorder(clock);
        for (int i = 0; i < 3; i++) {
            clock.hold();
            loop.advance(5_000 * MS);
            clock.resume();
            loop.advance(10 * MS);
        }
        assertEquals(15_000 * MS, clock.heldNanos());
        long at = clock.now() + 30 * MS;
        clock.schedule(t, at);
        loop.advance(30 * MS);
        assertEquals(List.of(at), t.firedAt);
        assertTrue(clock.now() - at >= 0);
    }

    @Test
    void cancelledTimersDoNotFireAndTheQueueDrains() {
        ManualLoop loop = new ManualLoop();
        NatClock clock = new NatClock(loop);
        Recorder t = new Recorder(clock);
        clock.schedule(t, clock.now() + 10 * MS);
        clock.cancel(t);
        loop.advance(20 * MS);
        assertEquals(List.of(), t.firedAt);
        assertEquals(0, clock.filed());
        assertEquals(0, loop.queue.size(), "the driver is not re-armed with nothing to run");
    }

    @Test
    void anEarlierDeadlineMovesTheDriverForward() {
        ManualLoop loop = new ManualLoop();
        NatClock clock = new NatClock(loop);
        Recorder late = new Recorder(clock);
        Recorder early = new Recorder(clock);
        long start = clock.now();
        clock.schedule(late, start + 1_000 * MS);
        clock.schedule(early, start + 1 * MS);
        loop.advance(1 * MS);
        assertEquals(List.of(start + 1 * MS), early.firedAt);
        assertEquals(List.of(), late.firedAt);
    }
}
