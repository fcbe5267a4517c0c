// The retransmission timeout of one flow toward the board (RFC 6298): smoothed
// RTT and variance from one timed segment at a time, never a retransmitted one
// (Karn's rule), and the exponential backoff after a timeout.
package dev.qbkit.qbnet.nat;

final class RttEstimator {
    static final long MIN_RTO = 200_000_000L;
    static final long INITIAL_RTO = 1_000_000_000L;
    static final long MAX_RTO = 60_000_000_000L;
    /** Clock granularity G of RFC 6298: the loop's timers are good to a millisecond. */
    private static final long GRANULARITY = 1_000_000L;

    private long srtt = -1;
    private long rttvar;
    private long rto = INITIAL_RTO;
    private boolean timing;
    private int timedSeq;
    private long timedAt;

    long rto() {
        return rto;
    }

    /** Times the segment that ends at {@code end} unless one is being timed already. */
    void startTiming(int end, long now) {
        if (timing)
            return;
        timing = true;
        timedSeq = end;
        timedAt = now;
    }

    /** Karn's rule: a retransmission makes the timed segment's ack ambiguous. */
    void cancelTiming() {
        timing = false;
    }

    /** A cumulative ack: takes a sample when it covers the timed segment. */
    void onAck(int ack, long now) {
        if (timing && Seq.atOrAfter(ack, timedSeq)) {
            timing = false;
            sample(now - timedAt);
        }
    }

    /** RFC 6298 5.5: the timer expired; the RTO doubles up to its maximum. */
    void backOff() {
        rto = Math.min(rto * 2, MAX_RTO);
    }

    private void sample(long measured) {
        long r = Math.max(measured, 1);
        if (srtt < 0) {
            srtt = r;
            rttvar = r / 2;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - r)) / 4;
            srtt = (7 * srtt + r) / 8;
        }
        rto = Math.clamp(srtt + Math.max(GRANULARITY, 4 * rttvar), MIN_RTO, MAX_RTO);
    }
}
