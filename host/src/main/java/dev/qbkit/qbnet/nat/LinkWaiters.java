// Flows that had data to send when the link was congested, in arrival order;
// they are resumed round-robin when the link drains, so none starves. Each
// waiter is queued at most once; the queue itself knows who is in it.
package dev.qbkit.qbnet.nat;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

public final class LinkWaiters {
    /** Something that can send more when the link has room. */
    public interface Waiter {
        /** Returns true if it still has more to send after this turn. */
        boolean resume();

        /** resume() threw: the waiter resets itself; the others go on. */
        void failed(RuntimeException cause);
    }

    private final ArrayDeque<Waiter> queue = new ArrayDeque<>();
    private final Set<Waiter> queued = Collections.newSetFromMap(new IdentityHashMap<>());

    public void add(Waiter w) {
        if (queued.add(w))
            queue.add(w);
    }

    public boolean contains(Waiter w) {
        return queued.contains(w);
    }

    /** Resumes waiters until the output is congested again. */
    public void drain(PacketOutput output) {
        int rounds = queue.size();
        while (rounds-- > 0 && !output.congested()) {
            Waiter w = queue.poll();
            if (w == null)
                return;
            queued.remove(w);
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
