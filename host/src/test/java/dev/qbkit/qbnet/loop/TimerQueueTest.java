// The timer queue's contract: deadline order (first scheduled first on a
// tie), moves in both directions, cancel that leaves nothing behind, and a
// timer that re-arms itself while it fires.
package dev.qbkit.qbnet.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class TimerQueueTest {
    final TimerQueue queue = new TimerQueue();
    final List<String> fired = new ArrayList<>();

    Timer named(String name) {
        return new Timer() {
            @Override
            protected void fire(long now) {
                fired.add(name + "@" + now);
            }
        };
    }

    @Test
    void timersFireInDeadlineOrderAndTiesInScheduleOrder() {
        Timer a = named("a"), b = named("b"), c = named("c"), d = named("d");
        queue.schedule(c, 30);
        queue.schedule(a, 10);
        queue.schedule(d, 30);
        queue.schedule(b, 20);
        assertEquals(10, queue.nextDeadline());
        queue.runDue(25);
        assertEquals(List.of("a@25", "b@25"), fired);
        queue.runDue(30);
        assertEquals(List.of("a@25", "b@25", "c@30", "d@30"), fired);
        assertEquals(Long.MAX_VALUE, queue.nextDeadline());
        assertFalse(a.isArmed());
    }

    @Test
    void movingADeadlineKeepsOneEntry() {
        Timer a = named("a"), b = named("b");
        queue.schedule(b, 50);
        queue.schedule(a, 100);
        queue.schedule(a, 10);
        queue.schedule(a, 200);
        queue.schedule(a, 40);
        assertEquals(2, queue.size());
        assertEquals(40, a.deadline());
        queue.runDue(45);
        assertEquals(List.of("a@45"), fired);
        queue.runDue(1000);
        assertEquals(List.of("a@45", "b@1000"), fired);
        assertEquals(0, queue.size());
    }

    @Test
    void cancelLeavesNothingFiled() {
        List<Timer> timers = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Timer t = named("t" + i);
            timers.add(t);
            queue.schedule(t, 1_000_000 + i);
        }
        for (int i = 0; i < 1000; i += 2)
            queue.cancel(timers.get(i));
        assertEquals(500, queue.size());
        for (int i = 1; i < 1000; i += 2)
            queue.cancel(timers.get(i));
        assertEquals(0, queue.size());
        assertEquals(Long.MAX_VALUE, queue.nextDeadline());
        queue.cancel(timers.get(0)); // cancelling twice is harmless
        queue.runDue(Long.MAX_VALUE / 2);
        assertTrue(fired.isEmpty());
    }

    @Test
    void aCancelledTimerCanBeScheduledAgain() {
        Timer a = named("a");
        queue.schedule(a, 10);
        queue.cancel(a);
        assertFalse(a.isArmed());
        queue.schedule(a, 20);
        queue.runDue(15);
        assertTrue(fired.isEmpty());
        queue.runDue(20);
        assertEquals(List.of("a@20"), fired);
    }

    @Test
    void aTimerMayRearmItselfAndOthersWhileFiring() {
        Timer other = named("other");
        Timer self = new Timer() {
            int runs;

            @Override
            protected void fire(long now) {
                fired.add("self@" + now);
                if (++runs < 3)
                    queue.schedule(this, now + 5);
                queue.cancel(other);
            }
        };
        queue.schedule(self, 5);
        queue.schedule(other, 12);
        queue.runDue(100);
        assertEquals(List.of("self@100"), fired, "re-armed for 105: not due in this call");
        queue.runDue(105);
        assertEquals(List.of("self@100", "self@105"), fired);
        assertEquals(1, queue.size());
    }

    @Test
    void aTimerThatThrowsWithoutContainingItEndsTheCallAndTheRestFireNextTime() {
        Timer bad = new Timer() {
            @Override
            protected void fire(long now) {
                throw new IllegalStateException("a bug");
            }
        };
        Timer good = named("good");
        queue.schedule(bad, 1);
        queue.schedule(good, 2);
        assertThrows(IllegalStateException.class, () -> queue.runDue(10));
        assertFalse(bad.isArmed());
        queue.runDue(10);
        assertEquals(List.of("good@10"), fired);
    }
}
