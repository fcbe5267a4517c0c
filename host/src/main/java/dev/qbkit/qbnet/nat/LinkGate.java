// Stops reading a host socket while the link toward the board is congested:
// its read interest is dropped and it waits in LinkWaiters; when the link has
// room again (a loop event) the interest comes back and the selector reports
// it readable. The sender then meets the socket's own buffer, not our queue.
// What UDP mappings and UDP forwards use; TCP flows do the same their own way.
package dev.qbkit.qbnet.nat;

import java.nio.channels.SelectionKey;

public final class LinkGate implements LinkWaiters.Waiter {
    private final NatContext ctx;
    private SelectionKey key;

    public LinkGate(NatContext ctx) {
        this.ctx = ctx;
    }

    /** The socket's registration, whose read interest this gate turns off and on. */
    public void setKey(SelectionKey key) {
        this.key = key;
    }

    /**
     * Before each read: true when the link can take what is read; false when
     * it is congested, and then reading has stopped until it has room.
     */
    public boolean mayRead() {
        if (!ctx.output().congested())
            return true;
        if (key != null && key.isValid() && key.interestOps() != 0) {
            key.interestOps(0);
            ctx.stats().inc(Counter.UDP_READS_PAUSED);
        }
        ctx.linkWaiters().add(this);
        return false;
    }

    @Override
    public boolean resume() {
        if (key != null && key.isValid())
            key.interestOps(SelectionKey.OP_READ);
        return false;
    }

    @Override
    public void failed(RuntimeException cause) {
        // resume() only sets an interest: it fails only on a key that went away meanwhile, nothing to undo
    }
}
