// A transport that carries bundles to and from one board: the Unix stream
// socket now, USB bulk endpoints next. The board session sees only this.
package dev.qbkit.qbnet.link;

import java.io.IOException;
import java.nio.ByteBuffer;

import dev.qbkit.qbnet.loop.EventLoop;

public interface Link {
    /**
     * Room past a link's hard limit that only bundles carrying a control
     * message may use: eight whole bundles, more than the KEEPALIVEs of the
     * 5 s after which a silent board's session closes, even if each rides a
     * full bundle of data.
     */
    long CONTROL_RESERVE = 8L * Bundles.ABSOLUTE_MAX;

    /**
     * Events of one link, delivered on the board's loop thread. Events that
     * may make the handler write (onBundle, onWritable) are only ever
     * delivered from the loop itself (a ready channel or a task), never from
     * inside {@link #send} or {@link #close}: a send happens in the middle of
     * building a packet, and a nested write would land in the same bundle
     * (doc/DESIGN.md, "No re-entrant writes"). onSent and onClosed may come
     * from inside send(); handlers must not write from them.
     */
    interface Handler {
        /** One received bundle at {@code buf[offset, offset+length)}, valid only during the call. */
        void onBundle(ByteBuffer buf, int offset, int length);

        /** A bundle given to {@link #send} was written; its buffer may be reused. Must not write. */
        void onSent(ByteBuffer bundle);

        /** The link was congested and has room again: a loop task of its own ({@link Writability}). */
        void onWritable();

        /** The link is gone; nothing more will be delivered. Must not write. */
        void onClosed(String reason);

        /** A received bundle had a bad header (counted by the session). */
        void onBadBundle(BundleDrop reason);
    }

    void start(Handler handler) throws IOException;

    /**
     * Queues a finished bundle for sending and takes its buffer until
     * {@link Handler#onSent}. Returns false when the link is closed or over
     * its hard queue limit; the caller keeps the buffer then.
     */
    boolean send(ByteBuffer bundle);

    /**
     * Like {@link #send}, for a bundle that carries a control message (doc/DESIGN.md,
     * "Control messages are never dropped for data"): a link with a hard limit takes
     * it past that limit, into a reserve data cannot use. Returns false only when the
     * link is closed or the reserve is gone too.
     */
    default boolean sendPriority(ByteBuffer bundle) {
        return send(bundle);
    }

    /** Past the soft queue limit: producers should hold new data. */
    boolean congested();

    /** The largest bundle this side accepts (its HELLO MAX_BUNDLE). */
    int maxReceiveBundle();

    void close(String reason);

    /** How the link is attached, for logs: "unix:/run/qbnet.sock", "usb 1-2". */
    String description();

    /**
     * Hands this link's transport to another loop (a board that is held
     * there, doc/DESIGN.md "Connections survive an unplug"): this link stops
     * at once, delivering nothing more and reporting no close, and the
     * returned link carries on on {@code loop} from the same place: bytes
     * already read and bundles queued for sending go with it. Call on this
     * link's loop (from inside onBundle is fine: the rest of the read stays
     * for the new link); start the returned link on {@code loop} only from a
     * task posted after the current one. Null when this kind of link cannot
     * move (it is then unchanged).
     */
    default Link moveTo(EventLoop loop) {
        return null;
    }
}
