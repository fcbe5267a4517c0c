// Deadline queue for Timers, driven by whoever owns the clock (the event loop,
// or a test). Rescheduling never searches the heap: an entry that fires for a
// deadline that moved later is filed again, an earlier deadline adds an entry.
package dev.qbkit.qbnet.loop;

import java.util.PriorityQueue;

public final class TimerQueue {
    private record Entry(long at, long order, Timer timer) {
    }

    private final PriorityQueue<Entry> heap = new PriorityQueue<>(
            (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.order, b.order));
    private long order;

    public void schedule(Timer timer, long deadline) {
        timer.deadline = deadline;
        if (timer.filedAt == Timer.NONE || deadline < timer.filedAt)
            file(timer, deadline);
    }

    public void cancel(Timer timer) {
        timer.deadline = Timer.NONE;
    }

    private void file(Timer timer, long at) {
        timer.filedAt = at;
        heap.add(new Entry(at, order++, timer));
    }

    /** Earliest filed deadline, or Long.MAX_VALUE when none. */
    public long nextDeadline() {
        Entry first = heap.peek();
        return first == null ? Long.MAX_VALUE : first.at;
    }

    public int size() {
        return heap.size();
    }

    /**
     * Fires every timer whose deadline is at or before {@code now}. A timer
     * that throws and cannot contain it ends the call with its exception;
     * the queue stays consistent, and the next call fires the rest.
     */
    public void runDue(long now) {
        Entry e;
        while ((e = heap.peek()) != null && e.at - now <= 0) {
            heap.poll();
            Timer timer = e.timer;
            if (timer.filedAt != e.at)
                continue; // superseded by an earlier entry
            timer.filedAt = Timer.NONE;
            if (timer.deadline == Timer.NONE)
                continue;
            if (timer.deadline - now > 0) {
                file(timer, timer.deadline);
                continue;
            }
            timer.deadline = Timer.NONE;
            try {
                timer.fire(now);
            } catch (RuntimeException failure) {
                if (!timer.contain(failure))
                    throw failure;
            }
        }
    }
}
