// NewReno congestion control (RFC 5681, RFC 6582) for one flow toward the
// board: slow start and congestion avoidance on a 10-segment initial window
// (RFC 6928), halving on loss, one segment after a timeout.
package dev.qbkit.qbnet.nat;

final class NewReno implements CongestionControl {
    private final int mss;
    private long cwnd;
    private long ssthresh = Long.MAX_VALUE;

    NewReno(int mss) {
        this.mss = mss;
        this.cwnd = 10L * mss;
    }

    @Override
    public long window() {
        return cwnd;
    }

    @Override
    public void onAck(int acked) {
        if (cwnd < ssthresh)
            cwnd += acked;
        else
            cwnd += Math.max(1, (long) mss * acked / cwnd);
    }

    @Override
    public void onLossDetected(int flightSize) {
        ssthresh = halve(flightSize);
        cwnd = ssthresh;
    }

    @Override
    public void onRecoveryEnd() {
        cwnd = ssthresh;
    }

    @Override
    public void onTimeout(int flightSize) {
        ssthresh = halve(flightSize);
        cwnd = mss;
    }

    private long halve(int flightSize) {
        return Math.max(flightSize / 2, 2L * mss);
    }
}
