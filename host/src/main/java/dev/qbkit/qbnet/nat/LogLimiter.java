// Rate limit for the log lines a board's input or a fault can cause (bad control
// messages, errors it reports, HELLO churn): per kind, one line every 10 s,
// the next one saying how many were left out. Used on the board's loop thread.
package dev.qbkit.qbnet.nat;

import java.util.HashMap;
import java.util.Map;

public final class LogLimiter {
    public static final long INTERVAL_NANOS = 10_000_000_000L;

    private static final class Kind {
        long loggedAt;
        long skipped;
    }

    private final Map<String, Kind> kinds = new HashMap<>();

    /**
     * Whether a line of {@code kind} may be logged at {@code now}.
     *
     * @return -1 to leave it out, else how many of its kind were left out since the last line
     */
    public long allow(String kind, long now) {
        Kind k = kinds.get(kind);
        if (k == null) {
            k = new Kind();
            k.loggedAt = now;
            kinds.put(kind, k);
            return 0;
        }
        if (now - k.loggedAt < INTERVAL_NANOS) {
            k.skipped++;
            return -1;
        }
        long skipped = k.skipped;
        k.loggedAt = now;
        k.skipped = 0;
        return skipped;
    }

    /** The note to append to a line that {@link #allow} let through after leaving {@code skipped} out. */
    public static String note(long skipped) {
        return skipped > 0 ? " (" + skipped + " more like it in the last 10 s not logged)" : "";
    }
}
