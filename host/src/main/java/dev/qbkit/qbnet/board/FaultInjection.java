// Test-only loss on the link (`qbnet run --test-drop-frames RATE`): drops that
// fraction of IP frames in each direction at the host's edge of the link, as
// a lossy cable or a full queue would, to prove recovery. Control frames are
// never dropped. Seeded, so a failing run can be repeated.
package dev.qbkit.qbnet.board;

import java.util.SplittableRandom;

public final class FaultInjection {
    public static final FaultInjection NONE = new FaultInjection(0, 0);

    private final double rate;
    private final SplittableRandom random;

    public FaultInjection(double rate, long seed) {
        if (rate < 0 || rate >= 1)
            throw new IllegalArgumentException("drop rate " + rate + " must be in [0, 1)");
        this.rate = rate;
        this.random = new SplittableRandom(seed);
    }

    public boolean isActive() {
        return rate > 0;
    }

    /** Whether to drop the next IP frame (either direction). */
    public boolean drop() {
        return rate > 0 && random.nextDouble() < rate;
    }

    public double rate() {
        return rate;
    }
}
