// Flows that had data to send when the link was congested, in arrival order;
// they are resumed round-robin when the link drains, so none starves.
package dev.qbkit.qbnet.nat;

import java.util.ArrayDeque;

public final class LinkWaiters {
    /** Something that can send more when the link has room. */
    public interface Waiter {
        /** Returns true if it still has more to send after this turn. */
        boolean resume();

        boolean isWaiting();

        void setWaiting(boolean waiting);

        /** resume() threw: the waiter resets itself; the others go on. */
        void failed(RuntimeException cause);
    }

    private final ArrayDeque<Waiter> queue = new ArrayDeque<>();

    public void add(Waiter w) {
        if (!w.isWaiting()) {
            w.setWaiting(true);
            queue.add(w);
        }
    }

    /** Resumes waiters until the output is congested again. */
    public void drain(PacketOutput output) {
        int rounds = queue.size();
        while (rounds-- > 0 && !output.congested()) {
            Waiter w = queue.poll();
            if (w == null)
                return;
            w.setWaiting(false);
            try {
                w.resume();
            } catch (RuntimeException e) {
                w.failed(e);
            }
        }
    }

    public boolean isEmpty() {
        return queue.isEmpty();
    }
}
