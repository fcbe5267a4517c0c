// Deadline queue for Timers, driven by whoever owns the clock (the event loop,
// or a test): a binary heap of the armed timers themselves, each knowing its
// index, so schedule, move and cancel are O(log n) and a cancelled timer (and
// the flow it belongs to) is out of the queue at once, not at its old deadline.
package dev.qbkit.qbnet.loop;

import java.util.Arrays;

public final class TimerQueue {
    private static final int MIN_CAPACITY = 64;

    private Timer[] heap = new Timer[MIN_CAPACITY];
    private int size;
    private long order;

    /** Arms {@code timer} for {@code deadline}, or moves it there if armed. */
    public void schedule(Timer timer, long deadline) {
        timer.deadline = deadline;
        timer.order = order++;
        if (timer.index < 0) {
            if (size == heap.length)
                heap = Arrays.copyOf(heap, size * 2);
            timer.index = size;
            heap[size++] = timer;
            siftUp(timer.index);
        } else {
            int at = timer.index;
            siftUp(at);
            if (timer.index == at)
                siftDown(at);
        }
    }

    public void cancel(Timer timer) {
        if (timer.index >= 0)
            removeAt(timer.index);
    }

    /** Earliest deadline, or Long.MAX_VALUE when no timer is armed. */
    public long nextDeadline() {
        return size == 0 ? Long.MAX_VALUE : heap[0].deadline;
    }

    /** Armed timers. */
    public int size() {
        return size;
    }

    /**
     * Fires every timer whose deadline is at or before {@code now}. A timer
     * that throws and cannot contain it ends the call with its exception;
     * the queue stays consistent, and the next call fires the rest.
     */
    public void runDue(long now) {
        while (size > 0 && heap[0].deadline - now <= 0) {
            Timer timer = heap[0];
            removeAt(0);
            try {
                timer.fire(now);
            } catch (RuntimeException failure) {
                if (!timer.contain(failure))
                    throw failure;
            }
        }
    }

    private void removeAt(int at) {
        Timer removed = heap[at];
        Timer last = heap[--size];
        heap[size] = null;
        removed.index = -1;
        removed.deadline = Timer.NONE;
        if (at < size) {
            heap[at] = last;
            last.index = at;
            siftUp(at);
            if (last.index == at)
                siftDown(at);
        }
        if (heap.length > MIN_CAPACITY && size < heap.length / 4)
            heap = Arrays.copyOf(heap, heap.length / 2);
    }

    private static boolean earlier(Timer a, Timer b) {
        return a.deadline != b.deadline ? a.deadline < b.deadline : a.order < b.order;
    }

    private void siftUp(int at) {
        Timer t = heap[at];
        while (at > 0) {
            int parent = (at - 1) >>> 1;
            Timer p = heap[parent];
            if (!earlier(t, p))
                break;
            heap[at] = p;
            p.index = at;
            at = parent;
        }
        heap[at] = t;
        t.index = at;
    }

    private void siftDown(int at) {
        Timer t = heap[at];
        int half = size >>> 1;
        while (at < half) {
            int child = 2 * at + 1;
            int right = child + 1;
            if (right < size && earlier(heap[right], heap[child]))
                child = right;
            if (!earlier(heap[child], t))
                break;
            heap[at] = heap[child];
            heap[at].index = at;
            at = child;
        }
        heap[at] = t;
        t.index = at;
    }
}
