// Where the NAT writes IP packets for the board: straight into the bundle
// that is being assembled for the link, so a packet is built in place once.
package dev.qbkit.qbnet.nat;

import java.nio.ByteBuffer;

public interface PacketOutput {
    /**
     * Reserves room for one IP packet of at most {@code maxLength} bytes.
     *
     * @return the absolute index in {@link #buffer()} to write the packet at
     */
    int begin(int maxLength);

    /** The buffer that {@link #begin} reserved room in. */
    ByteBuffer buffer();

    /** Ends the packet begun last, {@code length} bytes long. */
    void commit(int length);

    /**
     * Forgets the packet begun last if it was never committed, as if it had
     * never been begun: what a writer that failed half way leaves behind.
     */
    void abortPacket();

    /**
     * Like {@link #begin}, for a packet that carries an offload header
     * (PROTOCOL.md section 7): only when {@link #offload()} is true.
     */
    int beginOffload(int maxLength);

    /**
     * Ends a packet begun with {@link #beginOffload}: the board's kernel
     * completes the checksum at {@code csumStart + csumOffset} and, when
     * {@code gsoSize} > 0, cuts the TCP payload into {@code gsoSize} segments.
     */
    void commitOffload(int length, int gsoSize, int csumStart, int csumOffset);

    /** Whether both ends agreed on offload for this board. */
    boolean offload();

    /**
     * Whether the link is backed up. Flows stop sending new data while it is,
     * and are told through {@link LinkWaiters} when it drains; acks, resets
     * and retransmissions still go out.
     */
    boolean congested();
}
