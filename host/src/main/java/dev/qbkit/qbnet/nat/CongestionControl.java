// How much a flow may have in flight toward the board beyond what the board's
// window allows: the congestion window, driven by the sender's loss events
// (as gVisor's congestionControl). NewReno is the one in use.
package dev.qbkit.qbnet.nat;

interface CongestionControl {
    /** The congestion window in bytes. */
    long window();

    /** {@code acked} bytes of new data were acknowledged outside recovery. */
    void onAck(int acked);

    /** Three duplicate acks: fast retransmit begins with {@code flightSize} bytes outstanding. */
    void onLossDetected(int flightSize);

    /** The recovery point was acknowledged: recovery ends. */
    void onRecoveryEnd();

    /** The retransmission timer expired with {@code flightSize} bytes outstanding. */
    void onTimeout(int flightSize);
}
